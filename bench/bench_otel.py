"""OTLP receiver and /metrics benchmarks (issue 16). Every figure is measured in this run;
targets in brackets, MISSED where one is not met.

The receiver runs as in the app: the ``otel`` source with burntray's history (SQLite) and the
real monitor thread, woken by the exports (at most every 5 ms: a burst is one poll). One client
(keep-alive, like the SDK exporters) posts OTLP log requests of 10 ``claude_code.api_request``
events each.
"""

from __future__ import annotations

import http.client
import statistics
import tempfile
import threading
import time
from pathlib import Path

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from burntray.config import Settings
from burntray.model.pricing import build_price_table
from burntray.model.snapshot import Snapshot, SourceStatus, Totals, UsageRow
from burntray.runtime.monitor import Monitor
from burntray.serve.figures import Figures, FiguresBoard
from burntray.serve.http import FiguresServer
from burntray.sources.otel.source import OtelSource
from burntray.store.history import HistoryStore

S = 10**9
EVENTS_PER_REQUEST = 10
RSS_N = 100_000


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _body(i: int) -> bytes:
    """One export of 10 Claude Code request events, built with the generated classes."""
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    kv = rl.resource.attributes.add()
    kv.key, kv.value.string_value = "service.name", "claude-code"
    sl = rl.scope_logs.add()
    now = time.time_ns()
    for j in range(EVENTS_PER_REQUEST):
        rec = sl.log_records.add()
        rec.time_unix_nano = now
        rec.event_name = "claude_code.api_request"
        for key, value in (
            ("session.id", f"s{i % 7}"),
            ("model", "claude-sonnet-4-5"),
            ("cost_usd", "0.0123"),
            ("input_tokens", "120"),
            ("output_tokens", "40"),
            ("cache_read_tokens", "3000"),
            ("cache_creation_tokens", "0"),
            ("request_id", f"req_{i}_{j}"),
        ):
            a = rec.attributes.add()
            a.key, a.value.string_value = key, value
    return req.SerializeToString()


class Rig:
    """The otel source + history + monitor, with an observer noting each published total."""

    def __init__(self, folder: Path) -> None:
        self.history = HistoryStore(folder / "history.sqlite3")
        self.source = OtelSource("127.0.0.1:0", build_price_table({}), self.history)
        self.monitor = Monitor(
            Settings(window="1h", poll_interval_s=5.0),
            lambda _s: self.source,
            history=None,
        )
        self.published: list[tuple[float, int]] = []
        self._lock = threading.Lock()
        self.monitor.observers.append(self._seen)
        self.monitor.start()
        deadline = time.monotonic() + 10
        while self.source.receiver is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.source.receiver is not None, self.source.status
        self.conn = http.client.HTTPConnection("127.0.0.1", self.source.receiver.port, timeout=10)

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
        rig.post(_body(base + i))
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
            bodies = [_body(base + i) for i in range(20_000)]
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
                rig.post(_body(base + i))
            base += 20_000
            time.sleep(1.0)
            rss0 = _rss_kib()
            t = time.perf_counter()
            for i in range(RSS_N):
                rig.post(_body(base + i))
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


def run() -> list[tuple[str, str]]:
    return [*bench_receiver(), *bench_scrape()]


if __name__ == "__main__":
    for figure, value in run():
        print(f"  {figure:<58} {value}")
