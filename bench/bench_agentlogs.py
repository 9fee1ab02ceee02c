"""Claude Code logs read directly (issue 14), measured against the real ccusage in this run.

- cold: the first full scan of ~1 GB of generated logs (realistic line sizes: tool results of
  1-12 KB, assistant lines with text, streaming duplicates) by ``burntray status --source
  claude`` on an empty history, beside ``ccusage claude daily --json --offline`` on the same files;
- warm: ``burntray status --source claude --window 7d`` after one new line (whole process),
  beside ccusage answering the same question (``daily --since`` 7 days ago);
- live: a line appended -> the monitor publishes it (what sets the tray title), p99;
- idle: the process's CPU with the source and its watcher running and nothing written.

ccusage is the npm package ccusage@20.0.24 (native binary), installed under .venv/ when npm is
there; without npm its rows say so. Sizes can be lowered for a quick look with
BURNTRAY_BENCH_AGENTLOGS_MB and BURNTRAY_BENCH_AGENTLOGS_IDLE_S.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.agent_logs_support import (  # noqa: E402
    ccusage_binary,
    claude_line,
    generate_claude_logs,
)

from bench_core import compile_bytecode  # noqa: E402 - bench/ is on sys.path (run.py)
from burntray.config import Settings  # noqa: E402
from burntray.model.pricing import build_price_table  # noqa: E402
from burntray.model.snapshot import Snapshot  # noqa: E402
from burntray.runtime.monitor import Monitor  # noqa: E402
from burntray.store.history import HistoryStore  # noqa: E402
from target import missed, percentile  # noqa: E402

MB = 1024 * 1024
DATA_MB = int(os.environ.get("BURNTRAY_BENCH_AGENTLOGS_MB", "1024"))
IDLE_S = float(os.environ.get("BURNTRAY_BENCH_AGENTLOGS_IDLE_S", "60"))
FILES = 400
LIVE_APPENDS = 200
WARM_RUNS = 5
POLLED_APPENDS = 20


def _burntray(env: dict[str, str], *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "burntray", *args],
        env=env, capture_output=True, text=True, timeout=1800, check=True,
    )  # fmt: skip
    return time.perf_counter() - started, done.stdout


def _ccusage(binary: Path, config: Path, home: Path, *extra: str) -> float:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "TZ": "UTC",
           "CLAUDE_CONFIG_DIR": str(config)}  # fmt: skip
    started = time.perf_counter()
    subprocess.run(
        [str(binary), "claude", "daily", "--json", "--offline", "--timezone", "UTC", *extra],
        env=env, capture_output=True, timeout=1800, check=True,
    )  # fmt: skip
    return time.perf_counter() - started


def _append_line(path: Path, n: int) -> None:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    line = claude_line(stamp, f"bench_{n}_{time.time_ns()}", f"req_{n}",
                       "claude-sonnet-4-5-20250929", 3, 40, 0, 1000)  # fmt: skip
    with path.open("a") as fh:
        fh.write(line + "\n")


def _cold_and_warm(work: Path, binary: Path | None) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    compile_bytecode()  # whole-process figures are for an installed burntray (see bench_core)
    config = work / "claude"
    started = time.perf_counter()
    generate_claude_logs(config / "projects", DATA_MB * MB, FILES)
    size = sum(f.stat().st_size for f in (config / "projects").rglob("*.jsonl"))
    rows.append((f"generated Claude logs ({FILES} files)",
                 f"{size / MB:.0f} MB in {time.perf_counter() - started:.1f} s"))  # fmt: skip
    env = {**os.environ, "BURNTRAY_HOME": str(work / "burntray"),
           "CLAUDE_CONFIG_DIR": str(config), "HOME": str(work / "home")}  # fmt: skip
    (work / "home").mkdir(exist_ok=True)
    args = ("status", "--source", "claude", "--window", "7d", "--format", "json")
    cold, _out = _burntray(env, *args)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    rows.append(("cold: burntray first scan + history (whole process)", f"{cold:.2f} s"))
    rows.append(("cold: burntray peak RSS [< 150 MB]",
                 f"{peak_kb / 1024:.0f} MB{missed(peak_kb < 150 * 1024)}"))  # fmt: skip
    cc_cold = None
    if binary is not None:
        cc_cold = _ccusage(binary, config, work / "home")
        ratio = cold / cc_cold
        rows.append(("cold: ccusage claude daily --offline (whole process)", f"{cc_cold:.2f} s"))
        rows.append(("cold: burntray / ccusage [<= 1.5]", f"{ratio:.2f}{missed(ratio <= 1.5)}"))
    target = next((config / "projects").rglob("*.jsonl"))
    warm = []
    for n in range(WARM_RUNS):
        _append_line(target, n)
        took, out = _burntray(env, *args)
        warm.append(took)
    median = statistics.median(warm)
    warm_text = f"{median:.3f} s (median of {WARM_RUNS}){missed(median <= 0.1)}"
    rows.append(("warm: status --source claude --window 7d after 1 line [<= 0.1 s]", warm_text))
    if binary is not None:
        since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=7)).strftime("%Y%m%d")
        cc_warm = statistics.median(
            _ccusage(binary, config, work / "home", "--since", since) for _ in range(3)
        )
        ratio = median / cc_warm
        rows.append(("warm: ccusage daily --since (same 7 d answer)", f"{cc_warm:.3f} s"))
        rows.append(("warm: burntray / ccusage [<= 0.1]", f"{ratio:.2f}{missed(ratio <= 0.1)}"))
    try:
        figures = json.loads(out)
        rows.append(("warm: 7 d requests / cost seen by burntray", _brief(figures)))
    except ValueError:
        pass
    return rows


def _brief(figures: object) -> str:
    if isinstance(figures, dict):
        totals = figures.get("totals", figures)
        if isinstance(totals, dict):
            return f"{totals.get('reqs')} requests, ${totals.get('cost_usd', 0):.2f}"
    return "?"


class _Follower:
    """A monitor following the claude source as the tray runs it."""

    def __init__(self, config: Path, history: HistoryStore, *, watch: bool = True) -> None:
        from burntray.sources.agent_logs.source import claude_source

        self.source = claude_source([config], build_price_table(), history, watch=watch)
        self.seen: list[tuple[int, int]] = []  # (published at, newest record's time)
        self.changed = threading.Event()
        settings = Settings(source="claude", poll_interval_s=1.0)
        self.monitor = Monitor(settings, lambda _s: self.source, history=history)
        self.monitor.observers.append(self._observe)
        self.monitor.start()

    def _observe(self, snapshot: Snapshot) -> None:
        if snapshot.data_updated_ns is not None:
            self.seen.append((time.time_ns(), snapshot.data_updated_ns))
        self.changed.set()

    def wait_for(self, at_ns: int, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for published, updated in reversed(self.seen):
                if updated >= at_ns:
                    return published
            self.changed.wait(0.01)
            self.changed.clear()
        return None


def _live_and_idle(work: Path) -> list[tuple[str, str]]:
    config = work / "live"
    generate_claude_logs(config / "projects", 20 * MB, 50)
    target = next((config / "projects").rglob("*.jsonl"))
    history = HistoryStore(work / "live-history.sqlite3")
    follower = _Follower(config, history)
    rows: list[tuple[str, str]] = []
    try:
        time.sleep(2.0)  # the first scan
        latencies = []
        for n in range(LIVE_APPENDS):
            stamp_ns = (time.time_ns() // 1_000_000) * 1_000_000
            wrote = time.time_ns()
            _append_line(target, n)
            published = follower.wait_for(stamp_ns, 5.0)
            latencies.append(((published or time.time_ns()) - wrote) / 1e6)
            time.sleep(0.02)
        latencies.sort()
        p50 = latencies[len(latencies) // 2]
        p99 = percentile(latencies, 0.99)
        rows.append(("live: append -> monitor publishes, p50", f"{p50:.1f} ms"))
        rows.append(("live: append -> monitor publishes, p99 [<= 50 ms with inotify]",
                     f"{p99:.1f} ms{missed(p99 <= 50)}"))  # fmt: skip
        rows.append(("live: watching", ", ".join(f"{f.label}: {f.value}"
                                                 for f in follower.source.facts()
                                                 if f.label == "Live")))  # fmt: skip
        cpu0 = time.process_time()
        wall0 = time.perf_counter()
        time.sleep(IDLE_S)
        share = (time.process_time() - cpu0) / (time.perf_counter() - wall0) * 100
        rows.append((f"idle: CPU over {IDLE_S:.0f} s, source + watcher + monitor [<= 0.1 %]",
                     f"{share:.3f} % of a core{missed(share <= 0.1)}"))  # fmt: skip
    finally:
        follower.monitor.stop()
        follower.source.close()
        history.close()
    return rows


def _polling_latency(work: Path) -> list[tuple[str, str]]:
    """Without inotify (macOS, Windows): the poll every 1 s finds the appended line."""
    config = work / "polled"
    generate_claude_logs(config / "projects", 5 * MB, 20)
    target = next((config / "projects").rglob("*.jsonl"))
    history = HistoryStore(work / "polled-history.sqlite3")
    follower = _Follower(config, history, watch=False)
    latencies = []
    try:
        time.sleep(2.0)
        for n in range(POLLED_APPENDS):
            stamp_ns = (time.time_ns() // 1_000_000) * 1_000_000
            wrote = time.time_ns()
            _append_line(target, 10_000 + n)
            published = follower.wait_for(stamp_ns, 5.0)
            latencies.append(((published or time.time_ns()) - wrote) / 1e9)
            time.sleep(0.137 * (n % 7))  # appends at every phase of the poll
    finally:
        follower.monitor.stop()
        follower.source.close()
        history.close()
    latencies.sort()
    p99 = percentile(latencies, 0.99)
    return [
        (
            f"live, polling (no inotify), {POLLED_APPENDS} appends: p99 [<= 1.1 s]",
            f"{p99:.2f} s{missed(p99 <= 1.1)}",
        )
    ]


def run() -> list[tuple[str, str]]:
    binary = None
    try:
        binary = ccusage_binary()
    except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
        print(f"  (ccusage could not be installed: {exc})")
    rows: list[tuple[str, str]] = []
    if binary is None:
        rows.append(("ccusage", "npm not installed: ccusage rows skipped"))
    with tempfile.TemporaryDirectory(prefix="burntray-bench-agentlogs-") as tmp:
        work = Path(tmp)
        rows += _cold_and_warm(work, binary)
        rows += _live_and_idle(work)
        rows += _polling_latency(work)
    return rows


if __name__ == "__main__":
    for figure, value in run():
        print(f"  {figure:<58} {value}")
