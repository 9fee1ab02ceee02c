"""The OTLP receiver's p99 right after saturation, measured as a user sees it (issue 22).

Nothing shares a process with the receiver: the server is a real ``burntray serve --source
otel --otlp ...`` process in its own home; every client is a process of its own (this file run
as a script), posting raw OTLP/HTTP protobuf log exports of 10 ``claude_code.api_request``
events each, on keep-alive connections as the SDK exporters do.

One round:
1. **saturation**: for ``FLAT_S`` seconds, ``FLAT_CLIENTS`` processes post small exports as
   fast as they can (``FLAT_CONNS`` connections each) while one more process posts
   ``HEAVY_MIB`` MiB exports of prompt events (no usage) on ``HEAVY_CONNS`` connections: the
   receiver runs flat out and its decoding budget is full, so it answers 503 with Retry-After
   (its backpressure); every answer other than 200 is counted;
2. **right after** (``GAP_S`` later): one client posts at a steady pace for ``PACED_S`` seconds,
   noting when it sends each export (``time.monotonic_ns``, one clock for every process);
3. a **watcher** process asks ``GET /v1/status`` every ``POLL_MS`` ms all along and notes when
   each answer arrived and the requests it counts.

**request -> snapshot** of an export is the time from its send until the first ``/v1/status``
answer that counts it (the exports are counted in order: the n-th paced export is in once the
count reaches what the saturation's acknowledged exports and the n paced ones add up to). The
watcher's poll period is part of the figure (half of it on average): it is what a user polling
the status sees. The export's own answer (200) is noted too (``ack``).

A round's server runs as ``burntray serve`` does. For a diagnosis it runs inside this file
(``serve-sampled``), which notes each tick's stages, each export's arrival, each publish and
each garbage collection, and prints where the paced exports' time went (the handler, the wake,
the tick): with ``BENCH_PROFILE=1`` (plus a sampler of the monitor thread's stack every ms),
``BENCH_CPROFILE=1`` (a cProfile of the ticks while paced), ``BENCH_SWITCH_S`` (the GIL's
switch interval), ``BENCH_WAKE_GAP_S`` (the otel source's wake gap) or ``BENCH_BUDGET_MIB`` (the
receiver's decoding budget).
"""

from __future__ import annotations

import bisect
import http.client
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from loopback import add_event, claude_code_export, claude_code_logs, free_port, http_get

S = 10**9
MS = 10**6
EVENTS = 10  # request events per export
FLAT_CLIENTS = 3  # processes posting flat out
FLAT_CONNS = 2  # ... connections (threads) each
FLAT_S = 5.0
HEAVY_CONNS = 16  # connections posting big exports of prompts (no usage) flat out, meanwhile
HEAVY_MIB = 6
GAP_S = 0.05  # from the end of the burst to the first paced export
PACED_S = 3.0
PACE = 500.0  # exports/s right after saturation (5,000 requests/s: a busy team hub)
POLL_MS = 2.0
ROUNDS = 3
TARGET_MS = 20.0


# --- clients (each its own process) -----------------------------------------------------------


def _post(conn: http.client.HTTPConnection, body: bytes) -> int:
    conn.request("POST", "/v1/logs", body, {"Content-Type": "application/x-protobuf"})
    resp = conn.getresponse()
    resp.read()
    return resp.status


def _sleep_until(t_ns: int) -> None:
    while (left := t_ns - time.monotonic_ns()) > 0:
        time.sleep(min(left / S, 0.0005) if left < 2 * MS else left / S - 0.001)


def client_flat(port: int, tag: str, start_ns: int, end_ns: int) -> None:
    """Post flat out on ``FLAT_CONNS`` connections from ``start_ns`` until ``end_ns``; prints
    {"ok": acknowledged exports, "refused": {status: n}}."""

    bodies = [claude_code_export(i, EVENTS, f"req_{tag}") for i in range(4000)]
    _flat_out(port, start_ns, end_ns, FLAT_CONNS, bodies)


def client_heavy(port: int, start_ns: int, end_ns: int) -> None:
    """Post ``HEAVY_MIB`` MiB exports of prompt events (no usage in them) flat out on
    ``HEAVY_CONNS`` connections from ``start_ns`` until ``end_ns``: with the small exports they
    hold the receiver's decoding budget, and it answers 503 with Retry-After. Prints
    {"ok": n, "refused": {status: n}}."""

    req, scope = claude_code_logs()
    prompt = "why is this test flaky? " * (HEAVY_MIB * 2**20 // 64 // 24)
    for _ in range(64):
        add_event(scope, "claude_code.user_prompt", (("prompt", prompt),), time.time_ns())
    _flat_out(port, start_ns, end_ns, HEAVY_CONNS, [req.SerializeToString()])


def _flat_out(port: int, start_ns: int, end_ns: int, connections: int, bodies: list[bytes]) -> None:
    """Post ``bodies`` in turn as fast as the receiver answers, on ``connections`` keep-alive
    connections (threads), from ``start_ns`` until ``end_ns``; a refused connection is
    reopened. Prints {"ok": acknowledged exports, "refused": {status: n}}."""
    import threading

    ok, refused = [0], Counter[int]()
    lock = threading.Lock()

    def run(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = k
        _sleep_until(start_ns)
        while time.monotonic_ns() < end_ns:
            try:
                status = _post(conn, bodies[n % len(bodies)])
            except OSError:
                status = 0
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            with lock:
                if status == 200:
                    ok[0] += 1
                else:
                    refused[status] += 1
            n += connections
        conn.close()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"ok": ok[0], "refused": dict(refused)}))


def client_paced(port: int, start_ns: int, pace: float, seconds: float) -> None:
    """Post at ``pace`` exports/s from ``start_ns``; prints [[sent_ns, acked_ns, status], ...]."""
    n = int(pace * seconds)
    bodies = [claude_code_export(i, EVENTS, "req_paced") for i in range(n)]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    out = []
    _sleep_until(start_ns - 200 * MS)
    conn.connect()  # the connection is made before the pace starts, as an exporter's is
    for i, body in enumerate(bodies):
        _sleep_until(start_ns + int(i * S / pace))
        t0 = time.monotonic_ns()
        status = _post(conn, body)
        out.append((t0, time.monotonic_ns(), status))
    conn.close()
    print(json.dumps(out))


def client_watch(port: int, end_ns: int) -> None:
    """``GET /v1/status`` every ``POLL_MS`` until ``end_ns``; prints [[answered_ns, reqs], ...]."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    out = []
    due = time.monotonic_ns()
    while (now := time.monotonic_ns()) < end_ns:
        due = max(due + int(POLL_MS * MS), now)
        try:
            conn.request("GET", "/v1/status")
            resp = conn.getresponse()
            body = resp.read()
            if resp.status == 200:
                out.append((time.monotonic_ns(), json.loads(body)["totals"]["reqs"]))
        except OSError:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        _sleep_until(due)
    conn.close()
    print(json.dumps(out))


# --- the server -------------------------------------------------------------------------------
def serve_sampled(argv: list[str]) -> None:
    """``burntray`` with ``argv``, while a thread samples the monitor thread's stack every
    millisecond; when it stops the top stacks are written to ``BENCH_PROFILE_OUT``."""
    import threading

    from burntray.__main__ import main

    counts: Counter[str] = Counter()
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.001):
            for thread in threading.enumerate():
                if thread.name != "burntray-monitor" or thread.ident is None:
                    continue
                frame = sys._current_frames().get(thread.ident)
                stack = []
                while frame is not None:
                    code = frame.f_code
                    if "burntray" in code.co_filename or not stack:
                        name = code.co_filename.rsplit("/", 1)[-1]
                        stack.append(f"{name}:{code.co_name}")
                    frame = frame.f_back
                counts[" < ".join(stack[:6])] += 1

    from burntray.runtime.monitor import Monitor
    from burntray.serve.run import FiguresPublisher
    from burntray.sources.record_source import RecordSource

    # per tick: start, whole tick, then the stages inside it (ns)
    ticks: list[dict[str, int]] = []
    now: dict[str, int] = {}

    def timed(name: str, fn: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            t0 = time.monotonic_ns()
            try:
                return fn(*args, **kwargs)
            finally:
                now[name] = now.get(name, 0) + time.monotonic_ns() - t0

        return run

    tick = Monitor.tick

    import cProfile

    prof = cProfile.Profile() if os.environ.get("BENCH_CPROFILE") else None
    go = Path(os.environ["BENCH_PROFILE_OUT"]).with_suffix(".go")

    def timed_tick(self: Monitor) -> float:
        now.clear()
        t0 = time.monotonic_ns()
        profiling = prof is not None and go.exists()  # the paced part only
        if profiling:
            prof.enable()
        try:
            return tick(self)
        finally:
            if profiling:
                prof.disable()
            ticks.append({"t0": t0, "tick": time.monotonic_ns() - t0, **now})

    Monitor.tick = timed_tick  # type: ignore[method-assign]
    from burntray.serve.figures import FiguresBoard

    published: list[tuple[int, int]] = []  # (when, requests counted) of each board put
    put = FiguresBoard.put

    def noted_put(self: FiguresBoard, figures: Any) -> None:
        put(self, figures)
        published.append((time.monotonic_ns(), figures.window.totals.reqs))

    FiguresBoard.put = noted_put  # type: ignore[method-assign]
    from burntray.sources.otel.source import OtelSource

    received: list[int] = []  # when each export was in the ledger (the monitor nudged)
    on_export = OtelSource._on_export

    def noted_export(self: OtelSource, *args: Any) -> Any:
        try:
            return on_export(self, *args)
        finally:
            received.append(time.monotonic_ns())

    OtelSource._on_export = noted_export  # type: ignore[method-assign]
    RecordSource.poll = timed("poll", RecordSource.poll)  # type: ignore[method-assign]
    RecordSource.snapshot = timed("snapshot", RecordSource.snapshot)  # type: ignore[method-assign]
    FiguresPublisher.__call__ = timed("publish", FiguresPublisher.__call__)  # type: ignore[method-assign]
    import gc

    collections: list[tuple[int, int, int]] = []  # (generation, start, took) of each collection
    gc_started = [0]

    def noted_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.monotonic_ns()
        else:
            t0 = gc_started[0]
            collections.append((info["generation"], t0, time.monotonic_ns() - t0))

    gc.callbacks.append(noted_gc)
    if os.environ.get("BENCH_WAKE_GAP_S"):  # an experiment: the monitor woken sooner
        from burntray.sources.otel import source as otel_source

        otel_source.WAKE_GAP_S = float(os.environ["BENCH_WAKE_GAP_S"])
    if os.environ.get("BENCH_BUDGET_MIB"):  # an experiment: fewer large exports let in
        from burntray.sources.otel.receiver import OtlpReceiver

        budget = int(float(os.environ["BENCH_BUDGET_MIB"]) * 2**20)
        OtlpReceiver.__init__.__kwdefaults__["memory_budget"] = budget
    if os.environ.get("BENCH_SWITCH_S"):  # an experiment: the GIL handed over sooner
        sys.setswitchinterval(float(os.environ["BENCH_SWITCH_S"]))
    if os.environ.get("BENCH_PROFILE"):
        threading.Thread(target=sample, daemon=True).start()
    sys.argv = ["burntray", *argv]
    try:  # serve stops on SIGTERM (its own handler) and returns
        main()
    finally:
        stop.set()
        total = sum(counts.values()) or 1
        lines = [f"{n / total:6.1%} {k}" for k, n in counts.most_common(40)]
        out = Path(os.environ["BENCH_PROFILE_OUT"])
        out.write_text("\n".join(lines) + "\n")
        out.with_suffix(".ticks.json").write_text(json.dumps(ticks))
        out.with_suffix(".puts.json").write_text(json.dumps(published))
        out.with_suffix(".received.json").write_text(json.dumps(received))
        out.with_suffix(".gc.json").write_text(json.dumps(collections))
        if prof is not None:
            import pstats

            with out.with_suffix(".cprofile.txt").open("w") as f:
                pstats.Stats(prof, stream=f).sort_stats("cumulative").print_stats(45)


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start_serve(
    home: Path, otlp: int, metrics: int, profile: Path | None
) -> subprocess.Popen[bytes]:
    (home / "config").mkdir(parents=True, exist_ok=True)
    args = ["serve", "--source", "otel", "--otlp", f"127.0.0.1:{otlp}"]
    args += ["--metrics", f"127.0.0.1:{metrics}"]
    env = dict(os.environ, BURNTRAY_HOME=str(home))
    if profile is not None:
        env["BENCH_PROFILE_OUT"] = str(profile)
        cmd = [sys.executable, __file__, "serve-sampled", *args]
    else:
        cmd = [sys.executable, "-m", "burntray", *args]
    proc = subprocess.Popen(
        cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 30
    while http_get(metrics, "/healthz", timeout=10)[0] != 200:
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError(f"burntray serve did not get ready: {proc.communicate()[1]!r}")
        time.sleep(0.05)
    return proc


def _spawn(*args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, *(str(a) for a in args)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )


def _result(proc: subprocess.Popen[str]) -> object:
    out, _ = proc.communicate(timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"a bench client failed ({proc.returncode})")
    return json.loads(out)


def _latencies(
    paced: list[list[int]], seen: list[list[int]], base: int
) -> tuple[list[float], list[float], int]:
    """(request -> /v1/status ms, request -> 200 ms, exports never seen) of the paced exports."""
    lat, acks, missing, k = [], [], 0, 0
    needed = base
    for sent, acked, status in paced:
        if status != 200:
            missing += 1
            continue
        needed += EVENTS
        acks.append((acked - sent) / MS)
        while k < len(seen) and (seen[k][1] < needed or seen[k][0] < sent):
            k += 1
        if k == len(seen):
            missing += 1
            continue
        lat.append((seen[k][0] - sent) / MS)
    return lat, acks, missing


def one_round(folder: Path, profile: Path | None = None) -> dict[str, float]:
    otlp, metrics = free_port(), free_port()
    server = _start_serve(folder, otlp, metrics, profile)
    try:
        _status, doc = http_get(metrics, "/v1/status", timeout=10)
        base = json.loads(doc)["totals"]["reqs"]
        start = time.monotonic_ns() + int(1.5 * S)  # every client process up and built
        flat_end = start + int(FLAT_S * S)
        paced_start = flat_end + int(GAP_S * S)
        watch_end = paced_start + int((PACED_S + 1.0) * S)
        watcher = _spawn("watch", metrics, watch_end)
        flats = [_spawn("flat", otlp, f"f{c}", start, flat_end) for c in range(FLAT_CLIENTS)]
        heavy = _spawn("heavy", otlp, start, flat_end) if HEAVY_CONNS else None
        paced = _spawn("paced", otlp, paced_start, PACE, PACED_S)
        _sleep_until(start)
        cpu0 = _cpu_s(server.pid)
        _sleep_until(flat_end)
        if profile is not None:  # serve's cProfile (BENCH_CPROFILE) looks at what follows
            profile.with_suffix(".go").touch()
        cpu_flat = (_cpu_s(server.pid) - cpu0) / FLAT_S
        load = os.getloadavg()[0]
        flat = [_result(p) for p in flats]
        big = _result(heavy) if heavy is not None else {"ok": 0, "refused": {}}
        cpu1 = _cpu_s(server.pid)
        _sleep_until(paced_start + int(PACED_S * S))
        cpu_paced = (_cpu_s(server.pid) - cpu1) / (PACED_S + GAP_S)
        sent = _result(paced)
        seen = _result(watcher)
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert isinstance(sent, list) and isinstance(seen, list)
    flat_ok = sum(int(f["ok"]) for f in flat)  # type: ignore[index]
    refused = sum(sum(f["refused"].values()) for f in flat)  # type: ignore[index]
    big_ok = int(big["ok"])  # type: ignore[index]
    big_refused = sum(big["refused"].values())  # type: ignore[index]
    lat, acks, missing = _latencies(sent, seen, base + flat_ok * EVENTS)
    lat.sort()
    from target import percentile

    if profile is not None and profile.with_suffix(".ticks.json").exists():
        _print_stages(profile.with_suffix(".ticks.json"), paced_start, PACED_S)
        puts = json.loads(profile.with_suffix(".puts.json").read_text())
        inner = sorted(_latencies(sent, puts, base + flat_ok * EVENTS)[0])
        polls = [t for t, _n in seen if paced_start <= t < paced_start + PACED_S * S]
        gaps = sorted((b - a) / MS for a, b in itertools.pairwise(polls))
        print(
            f"  request -> board put p50 {percentile(inner, 0.5):.1f} p99 "
            f"{percentile(inner, 0.99):.1f} max {inner[-1]:.1f} ms; status poll gaps p99 "
            f"{percentile(gaps, 0.99):.1f} max {gaps[-1]:.1f} ms",
            file=sys.stderr,
        )
        _print_path(profile, sent, puts, flat_ok + big_ok)
        first = _latencies(sent[:25], seen, base + flat_ok * EVENTS)[0]
        print("  the first 25 exports: " + " ".join(f"{x:.0f}" for x in first), file=sys.stderr)
        gcs = json.loads(profile.with_suffix(".gc.json").read_text())
        for gen in (0, 1, 2):
            took = sorted(d / MS for g, t, d in gcs if g == gen and paced_start <= t < watch_end)
            if took:
                print(
                    f"  gc gen{gen}: {len(took)} while paced, p99 {percentile(took, 0.99):.2f}"
                    f" max {took[-1]:.2f} ms",
                    file=sys.stderr,
                )

    return {
        "rate": flat_ok / FLAT_S,
        "refused": refused,
        "big_ok": big_ok,
        "big_refused": big_refused,
        "cpu_flat": cpu_flat,
        "cpu_paced": cpu_paced,
        "p50": percentile(lat, 0.5) if lat else float("nan"),
        "p99": percentile(lat, 0.99) if lat else float("nan"),
        "max": lat[-1] if lat else float("nan"),
        "ack_p99": percentile(acks, 0.99) if acks else float("nan"),
        "n": len(lat),
        "missing": missing,
        "polls": len(seen),
        "load": load,
    }


def _print_path(profile: Path, sent: list[list[int]], puts: list[list[int]], first: int) -> None:
    """Where the paced exports' time went: send -> in the ledger (the handler), -> the start
    of the tick that took it (the wake), -> the board put (the tick)."""
    from target import percentile

    received = sorted(json.loads(profile.with_suffix(".received.json").read_text()))
    starts = sorted(t["t0"] for t in json.loads(profile.with_suffix(".ticks.json").read_text()))
    put_times = sorted(t for t, _n in puts)
    parts: dict[str, list[float]] = {"handler": [], "wake": [], "tick": []}
    for i, (t_send, _acked, _status) in enumerate(sent):
        if first + i >= len(received):
            break
        t_in = received[first + i]
        k = bisect.bisect_left(starts, t_in)
        j = bisect.bisect_left(put_times, t_in)
        if k == len(starts) or j == len(put_times):
            continue
        parts["handler"].append((t_in - t_send) / MS)
        parts["wake"].append((starts[k] - t_in) / MS)
        parts["tick"].append((put_times[bisect.bisect_left(put_times, starts[k])] - starts[k]) / MS)
    print(
        "  the first 10 (handler/wake/tick ms): "
        + " ".join(
            f"{h:.0f}/{w:.0f}/{t:.0f}"
            for h, w, t in list(zip(parts["handler"], parts["wake"], parts["tick"], strict=True))[
                :10
            ]
        ),
        file=sys.stderr,
    )
    for name, got in parts.items():
        got.sort()
        print(
            f"  {name:<8} p50 {percentile(got, 0.5):6.1f}  p99 {percentile(got, 0.99):6.1f}"
            f"  max {got[-1]:6.1f} ms",
            file=sys.stderr,
        )


def _print_stages(path: Path, start: int, seconds: float) -> None:
    """The monitor's ticks while the paced client sent: each stage's p50 / p99 / max (ms)."""
    from target import percentile

    ticks = [t for t in json.loads(path.read_text()) if start <= t["t0"] < start + seconds * S]
    if not ticks:
        return
    gaps = [(b["t0"] - a["t0"] - a["tick"]) / MS for a, b in itertools.pairwise(ticks)]
    print(f"{len(ticks)} ticks while paced:", file=sys.stderr)
    for stage in ("tick", "poll", "snapshot", "publish"):
        got = sorted(t.get(stage, 0) / MS for t in ticks)
        print(
            f"  {stage:<9} p50 {percentile(got, 0.5):6.1f}  p99 {percentile(got, 0.99):6.1f}"
            f"  max {got[-1]:6.1f} ms",
            file=sys.stderr,
        )
    gaps.sort()
    print(f"  idle gap  p50 {percentile(gaps, 0.5):6.1f}  max {gaps[-1]:6.1f} ms", file=sys.stderr)


_DIAGNOSIS = ("PROFILE", "CPROFILE", "SWITCH_S", "WAKE_GAP_S", "BUDGET_MIB")


def run() -> list[tuple[str, str]]:
    from target import missed

    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(ROUNDS):
            wrapped = any(os.environ.get(f"BENCH_{k}") for k in _DIAGNOSIS)
            profile = Path(tmp) / f"profile-{r}.txt" if wrapped else None
            rounds.append(one_round(Path(tmp) / f"home-{r}", profile))
            if profile is not None and profile.exists():
                print(profile.read_text(), file=sys.stderr)
    worst = max(r["p99"] for r in rounds)
    p99s = ", ".join(f"{r['p99']:.1f}" for r in rounds)
    return [
        (
            f"after saturation, {PACE:,.0f} exports/s: request -> /v1/status p99 per run "
            f"[<= {TARGET_MS:.0f} ms]",
            f"{p99s} ms" + missed(worst <= TARGET_MS),
        ),
        (
            "  ... p50 / max per run",
            ", ".join(f"{r['p50']:.1f} / {r['max']:.1f}" for r in rounds) + " ms",
        ),
        (
            "  ... the export's own answer (200): p99 per run",
            ", ".join(f"{r['ack_p99']:.1f}" for r in rounds) + " ms",
        ),
        (
            f"  ... the burst: {FLAT_CLIENTS} x {FLAT_CONNS} connections flat out, per run",
            ", ".join(f"{r['rate']:,.0f}/s" for r in rounds)
            + f" ({statistics.median(r['cpu_flat'] for r in rounds):.0%} of a core in serve"
            + f", refused {sum(r['refused'] for r in rounds):,.0f})",
        ),
        (
            f"  ... meanwhile {HEAVY_CONNS} connections of {HEAVY_MIB} MiB exports: taken / "
            "refused (503) per run",
            ", ".join(f"{r['big_ok']:,.0f} / {r['big_refused']:,.0f}" for r in rounds),
        ),
        (
            "  ... serve's CPU right after, paced; exports seen / not seen; status polls",
            ", ".join(
                f"{r['cpu_paced']:.0%}; {r['n']:,.0f} / {r['missing']:,.0f}; {r['polls']:,.0f}"
                for r in rounds
            ),
        ),
        (
            "  ... load average (1 min) per run (2 shared cores)",
            ", ".join(f"{r['load']:.1f}" for r in rounds),
        ),
    ]


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    mode, rest = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if mode == "flat":
        client_flat(int(rest[0]), rest[1], int(rest[2]), int(rest[3]))
    elif mode == "heavy":
        client_heavy(int(rest[0]), int(rest[1]), int(rest[2]))
    elif mode == "paced":
        client_paced(int(rest[0]), int(rest[1]), float(rest[2]), float(rest[3]))
    elif mode == "watch":
        client_watch(int(rest[0]), int(rest[1]))
    elif mode == "serve-sampled":
        serve_sampled(rest)
    else:
        for figure, value in run():
            print(f"  {figure:<58} {value}")
