"""OTLP receiver and /metrics benchmarks (issues 16 and 22). Every figure is measured in this
run; targets in brackets, MISSED where one is not met.

The receiver runs as in the app: the ``otel`` source with burntray's history (SQLite) and the
real monitor thread, woken by the exports (at most every 5 ms: a burst is one poll). One client
(keep-alive, like the SDK exporters) posts OTLP log requests of 10 ``claude_code.api_request``
events each.

After saturation (issue 22): the receiver's p99 with SQLite's WAL checkpoints done inside the
writer's commits (as before) and on the history's background checkpointer (as the app runs
now), alternating in one run.

Label cardinality (issue 22): a real ``burntray serve --otlp`` process gets 5,000 distinct model
names in 8 exports; /metrics is then scraped, and the process's memory read from /proc. It runs
twice side by side: with the receiver's bound (``otel.max_models``, 100) and with the bound out of
the way (10,000), which is how burntray behaved before it.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from burntray.config import Settings
from burntray.model.pricing import build_price_table
from burntray.model.snapshot import Snapshot, SourceStatus, Totals, UsageRow
from burntray.runtime.monitor import Monitor
from burntray.serve.figures import Figures, FiguresBoard
from burntray.serve.http import FiguresServer
from burntray.serve.run import FiguresPublisher
from burntray.sources.otel.source import OtelSource
from burntray.store.history import HistoryStore
from loopback import add_event, claude_code_export, claude_code_logs, free_port, http_get
from target import missed, percentile

S = 10**9
EVENTS_PER_REQUEST = 10
RSS_N = 100_000


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Rig:
    """The otel source + history + monitor, with an observer noting each published total."""

    def __init__(self, folder: Path, serve: bool = False, checkpointer: bool = True) -> None:
        self.history = HistoryStore(folder / "history.sqlite3")
        if checkpointer:  # as the long-running app does (its session starts it)
            self.history.start_checkpointer()
        self.writes: list[float] = []  # seconds in each history transaction, commit included
        self.history.transaction = self._timed(self.history.transaction)  # type: ignore[method-assign]
        self.source = OtelSource("127.0.0.1:0", build_price_table({}), self.history)
        settings = Settings(window="1h", poll_interval_s=5.0)
        self.monitor = Monitor(settings, lambda _s: self.source, history=None)
        self.ctx = None
        if serve:  # as `burntray serve` runs it: every tick publishes the figures first
            from burntray.app import AppContext

            self.ctx = AppContext.load(strict=False)
            board = FiguresBoard(time.time_ns())
            self.monitor.enrichers.append(FiguresPublisher(self.ctx, settings, board))
        self.published: list[tuple[float, int]] = []
        self._lock = threading.Lock()
        self.monitor.observers.append(self._seen)
        self.monitor.start()
        deadline = time.monotonic() + 10
        while self.source.receiver is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.source.receiver is not None, self.source.status
        self.conn = http.client.HTTPConnection("127.0.0.1", self.source.receiver.port, timeout=10)

    def _timed(
        self, transaction: Callable[[], AbstractContextManager[object]]
    ) -> Callable[[], AbstractContextManager[object]]:
        """The store's own transaction, timed: where a checkpoint in a commit would show."""

        @contextmanager
        def timed() -> Iterator[object]:
            t = time.perf_counter()
            with transaction() as conn:
                yield conn
            self.writes.append(time.perf_counter() - t)

        return timed

    def _seen(self, snap: Snapshot) -> None:
        with self._lock:
            self.published.append((time.perf_counter(), snap.totals.reqs))

    def post(self, body: bytes) -> None:
        self.conn.request("POST", "/v1/logs", body, {"Content-Type": "application/x-protobuf"})
        resp = self.conn.getresponse()
        resp.read()
        assert resp.status == 200, resp.status

    def close(self) -> None:
        self.conn.close()
        self.monitor.stop(5)
        if self.ctx is not None:
            self.ctx.close()
        self.history.close()


def _latencies(sent: list[tuple[float, int]], published: list[tuple[float, int]]) -> list[float]:
    """For each request (time sent, total requests once counted): the first snapshot with it."""
    out, k = [], 0
    for t0, needed in sent:
        while k < len(published) and (published[k][1] < needed or published[k][0] < t0):
            k += 1
        if k == len(published):
            break
        out.append(published[k][0] - t0)
    return out


def _paced(rig: Rig, pace: float, seconds: float, base: int) -> tuple[float, float, int]:
    """Post at ``pace`` requests/s; (p50, p99) request -> published snapshot, in ms."""
    time.sleep(0.5)
    with rig._lock:
        counted = rig.published[-1][1] if rig.published else 0
    sent: list[tuple[float, int]] = []
    t_start = time.perf_counter()
    for i in range(int(pace * seconds)):
        due = t_start + i / pace
        while (now := time.perf_counter()) < due:
            time.sleep(max(0.0, min(due - now, 0.0005)))
        t0 = time.perf_counter()
        rig.post(claude_code_export(base + i, EVENTS_PER_REQUEST))
        counted += EVENTS_PER_REQUEST
        sent.append((t0, counted))
    time.sleep(1.0)
    with rig._lock:
        published = list(rig.published)
    lat = sorted(_latencies(sent, published))
    return lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99) - 1] * 1000, len(sent)


def bench_receiver() -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        rig = Rig(Path(tmp))
        try:
            base = 0
            # 1. latency on a fresh history, at a pace one client's tools could produce
            for pace in (100.0, 500.0):
                p50, p99, n = _paced(rig, pace, 3.0, base)
                base += n
                rows.append(
                    (
                        f"OTLP request -> snapshot at {pace:,.0f}/s: p50 / p99 [p99 <= 20 ms]",
                        f"{p50:.1f} / {p99:.1f} ms" + ("" if p99 <= 20 else "  MISSED"),
                    )
                )
            # 2. throughput: one client, as fast as it can, for ~5 s
            bodies = [claude_code_export(base + i, EVENTS_PER_REQUEST) for i in range(20_000)]
            n, started = 0, time.perf_counter()
            while time.perf_counter() - started < 5 and n < len(bodies):
                rig.post(bodies[n])
                n += 1
            elapsed = time.perf_counter() - started
            base += len(bodies)
            del bodies
            rate = n / elapsed
            rows.append(
                (
                    f"OTLP log requests/s, {EVENTS_PER_REQUEST} events each [>= 2000]",
                    f"{rate:,.0f}" + ("" if rate >= 2000 else "  MISSED"),
                )
            )
            p50, p99, n = _paced(rig, min(2000.0, rate * 0.8), 3.0, base)
            base += n
            rows.append(
                (
                    f"  ... p50 / p99 at {min(2000.0, rate * 0.8):,.0f}/s after that [<= 20 ms]",
                    f"{p50:.1f} / {p99:.1f} ms" + ("" if p99 <= 20 else "  MISSED"),
                )
            )
            # 3. memory: RSS growth over 100,000 requests (after a warm-up)
            for i in range(20_000):
                rig.post(claude_code_export(base + i, EVENTS_PER_REQUEST))
            base += 20_000
            time.sleep(1.0)
            rss0 = _rss_kib()
            t = time.perf_counter()
            for i in range(RSS_N):
                rig.post(claude_code_export(base + i, EVENTS_PER_REQUEST))
            base += RSS_N
            took = time.perf_counter() - t
            time.sleep(1.0)
            grown = (_rss_kib() - rss0) / 1024
            rows.append(
                (
                    f"RSS growth over {RSS_N:,} requests [<= 10 MB]",
                    f"{grown:.1f} MB ({RSS_N / took:,.0f} req/s incl. building bodies)"
                    + ("" if grown <= 10 else "  MISSED"),
                )
            )
            snap = rig.source.snapshot(3600 * S)
            rows.append(("requests counted (check: all of them)", f"{snap.totals.reqs:,}"))
        finally:
            rig.close()
    rows.append(("load average while measuring (2 shared cores)", _load()))
    return rows


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def _figures(n_rows: int) -> Figures:
    rows = tuple(
        UsageRow(
            provider="anthropic" if i % 2 else "openai",
            model=f"model-{i}",
            reqs=10 * i,
            sent=0,
            recv=0,
            tokens=1000 * i,
            cost_usd=0.5 * i,
            unpriced_reqs=0,
            input_tokens=100 * i,
            output_tokens=200 * i,
            cache_read_tokens=600 * i,
            cache_write_tokens=100 * i,
        )
        for i in range(n_rows)
    )
    snap = Snapshot(
        source="all",
        window_ns=3600 * S,
        as_of_ns=time.time_ns(),
        status=SourceStatus("ok"),
        totals=Totals(reqs=1000, rpm=16.7, tokens=10**6, cost_usd=12.5),
        by_model=rows,
    )
    return Figures(snap, snap, {})


def bench_scrape() -> list[tuple[str, str]]:
    board = FiguresBoard(time.time_ns())
    board.put(_figures(28))  # 28 models x 7 counter series + 9 gauges ~ 200 series
    server = FiguresServer("127.0.0.1", 0, board)
    server.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        times = []
        series = 0
        for _ in range(300):
            t = time.perf_counter()
            conn.request("GET", "/metrics")
            resp = conn.getresponse()
            body = resp.read()
            times.append(time.perf_counter() - t)
        series = sum(1 for line in body.decode().splitlines() if line and line[0] != "#")
        conn.close()
    finally:
        server.close()
    median = statistics.median(times) * 1000
    return [
        (
            f"/metrics scrape, {series} series: median [<= 5 ms]",
            f"{median:.2f} ms" + ("" if median <= 5 else "  MISSED"),
        )
    ]


CARD_MODELS = 5_000
CARD_EXPORTS = 8
TARGET_SCRAPE_MS = 50.0
TARGET_GROWTH_MB = 20.0


def _card_body(export: int) -> bytes:
    """One export of 625 Claude Code request events, each with a model name of its own."""
    per = CARD_MODELS // CARD_EXPORTS
    req, scope = claude_code_logs()
    now = time.time_ns()
    for i in range(export * per, (export + 1) * per):
        attributes = (
            ("session.id", f"s{i % 7}"),
            ("model", f"made-up-model-{i}"),
            ("cost_usd", "0.01"),
            ("input_tokens", "10"),
            ("output_tokens", "5"),
            ("request_id", f"card_{i}"),
        )
        add_event(scope, "claude_code.api_request", attributes, now)
    return req.SerializeToString()


def _proc_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _cardinality(folder: Path, max_models: int) -> dict[str, float]:
    """5,000 model names into a real ``burntray serve``: /metrics and memory afterwards."""
    home = folder / f"home-{max_models}"
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text(f"[otel]\nmax_models = {max_models}\n")
    otlp, metrics = free_port(), free_port()
    env = dict(os.environ, BURNTRAY_HOME=str(home))
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "burntray", "serve", "--source", "otel"),
            *("--otlp", f"127.0.0.1:{otlp}", "--metrics", f"127.0.0.1:{metrics}"),
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while http_get(metrics, "/healthz")[0] != 200:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("burntray serve did not get ready")
            time.sleep(0.1)
        time.sleep(1.0)  # the first ticks done: the baseline is the serving process at rest
        rss0 = _proc_kib(proc.pid, "VmRSS")
        conn = http.client.HTTPConnection("127.0.0.1", otlp, timeout=30)
        for export in range(CARD_EXPORTS):
            conn.request(
                "POST", "/v1/logs", _card_body(export), {"Content-Type": "application/x-protobuf"}
            )
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 200, resp.status
        conn.close()
        reqs = 0
        while reqs < CARD_MODELS and time.monotonic() < deadline + 60:
            status, doc = http_get(metrics, "/v1/status")
            reqs = json.loads(doc)["totals"]["reqs"] if status == 200 else 0
            time.sleep(0.1)
        time.sleep(2.0)  # a few more ticks on the full history
        times, body = [], b""
        for _ in range(20):
            t = time.perf_counter()
            _status, body = http_get(metrics, "/metrics")
            times.append(time.perf_counter() - t)
        _status, doc = http_get(metrics, "/v1/status")
        lines = [line for line in body.decode().splitlines() if line and line[0] != "#"]
        requests = sum(
            float(x.rsplit(" ", 1)[1]) for x in lines if x.startswith("burntray_requests_total{")
        )
        return {
            "counted": reqs,
            "requests": requests,
            "series": len(lines),
            "metrics_kb": len(body) / 1000,
            "status_kb": len(doc) / 1000,
            "median_ms": statistics.median(times) * 1000,
            "max_ms": max(times) * 1000,
            "growth_mb": (_proc_kib(proc.pid, "VmRSS") - rss0) / 1024,
            "hwm_mb": _proc_kib(proc.pid, "VmHWM") / 1024,
        }
    finally:
        proc.terminate()
        proc.wait(10)


def bench_cardinality() -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for max_models, name in ((100, "bounded (otel.max_models = 100)"), (10_000, "unbounded")):
            r = _cardinality(Path(tmp), max_models)
            target = max_models == 100
            rows += [
                (
                    f"5,000 model names, {name}: /metrics scrape median / max"
                    + (f" [median <= {TARGET_SCRAPE_MS:.0f} ms]" if target else ""),
                    f"{r['median_ms']:.1f} / {r['max_ms']:.1f} ms"
                    + (missed(r["median_ms"] <= TARGET_SCRAPE_MS) if target else ""),
                ),
                (
                    "  ... serve RSS growth"
                    + (f" [<= {TARGET_GROWTH_MB:.0f} MB]" if target else ""),
                    f"{r['growth_mb']:.1f} MB (peak {r['hwm_mb']:.0f} MB)"
                    + (missed(r["growth_mb"] <= TARGET_GROWTH_MB) if target else ""),
                ),
                (
                    "  ... /metrics, /v1/status",
                    f"{r['metrics_kb']:,.0f} kB ({r['series']:,} series), {r['status_kb']:,.0f} kB",
                ),
                (
                    "  ... requests on /metrics, counted [all 5,000]",
                    f"{r['requests']:,.0f}, {r['counted']:,.0f}"
                    + missed(r["requests"] == CARD_MODELS == r["counted"]),
                ),
            ]
    return rows


def _saturate(rig: Rig, base: int, seconds: float = 5.0) -> tuple[float, int]:
    """One client posting as fast as it can: (exports per second, exports built)."""
    bodies = [claude_code_export(base + i, EVENTS_PER_REQUEST) for i in range(20_000)]
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds and n < len(bodies):
        rig.post(bodies[n])
        n += 1
    return n / (time.perf_counter() - started), len(bodies)


def bench_serve_stream() -> list[tuple[str, str]]:
    """The same latency with ``burntray serve``'s publisher on every tick (the usage since
    start, the status document and its alerts object)."""
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        rig = Rig(Path(tmp), serve=True)
        try:
            p50, p99, base = _paced(rig, 500.0, 3.0, 0)
            rows.append(
                (
                    "as serve: OTLP request -> snapshot at 500/s: p50 / p99 [p99 <= 20 ms]",
                    f"{p50:.1f} / {p99:.1f} ms" + missed(p99 <= 20),
                )
            )
            rate, n = _saturate(rig, base)
            pace = min(2000.0, rate * 0.8)
            p50, p99, _n = _paced(rig, pace, 3.0, base + n)
            rows.append(
                (
                    f"  ... at {pace:,.0f}/s after {rate:,.0f}/s flat out [p99 <= 20 ms]",
                    f"{p50:.1f} / {p99:.1f} ms" + missed(p99 <= 20),
                )
            )
        finally:
            rig.close()
    return rows


def bench_checkpoints(pairs: int = 3) -> list[tuple[str, str]]:
    """Issue 22's p99 after saturation, with SQLite's checkpoints in the writer's commits
    (before) and on the history's background checkpointer (after), side by side: a fresh
    receiver each time, 5 s flat out, then 3 s at 80 % of that pace (at most 2,000/s);
    ``pairs`` alternating runs of each, so a busy moment of the machine hits both alike."""
    runs: dict[bool, list[tuple[float, float, float, int, float]]] = {False: [], True: []}
    for _ in range(pairs):
        for background in (False, True):
            with tempfile.TemporaryDirectory() as tmp:
                rig = Rig(Path(tmp), checkpointer=background)
                try:
                    rate, n = _saturate(rig, 0)
                    del rig.writes[:]
                    p50, p99, _n = _paced(rig, min(2000.0, rate * 0.8), 3.0, n)
                    write_p99 = percentile(rig.writes, 0.99) * 1000
                    wal = rig.history.path.with_name("history.sqlite3-wal")
                    size = wal.stat().st_size if wal.exists() else 0
                finally:
                    rig.close()
                runs[background].append((rate, p50, p99, size, write_p99))
    rows = []
    for background, name in ((False, "checkpoints in the commits (before)"), (True, "background")):
        got = runs[background]
        p99s = ", ".join(f"{r[2]:.1f}" for r in got)
        worst = max(r[2] for r in got)
        writes = ", ".join(f"{r[4]:.1f}" for r in got)
        rows.append(
            (
                f"after saturation, {name}: p99 per run [<= 20 ms]",
                f"{p99s} ms (p50 {statistics.median(r[1] for r in got):.1f} ms, "
                f"{statistics.median(r[0] for r in got):,.0f}/s flat out, "
                f"WAL {max(r[3] for r in got) / 2**20:.1f} MB)" + missed(worst <= 20),
            )
        )
        rows.append(("  ... its history writes (with the commit): p99 per run", writes + " ms"))
    return rows


def bench_state(sessions: int = 20_000, polls: int = 200) -> list[tuple[str, str]]:
    """A poll of the otel source (records to the history with the resume state beside them)
    once the ledger remembers ``sessions`` sessions, as a long-running receiver does, while
    known sessions send (10 events per poll)."""
    from burntray.sources.otel.mapping import Decoded, UsageEvent

    def event(i: int, session: int) -> UsageEvent:
        sid = f"0b9c2f1e-4d2a-4a8e-9f1c-{session:012d}"
        now = time.time_ns()
        return UsageEvent(
            "claude-code", "anthropic", "claude-sonnet-4-5", sid, now, 120, 40, 3000, 0, 0.0123,
            f"claude-code:req:{i}",
        )  # fmt: skip

    def events(first: int, n: int, session: int | None = None) -> Decoded:
        return Decoded(
            events=[event(i, i if session is None else session) for i in range(first, first + n)]
        )

    with tempfile.TemporaryDirectory() as tmp:
        history = HistoryStore(Path(tmp) / "history.sqlite3")
        source = OtelSource("127.0.0.1:0", build_price_table({}), history)
        try:
            source.ledger.add(events(0, sessions), time.time_ns())
            source.poll()
            times = []
            for k in range(polls):
                source.ledger.add(events(sessions + 10 * k, 10, k % 7), time.time_ns())
                t = time.perf_counter()
                source.poll()
                times.append(time.perf_counter() - t)
        finally:
            source.close()
            history.close()
    times.sort()
    p50, p99 = times[len(times) // 2] * 1000, times[int(len(times) * 0.99) - 1] * 1000
    return [
        (
            f"a poll with {sessions:,} sessions remembered: p50 / p99 [p99 <= 20 ms]",
            f"{p50:.1f} / {p99:.1f} ms" + missed(p99 <= 20),
        )
    ]


def run() -> list[tuple[str, str]]:
    return [
        *bench_cardinality(),
        *bench_receiver(),
        *bench_serve_stream(),
        *bench_checkpoints(),
        *bench_state(),
        *bench_scrape(),
    ]


if __name__ == "__main__":
    for figure, value in run():
        print(f"  {figure:<58} {value}")
