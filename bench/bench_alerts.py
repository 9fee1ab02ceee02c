"""Alert benchmarks (issue 8): what the alert engine adds to every monitor tick.

The engine runs on every poll (1 s by default): it asks the source for two more windows (5 min
and 65 min, the latter partly from history) and runs the detector. Measured on a realistic
hexai cache: 20,000 events in the last hour across 10 models, with the history attached and a
day of events (10/min) behind it.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import tempfile
import time
from pathlib import Path

from burntray.config import Settings
from burntray.model.alerts import AlertConfig, AlertState, Reading, TopUsage, evaluate
from burntray.model.pricing import build_price_table
from burntray.model.timefmt import format_rfc3339_ns
from burntray.runtime.alerting import AlertEngine
from burntray.sources.hexai import history as hexai_history
from burntray.sources.hexai.history import HexaiEvent
from burntray.sources.hexai.source import HexaiSource
from burntray.store.history import HistoryStore
from target import missed

NS_PER_S = 1_000_000_000
EVENTS = 20_000
MODELS = [("anthropic", f"claude-sonnet-4-{i}") for i in range(5)] + [
    ("openai", f"gpt-4.1-{i}") for i in range(5)
]


def _fill(cache_dir: Path, now: int) -> None:
    step = 3600 * NS_PER_S // EVENTS
    events = [
        {
            "ts": format_rfc3339_ns(now - 3600 * NS_PER_S + i * step),
            "provider": MODELS[i % 10][0],
            "model": MODELS[i % 10][1],
            "sent": 4000 + i % 700,
            "recv": 800 + i % 300,
        }
        for i in range(EVENTS)
    ]
    body = {"version": 1, "updated_at": format_rfc3339_ns(now), "window_seconds": 3600}
    body["events"] = events  # type: ignore[assignment]
    cache_dir.mkdir(parents=True)
    (cache_dir / "stats.json").write_text(json.dumps(body))


def _median_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def run() -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    now = int(dt.datetime(2027, 3, 10, 18, 0, tzinfo=dt.UTC).timestamp()) * NS_PER_S
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _fill(root / "hexai", now)
        history = HistoryStore(root / "history.sqlite3")
        older = [
            HexaiEvent(now - 3600 * NS_PER_S - i * 6 * NS_PER_S, *MODELS[i % 10], 4000, 800)
            for i in range(1, 14_400)
        ]
        hexai_history.ingest(history, older)
        source = HexaiSource(root / "hexai", build_price_table({}), history, lambda: now)
        source.poll()

        ticks = 300
        plain, with_alerts, with_budget = [], [], []
        engine = AlertEngine(Settings(), history, None, tz=dt.UTC)
        budget_engine = AlertEngine(Settings(alert_daily_budget_usd=50.0), history, None, dt.UTC)
        for i in range(ticks):
            t = now + i * NS_PER_S
            start = time.perf_counter()
            snap = source.snapshot(3600 * NS_PER_S, t)
            mid = time.perf_counter()
            engine(snap, source)
            end = time.perf_counter()
            budget_engine(snap, source)
            plain.append(mid - start)
            with_alerts.append(end - mid)
            with_budget.append(time.perf_counter() - end)
        history.close()

    plain_us = f"{_median_us(plain):.0f} µs"
    rows.append(("monitor snapshot, 1 h window (20k events), median", plain_us))
    rows.append(
        (
            "alert engine per tick (5 min + 65 min windows), median",
            f"{_median_us(with_alerts):.0f} µs (target < 2000 µs)"
            + missed(_median_us(with_alerts) < 2000),
        )
    )
    rows.append(
        (
            "alert engine per tick with a daily budget, median",
            f"{_median_us(with_budget):.0f} µs (target < 2000 µs)"
            + missed(_median_us(with_budget) < 2000),
        )
    )
    rows.append(
        (
            "  same, slowest tick (today re-measured every 15 s)",
            f"{max(with_budget) * 1e6:.0f} µs",
        )
    )

    config = AlertConfig(daily_budget_usd=10.0, rpm_threshold=30.0)
    state = AlertState()
    top = TopUsage("anthropic", "claude-sonnet-4-5", 0.5, 10)
    reps = 20_000
    start = time.perf_counter()
    for i in range(reps):
        reading = Reading(now + i, 0.5 + (i % 7) * 0.1, 40, 1.0, top, top, "2027-03-10", 4.0)
        state = evaluate(config, state, reading, "hexai").state
    per_call = (time.perf_counter() - start) / reps * 1e6
    rows.append(
        (
            "detector evaluate(), per call",
            f"{per_call:.1f} µs (target < 50 µs){missed(per_call < 50)}",
        )
    )
    return rows
