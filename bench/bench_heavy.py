"""A heavy user's week (issue 22): warm answers must cost what changed, not how much history.

A private home holds ~153 MB of Claude Code logs in the real layout: 240,000 requests in the
last 7 days over six busy sessions (``tests.agent_logs_support.generate_heavy_week``), beside a
week of Codex sessions and a hexai cache (so ``all`` has three members). Measured side by side
in this one run:

- cold: ``status --source claude --window 7d --format json`` on an empty history (first scan),
  three times, taking turns with ccusage's three runs (the median of each)
- ccusage 20.0.24 ``claude daily --json --offline`` on the same logs (it rescans every time);
- warm: the same status, ``--format json`` and ``--format tmux``, each run after one new log
  line (whole process, median; peak RSS of the largest run);
- warm: ``status --source all --format tmux`` (whole process, median);
- the tray's monitor following the logs with one new line a second: its CPU share and RSS.

The tray run lasts BURNTRAY_BENCH_HEAVY_TRAY_S seconds: by default the 10 minutes the target
names (a flat RSS needs that long to tell a leak from caches filling); 60 shortens it for a
quick look.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tests.agent_logs_support import (  # noqa: E402
    ccusage_binary,
    claude_line,
    codex_token_count,
    codex_turn_context,
    codex_usage,
    generate_heavy_week,
)

from bench_core import compile_bytecode  # noqa: E402
from target import missed  # noqa: E402

MB = 1024 * 1024
WARM_RUNS = 7
CCUSAGE_RUNS = 3
CPU: list[float] = []  # of each process _run ran, in order
TRAY_S = float(os.environ.get("BURNTRAY_BENCH_HEAVY_TRAY_S", "600"))


def _run(env: dict[str, str], argv: list[str], out: Path) -> tuple[float, float]:
    """Run ``argv`` to completion: (wall seconds, peak RSS in MB of that one process); its CPU
    seconds (user + system) go to ``CPU`` (the wall time of a loaded machine varies, not
    that)."""
    started = time.perf_counter()
    with out.open("wb") as sink:
        proc = subprocess.Popen(argv, env=env, stdout=sink, stderr=subprocess.DEVNULL)
        _pid, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - started
    CPU.append(usage.ru_utime + usage.ru_stime)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in {0, 1}:  # 1: a source partly stale (hexai idle): still an answer
        raise RuntimeError(f"{argv[2:]} exited {proc.returncode}")
    return took, usage.ru_maxrss / 1024


def _burntray(env: dict[str, str], out: Path, *args: str) -> tuple[float, float]:
    return _run(env, [sys.executable, "-m", "burntray", *args], out)


class _Appender:
    """Appends one new request to a session log, as Claude Code does while it works."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.n = 0

    def __call__(self) -> None:
        self.n += 1
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        line = claude_line(stamp, f"msg_heavy_{self.n}_{time.time_ns()}", f"req_h{self.n}",
                           "claude-sonnet-4-5-20250929", 3, 40, 0, 1000)  # fmt: skip
        with self.path.open("a") as fh:
            fh.write(line + "\n")


def _codex_week(home: Path, end: float) -> None:
    """Twenty Codex sessions over the week, 100 turns each."""
    for s in range(20):
        t0 = end - 7 * 86400 + s * 8 * 3600
        day = dt.datetime.fromtimestamp(t0, dt.UTC)
        folder = home / "sessions" / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"
        folder.mkdir(parents=True, exist_ok=True)
        lines = [codex_turn_context(_iso(t0), "gpt-5-codex")]
        for n in range(100):
            usage = codex_usage(3000 + n, 1000, 200 + n)
            lines.append(codex_token_count(_iso(t0 + 1 + n * 30), usage, None))
        (folder / f"rollout-{day:%Y-%m-%dT%H-%M-%S}-{s}.jsonl").write_text("\n".join(lines) + "\n")


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _hexai(cache: Path) -> None:
    from burntray.sources.hexai.writer import hexai_update

    for i in range(500):
        hexai_update(cache / "hexai", "openai", f"gpt-4.1{'-mini' if i % 3 else ''}", 4000 + i, 900)


def _answer(out: Path) -> str:
    """The figures a warm JSON answer gave: 7 d requests and cost, and the block."""
    try:
        doc = json.loads(out.read_text())
    except ValueError:
        return "unreadable JSON"
    totals = doc.get("totals", {})
    block = doc.get("block") or {}
    cost, block_cost = totals.get("cost_usd", 0), block.get("cost_usd", 0)
    return (
        f"{totals.get('reqs')} requests, ${cost:.2f}; block "
        f"{block.get('start')} {block.get('reqs')} requests, ${block_cost:.2f}"
    )


def _tray(env: dict[str, str], append: _Appender) -> list[tuple[str, str]]:
    """The monitor as the tray runs it (7 d window), one new line a second: CPU and RSS."""
    os.environ.update(env)
    from burntray.app import AppContext
    from burntray.runtime.monitor import Monitor

    ctx = AppContext.load()
    settings = ctx.settings.replace(source="claude", window="7d", poll_interval_s=1.0)
    published = threading.Event()
    monitor = Monitor(settings, ctx.build_source, history=ctx.history())
    monitor.observers.append(lambda _s: published.set())
    monitor.start()
    try:
        published.wait(60)  # the first (warm) read
        start_rss = _rss_mb()
        settled_rss = start_rss  # after the first tenth of the run (at most a minute)
        settle_s = min(60.0, TRAY_S / 10)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        next_at = wall0
        while time.perf_counter() - wall0 < TRAY_S:
            append()
            next_at += 1.0
            time.sleep(max(0.0, next_at - time.perf_counter()))
            if settled_rss == start_rss and time.perf_counter() - wall0 >= settle_s:
                settled_rss = _rss_mb()
        share = (time.process_time() - cpu0) / (time.perf_counter() - wall0) * 100
        end_rss = _rss_mb()
    finally:
        monitor.stop()
        ctx.close()
    growth = end_rss - start_rss
    # A leak shows as growth that goes on once the caches (SQLite's page cache, the duplicate
    # groups) have filled: the figure after the first tenth of the run tells them apart.
    later = end_rss - settled_rss
    return [
        (f"tray: monitor CPU, 1 new line/s for {TRAY_S:.0f} s [<= 1 %]",
         f"{share:.2f} % of a core{missed(share <= 1.0)}"),
        ("tray: RSS at start -> end (flat)",
         f"{start_rss:.0f} -> {end_rss:.0f} MB (+{growth:.1f}){missed(growth <= 5)}"),
        (f"tray: RSS after {settle_s:.0f} s -> end",
         f"{settled_rss:.1f} -> {end_rss:.1f} MB (+{later:.1f})"),
    ]  # fmt: skip


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run() -> list[tuple[str, str]]:
    compile_bytecode()  # whole-process figures are for an installed burntray (see bench_core)
    binary = None
    try:
        binary = ccusage_binary()
    except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
        print(f"  (ccusage could not be installed: {exc})")
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="burntray-bench-heavy-") as tmp:
        work = Path(tmp)
        home, config = work / "home", work / "claude"
        home.mkdir()
        end = time.time()
        started = time.perf_counter()
        size = generate_heavy_week(config, end_ts=end)
        _codex_week(work / "codex", end)
        _hexai(work / "cache")
        rows.append(("generated: Claude Code logs, 240,000 requests in 7 d, 6 sessions",
                     f"{size / MB:.0f} MB in {time.perf_counter() - started:.1f} s"))  # fmt: skip
        env = {**os.environ, "HOME": str(home), "CLAUDE_CONFIG_DIR": str(config),
               "CODEX_HOME": str(work / "codex"),
               "XDG_CACHE_HOME": str(work / "cache")}  # fmt: skip
        out = work / "out.txt"
        claude = ("status", "--source", "claude", "--window", "7d")
        cc_env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "TZ": "UTC",
                  "CLAUDE_CONFIG_DIR": str(config)}  # fmt: skip
        cc_argv = [str(binary), "claude", "daily", "--json", "--offline", "--timezone", "UTC"]
        # burntray's first scan (each on an empty history) and ccusage's take turns, so a slow
        # stretch of the shared machine falls on both; the last history is the warm runs'
        colds, cold_rss, ccs = [], 0.0, []
        for n in range(CCUSAGE_RUNS):
            env["BURNTRAY_HOME"] = str(work / f"burntray-{n}")
            took, rss = _burntray(env, out, *claude, "--format", "json")
            colds.append(took)
            cold_rss = max(cold_rss, rss)
            if binary is not None:
                ccs.append(_run(cc_env, cc_argv, work / "cc.json")[0])
        cold = statistics.median(colds)
        rows.append((f"cold: first scan, status --format json (whole process, median of "
                     f"{CCUSAGE_RUNS})", f"{cold:.2f} s"))  # fmt: skip
        rows.append(("cold: peak RSS [<= 150 MB]",
                     f"{cold_rss:.0f} MB{missed(cold_rss <= 150)}"))  # fmt: skip
        cc = None
        if binary is not None:
            cc = statistics.median(ccs)
            rows.append((f"ccusage claude daily --json --offline (median of {CCUSAGE_RUNS})",
                         f"{cc:.2f} s"))  # fmt: skip
            ratio = cold / cc
            rows.append(("cold: burntray / ccusage [<= 1.5]", f"{ratio:.2f}{missed(ratio <= 1.5)}"))
        else:
            rows.append(("ccusage", "npm not installed: ccusage rows skipped"))
        append = _Appender(next((config / "projects").rglob("*.jsonl")))
        # the same command where there is nothing at all: what start-up alone costs here
        empty = {**env, "BURNTRAY_HOME": str(work / "empty"), "CLAUDE_CONFIG_DIR": str(home)}
        del CPU[:]
        walls = [_burntray(empty, out, *claude, "--format", "tmux")[0] for _ in range(WARM_RUNS)]
        text = f"{statistics.median(walls):.3f} s, CPU {statistics.median(CPU):.3f} s"
        rows.append(("start-up alone: the tmux status on an empty home (median)", text))
        for fmt in ("json", "tmux"):
            walls, peaks = [], []
            del CPU[:]
            for _ in range(WARM_RUNS):
                append()
                took, peak = _burntray(env, out, *claude, "--format", fmt)
                walls.append(took)
                peaks.append(peak)
            median = statistics.median(walls)
            rows.append((f"warm {fmt}: CPU (user + system, median)",
                         f"{statistics.median(CPU):.3f} s"))  # fmt: skip
            text = f"{median:.3f} s (median of {WARM_RUNS}){missed(median <= 0.1)}"
            name = f"warm: status --source claude --window 7d --format {fmt} [<= 0.1 s]"
            rows.append((name, text))
            if cc is not None:
                ratio = median / cc
                rows.append((f"warm {fmt}: burntray / ccusage [<= 0.1]",
                             f"{ratio:.3f}{missed(ratio <= 0.1)}"))  # fmt: skip
            rows.append((f"warm {fmt}: peak RSS [<= 60 MB]",
                         f"{max(peaks):.0f} MB{missed(max(peaks) <= 60)}"))  # fmt: skip
            if fmt == "json":
                rows.append(("warm json: the answer", _answer(out)))
        every = ("status", "--source", "all", "--format", "tmux")
        _burntray(env, out, *every)  # the first read of codex and hexai
        walls = []
        del CPU[:]
        for _ in range(WARM_RUNS):
            append()
            walls.append(_burntray(env, out, *every)[0])
        median = statistics.median(walls)
        rows.append(("warm all: CPU (user + system, median)", f"{statistics.median(CPU):.3f} s"))
        text = f"{median:.3f} s (median of {WARM_RUNS}){missed(median <= 0.15)}"
        rows.append(("warm: status --source all --format tmux [<= 0.15 s]", text))
        rows.append(("warm all: the line", out.read_text().strip()))
        rows += _tray(env, append)
    return rows


if __name__ == "__main__":
    for figure, value in run():
        print(f"  {figure:<58} {value}")
