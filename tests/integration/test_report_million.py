"""A week of history with a million events renders, and its charts add up to the headline."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import pytest

from burntray.report.build import write_report
from burntray.report.data import collect
from burntray.report.html import render_html
from burntray.sources.hexai import history as hexai_history
from tests.report_support import (
    NOW,
    NS,
    fixed_context,
    read_html,
    spread_events,
    write_stats_file,
)

WEEK = 7 * 86400 * NS


@pytest.mark.slow
def test_a_million_history_rows_render(hexai_dir: Path) -> None:
    events = spread_events(1_000_000, WEEK, NOW)
    ctx = fixed_context()
    history = ctx.history()
    assert history is not None
    assert hexai_history.ingest(history, events) == 1_000_000
    last_hour = [ev for ev in events if ev.ts_ns >= NOW - 3600 * NS]
    write_stats_file(hexai_dir, last_hour, NOW)
    settings = ctx.settings.replace(window="7d")

    data = collect(ctx, settings)
    assert data.snapshot.totals.reqs == 1_000_000
    assert data.rate is not None and data.cost is not None
    assert data.rate.reqs == data.cost.reqs == 1_000_000
    assert data.cost.cost_usd == pytest.approx(data.snapshot.totals.cost_usd, rel=1e-9)
    assert len(data.rate.buckets) <= 241
    page = read_html(render_html(data, _dt.UTC))
    assert page.by_id["fig-reqs"] == "Requests 1,000,000"
    assert len(page.tables["model-table"]) == 6  # header and five models

    path = write_report(ctx, settings)
    assert path.stat().st_size < 400_000  # bounded by the bucket count, not the row count
    ctx.close()
