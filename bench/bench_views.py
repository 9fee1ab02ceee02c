"""Views (issue 24): ``status --by day --window all`` over 1,000,000 records in burntray's
history, as a whole process (target <= 0.3 s); other groupings beside it, for reference.

The records go straight into a temporary history through the store API (90 days, two record
sources, four models, sessions, projects and branches), as a heavy user's would after a quarter
of use; no tool's logs are present, so the figures are the history's grouping alone.
"""

from __future__ import annotations

import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_core import compile_bytecode
from target import missed

ROWS = 1_000_000
DAYS = 90
TARGET_S = 0.3
RUNS = 7
MODELS = ("claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5", "gpt-5-codex")


def _fill(history_db: Path, now_ns: int) -> None:
    from burntray.model.usage import UsageRecord
    from burntray.sources.registry import REGISTRY
    from burntray.store.history import HistoryStore
    from burntray.store.usage_events import UsageEvents

    history = HistoryStore(history_db, REGISTRY.history_tables())
    events = UsageEvents(history)
    rng = random.Random(24)
    span = DAYS * 86400 * 10**9
    batch: list[UsageRecord] = []
    for i in range(ROWS):
        source = "claude" if i % 4 else "codex"
        model = MODELS[3] if source == "codex" else rng.choice(MODELS[:3])
        tokens = (rng.randrange(1, 5000), rng.randrange(1, 2000), rng.randrange(0, 90000),
                  rng.randrange(0, 9000))  # fmt: skip
        ts = now_ns - rng.randrange(span)
        key, session = f"{source}-{i}", f"s{i // 400}"
        batch.append(UsageRecord(ts, "anthropic", model, *tokens, rng.random() / 10, key, session,
                                 f"p{i % 7}", branch=f"b{i % 5}"))  # fmt: skip
        if len(batch) == 100_000:
            for name in ("claude", "codex"):
                events.ingest(name, [r for r in batch if r.key.startswith(name)])
            batch.clear()
    history.close()


def _time(env: dict[str, str], *args: str) -> tuple[float, float, str]:
    """Median wall time and CPU time (user + system) of the whole process, and its output."""
    times, cpu = [], []
    out = ""
    for _ in range(RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "burntray", "status", *args],
            env=env, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        out = done.stdout
    return statistics.median(times), statistics.median(cpu), out


def run() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "BURNTRAY_HOME": str(Path(tmp) / "burntray"), "HOME": tmp}
        from burntray.paths import app_paths

        db = app_paths(env).history_db
        started = time.perf_counter()
        _fill(db, time.time_ns())
        fill_s = time.perf_counter() - started
        compile_bytecode()  # as installed: no compiling of sources on every start
        day_s, day_cpu, table = _time(env, "--by", "day", "--window", "all")
        days = sum(1 for line in table.splitlines() if line[:2] == "20")
        empty_s, empty_cpu, _ = _time(env, "--format", "tmux")
        rows = [
            (f"history: {ROWS:,} records over {DAYS} days written", f"{fill_s:.1f} s"),
            (
                "status --by day --window all (whole process, median)",
                f"{day_s:.3f} s wall, {day_cpu:.3f} s CPU ({days} days; target <= {TARGET_S} s)"
                + missed(day_s <= TARGET_S),
            ),
            ("status --format tmux on the same home (start-up alone)",
             f"{empty_s:.3f} s wall, {empty_cpu:.3f} s CPU"),
        ]  # fmt: skip
        for args in (("--by", "month,tool"), ("--by", "week,model"), ("--by", "project,branch")):
            took, took_cpu, _ = _time(env, *args, "--window", "all")
            rows.append((f"status {' '.join(args)} --window all (median)",
                         f"{took:.3f} s wall, {took_cpu:.3f} s CPU"))  # fmt: skip
        return rows
