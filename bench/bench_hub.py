"""Team hub benchmarks (issue 25). Every figure is measured in this run; targets in brackets,
MISSED where one is not met.

The hub is a real ``burntray serve --source hub --otlp`` process in a home of its own. The
machines are the real sender (``TeamSender``) over real histories, one thread each in this
process: each writes its requests into its own history at its rate (as a monitor's poll does),
wakes its sender, and the sender sends what the history queued. Latency is from a record's
write on its machine to the first time the hub's published snapshot (``/v1/status``, polled
every 20 ms) counts it.

Ingest: 20 machines x 2,000 requests/min. The issue asks for 5 minutes; on a shared 2-core
machine this runs ``BENCH_HUB_SECONDS`` (default 60 s) and says so in the figure's name.
Catch-up: one machine with 50,000 records over the last 24 h queued (offline), then the hub
reachable: the time to empty its queue, and this process' RSS growth meanwhile.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from burntray.model.usage import UsageRecord
from burntray.runtime.team_sender import Target, TeamSender
from burntray.sources.registry import REGISTRY
from burntray.store.history import HistoryStore
from burntray.store.usage_events import UsageEvents
from loopback import free_port
from target import missed, percentile

MACHINES = 20
PER_MINUTE = 2000
CATCH_UP = 50_000
S = 10**9


def _rss_kib(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class HubProcess:
    def __init__(self, root: Path) -> None:
        self.otlp, self.metrics = free_port(), free_port()
        home = root / "hub"
        (home / "burntray" / "config").mkdir(parents=True)
        (home / "burntray" / "config" / "config.toml").write_text('window = "24h"\n')
        env = {**os.environ, "BURNTRAY_HOME": str(home / "burntray"), "HOME": str(home)}
        self.log = (home / "serve.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "burntray", "serve", "--source", "hub", "--otlp",
             f"127.0.0.1:{self.otlp}", "--metrics", f"127.0.0.1:{self.metrics}"],
            env=env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while self.reqs() is None:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("the hub did not start")
            time.sleep(0.1)

    def reqs(self) -> int | None:
        url = f"http://127.0.0.1:{self.metrics}/v1/status"
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return int(json.loads(resp.read())["totals"]["reqs"])
        except (OSError, ValueError, KeyError):
            return None

    @property
    def rss_kib(self) -> int:
        return _rss_kib(self.proc.pid)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(20)
        self.log.close()


def _machine(root: Path, i: int, url: str) -> tuple[UsageEvents, TeamSender]:
    history = HistoryStore(root / f"m{i}.sqlite3", REGISTRY.history_tables())
    sender = TeamSender(history, Target(url, f"machine-{i:02d}", "bench", "", ""), idle_s=0.5)
    return UsageEvents(history), sender


def _record(i: int, n: int, ts: int) -> UsageRecord:
    return UsageRecord(ts, "anthropic", "claude-sonnet-4-5", 120, 40, 3000, 0, 0.0123,
                       f"m{i}-r{n}", session=f"s{n % 7}", project="p")  # fmt: skip


def bench_ingest(root: Path, seconds: float) -> list[tuple[str, str]]:
    hub = HubProcess(root)
    url = f"http://127.0.0.1:{hub.otlp}/v1/logs"
    machines = [_machine(root, i, url) for i in range(MACHINES)]
    lock = threading.Lock()
    written = [0]
    marks: list[tuple[float, int]] = []  # (write time, records written by then, all machines)
    stop = threading.Event()
    seen: list[tuple[float, int]] = []

    def watch() -> None:
        while not stop.is_set():
            reqs = hub.reqs()
            if reqs is not None:
                seen.append((time.monotonic(), reqs))
            time.sleep(0.02)

    def machine(i: int, events: UsageEvents, sender: TeamSender) -> None:
        tick, per_tick = 0.5, PER_MINUTE / 60 * 0.5
        n, owed, start = 0, 0.0, time.monotonic()
        while not stop.is_set():
            owed += per_tick
            batch = [_record(i, n + k, time.time_ns()) for k in range(int(owed))]
            owed -= len(batch)
            n += len(batch)
            with lock:  # the write and its mark together: the mark counts it
                events.ingest("claude", batch)
                written[0] += len(batch)
                marks.append((time.monotonic(), written[0]))
            sender.nudge()
            ticks = int((time.monotonic() - start) / tick) + 1
            stop.wait(max(0.0, start + ticks * tick - time.monotonic()))

    rss0 = hub.rss_kib
    for _, sender in machines:
        sender.start()
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    threads = [threading.Thread(target=machine, args=(i, *m), daemon=True)
               for i, m in enumerate(machines)]  # fmt: skip
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(10)
    stop.clear()
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    deadline = time.monotonic() + 60
    while (not seen or seen[-1][1] < written[0]) and time.monotonic() < deadline:
        time.sleep(0.1)
    rss1 = hub.rss_kib
    stop.set()
    watcher.join(5)
    for _, sender in machines:
        sender.close()
    final = hub.reqs() or 0
    hub.close()
    latencies = []
    j = 0
    for t, total in marks:
        while j < len(seen) and seen[j][1] < total:
            j += 1
        if j < len(seen):
            latencies.append(max(0.0, seen[j][0] - t))
    p99 = percentile(latencies, 0.99) if latencies else float("inf")
    growth = (rss1 - rss0) / 1024
    lost = written[0] - final
    label = f"{MACHINES} machines x {PER_MINUTE:,}/min for {seconds:.0f} s (issue: 5 min)"
    return [
        (f"hub ingest: {label}", f"{written[0]:,} records written, {final:,} at the hub"),
        ("  lost or counted twice [0]", f"{lost:,}{missed(lost == 0)}"),
        ("  p99 record -> hub snapshot [<= 2 s]", f"{p99:.2f} s{missed(p99 <= 2.0)}"),
        (
            "  p50 record -> hub snapshot",
            f"{percentile(latencies, 0.5):.2f} s" if latencies else "n/a",
        ),
        ("  hub RSS growth [<= 50 MB]", f"{growth:.1f} MB{missed(growth <= 50)}"),
    ]


def bench_catch_up(root: Path) -> list[tuple[str, str]]:
    hub = HubProcess(root)
    url = f"http://127.0.0.1:{hub.otlp}/v1/logs"
    events, sender = _machine(root, 99, url)
    sender.outbox.enable()
    now = time.time_ns()
    step = 23 * 3600 * S // CATCH_UP  # over the 24 h before now, inside the hub's window
    for start in range(0, CATCH_UP, 5000):
        events.ingest("claude", [_record(99, n, now - 23 * 3600 * S + n * step)
                                 for n in range(start, start + 5000)])  # fmt: skip
    peak = [_rss_kib()]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], _rss_kib())

    rss0 = _rss_kib()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.monotonic()
    sender.start()
    while sender.outbox.pending() and time.monotonic() - t0 < 300:
        time.sleep(0.05)
    elapsed = time.monotonic() - t0
    done.set()
    sampler.join(5)
    sender.close()
    deadline = time.monotonic() + 30
    while (hub.reqs() or 0) < CATCH_UP and time.monotonic() < deadline:
        time.sleep(0.1)
    at_hub = hub.reqs() or 0
    hub.close()
    growth = (peak[0] - rss0) / 1024
    return [
        (
            f"catch-up: {CATCH_UP:,} records over 24 h [<= 30 s]",
            f"{elapsed:.1f} s{missed(elapsed <= 30)}",
        ),
        ("  at the hub after catch-up", f"{at_hub:,}{missed(at_hub == CATCH_UP)}"),
        ("  sender RSS growth while catching up (batches of 2,000)", f"{growth:.1f} MB"),
    ]


def run() -> list[tuple[str, str]]:
    seconds = float(os.environ.get("BENCH_HUB_SECONDS", "60"))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "a").mkdir()
        (root / "b").mkdir()
        return [*bench_catch_up(root / "b"), *bench_ingest(root / "a", seconds)]


if __name__ == "__main__":
    for figure, value in run():
        print(f"  {figure:<58} {value}")
