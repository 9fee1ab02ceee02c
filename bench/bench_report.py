"""Report benchmarks (issue 6): a 7-day report over 1,000,000 history rows, end to end."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from burntray.sources.hexai import history as hexai_history
from target import missed

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.report_support

ROWS = 1_000_000
WEEK_NS = 7 * 86400 * 1_000_000_000
TARGET_S = 1.5


def run() -> list[tuple[str, str]]:
    from tests.report_support import spread_events, write_stats_file

    from burntray.app import AppContext
    from burntray.report.build import write_report

    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "BURNTRAY_HOME": str(Path(tmp) / "burntray"),
            "XDG_CACHE_HOME": str(Path(tmp) / "xdg-cache"),
            "HOME": tmp,
        }
        now = time.time_ns()
        events = spread_events(ROWS, WEEK_NS, now)
        setup = AppContext.load(env)
        history = setup.history()
        assert history is not None
        hexai_history.ingest(history, events)
        setup.close()
        last_hour = [ev for ev in events if ev.ts_ns >= now - 3600 * 1_000_000_000]
        write_stats_file(Path(tmp) / "xdg-cache" / "hexai", last_hour, now)

        def one(fmt: str) -> tuple[float, int]:
            started = time.perf_counter()
            ctx = AppContext.load(env)  # a fresh context: opening the history is part of it
            path = write_report(ctx, ctx.settings.replace(window="7d"), fmt)
            ctx.close()
            return time.perf_counter() - started, path.stat().st_size

        html = [one("html") for _ in range(5)]
        csv_s, csv_size = one("csv")
        json_s, json_size = one("json")
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "burntray", "report", "--window", "7d"],
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )
        cli_s = time.perf_counter() - started
    median = statistics.median(s for s, _ in html)
    return [
        ("history rows / live stats.json events", f"{ROWS:,} / {len(last_hour):,}"),
        (
            "HTML report, 7d, in process: first run",
            f"{html[0][0]:.3f} s (target <= {TARGET_S} s){missed(html[0][0] <= TARGET_S)}",
        ),
        (
            "HTML report, 7d, in process: median of 5",
            f"{median:.3f} s (target <= {TARGET_S} s){missed(median <= TARGET_S)}",
        ),
        (
            "`burntray report --window 7d` (new process)",
            f"{cli_s:.3f} s (target <= {TARGET_S} s){missed(cli_s <= TARGET_S)}",
        ),
        ("HTML file size", f"{html[0][1] / 1000:.1f} kB"),
        ("CSV report, 7d", f"{csv_s:.3f} s, {csv_size / 1000:.1f} kB"),
        ("JSON report, 7d (with series)", f"{json_s:.3f} s, {json_size / 1000:.1f} kB"),
    ]
