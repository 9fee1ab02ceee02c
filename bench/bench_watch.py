"""The watch backends side by side (issue 21): burntray's inotify reader (Linux) and watchdog's
observer (what macOS and Windows use, run here on Linux's inotify). Each in a process of its own
watching one folder: what it adds in memory and threads, its wake-ups and CPU while nothing
changes, and how long an atomic replace of ``stats.json`` takes to reach the callback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

IDLE_S = 10
REPLACES = 30

PROBE = textwrap.dedent(
    """
    import json, os, statistics, sys, tempfile, threading, time
    from pathlib import Path

    def rss_kb():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def cpu_s():
        fields = open("/proc/self/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def switches():
        total = 0
        for task in os.listdir("/proc/self/task"):
            try:
                for line in open(f"/proc/self/task/{task}/status"):
                    if line.startswith("voluntary_ctxt_switches"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total

    backend, idle_s, replaces = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    folder = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    woken, times = threading.Event(), []

    def on_change():
        times.append(time.perf_counter())
        woken.set()

    rss0, threads0 = rss_kb(), threading.active_count()
    from burntray.io.watch import FolderWatcher
    watcher = FolderWatcher(folder, frozenset({"stats.json"}), on_change, backend=backend)
    assert watcher.start(), backend
    rss1, threads1 = rss_kb(), threading.active_count()
    c0, s0 = cpu_s(), switches()
    time.sleep(idle_s)  # the idle time being measured, not a wait for a result
    c1, s1 = cpu_s(), switches()
    latencies = []
    for i in range(replaces):
        woken.clear()
        seen = len(times)
        temp = folder / f"stats.json.tmp.{i}"
        temp.write_text("{}")
        started = time.perf_counter()
        os.replace(temp, folder / "stats.json")
        assert woken.wait(30), "no wake"
        latencies.append(times[seen] - started)
    watcher.stop()
    print(json.dumps({
        "rss_mb": (rss1 - rss0) / 1024,
        "threads": threads1 - threads0,
        "cpu_pct": (c1 - c0) / idle_s * 100,
        "wakeups": (s1 - s0) / idle_s,
        "p50_ms": statistics.median(latencies) * 1000,
        "max_ms": max(latencies) * 1000,
    }))
    """
)


def measure(backend: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, backend, str(IDLE_S), str(REPLACES)],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ),
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


def run() -> list[tuple[str, str]]:
    if not sys.platform.startswith("linux"):
        return [("watch backends", "skipped: the comparison runs on Linux's inotify")]
    rows = []
    for backend in ("inotify", "watchdog"):
        m = measure(backend)
        rows += [
            (
                f"{backend}: idle {IDLE_S} s, wake-ups / CPU",
                f"{m['wakeups']:.1f} /s, {m['cpu_pct']:.2f} % of a core",
            ),
            (
                f"{backend}: memory / threads added",
                f"{m['rss_mb']:.1f} MB, {m['threads']:.0f} threads",
            ),
            (
                f"{backend}: replace of stats.json to the wake, over {REPLACES}",
                f"p50 {m['p50_ms']:.1f} ms, max {m['max_ms']:.1f} ms",
            ),
        ]
    return rows
