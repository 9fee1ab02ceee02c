"""Figures an upstream reports beyond the window (cburn's daemon period) are the source's:
the core carries them as ``Snapshot.upstream`` and shows them as the source says, under the
JSON key and report heading it gives."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from msgspec.structs import replace

from burntray.model.export import snapshot_to_dict
from burntray.model.snapshot import Snapshot, SourceStatus
from burntray.report.data import collect
from burntray.report.html import render_html
from burntray.sources.cburn.period import DaemonPeriod, daemon_of
from tests.report_support import fixed_context

STARTED = 1_790_000_000 * 10**9

PERIOD = DaemonPeriod(
    days=30,
    sessions=120,
    prompts=900,
    api_calls=5400,
    tokens=81_234_567,
    estimated_cost_usd=412.37,
    cache_hit_rate=0.91,
    cost_per_day_usd=20.6,
    tokens_per_day=4_061_728,
    sessions_per_day=6.0,
    poll_interval_sec=15,
    started_at_ns=STARTED,
    last_error="",
    data_dir="/home/u/.claude",
)


def _snap(**changes: Any) -> Snapshot:
    return Snapshot("x", 3600 * 10**9, STARTED, SourceStatus("ok"), **changes)


def test_the_daemon_object_is_cburns_output_with_the_same_fields() -> None:
    out = snapshot_to_dict(_snap(upstream=PERIOD))
    assert out["daemon"] == {
        "days": 30,
        "sessions": 120,
        "prompts": 900,
        "api_calls": 5400,
        "tokens": 81_234_567,
        "estimated_cost_usd": 412.37,
        "cache_hit_rate": 0.91,
        "cost_per_day_usd": 20.6,
        "tokens_per_day": 4_061_728,
        "sessions_per_day": 6.0,
        "poll_interval_sec": 15,
        "at": None,
        "started_at": "2026-09-21T14:13:20Z",
        "last_poll_at": None,
        "last_error": None,
        "data_dir": "/home/u/.claude",
    }
    assert "daemon" not in snapshot_to_dict(_snap())
    assert daemon_of(_snap(upstream=PERIOD)) == PERIOD and daemon_of(_snap()) is None


class _Widgets:
    """Another source's own figures: the core needs no change to show them."""

    json_key = "widgets"
    title = "The widget server's own count"

    def to_json(self) -> dict[str, Any]:
        return {"count": 3}

    def report_rows(self, when: Callable[[int | None], str]) -> list[tuple[str, str]]:
        return [("Count", "3"), ("Since", when(STARTED))]


def test_any_sources_figures_reach_the_json_and_the_report(hexai_dir: Path) -> None:
    assert snapshot_to_dict(_snap(upstream=_Widgets()))["widgets"] == {"count": 3}
    ctx = fixed_context()
    try:
        data = collect(ctx, ctx.settings)
    finally:
        ctx.close()
    shown = replace(data, snapshot=replace(data.snapshot, upstream=_Widgets()))
    text = render_html(shown, _dt.UTC)
    assert "<h3>The widget server&#39;s own count</h3>" in text or (
        "<h3>The widget server's own count</h3>" in text
    )
    assert '<dl id="widgets">' in text
    assert "<dt>Since</dt><dd>2026-09-21 14:13:20 UTC</dd>" in text
    plain = render_html(data, _dt.UTC)
    assert "own count" not in plain and 'id="widgets"' not in plain


def test_the_report_shows_the_daemon_period_as_cburn_words_it(hexai_dir: Path) -> None:
    ctx = fixed_context()
    try:
        data = collect(ctx, ctx.settings)
    finally:
        ctx.close()
    shown = replace(data, snapshot=replace(data.snapshot, upstream=PERIOD))
    text = render_html(shown, _dt.UTC)
    assert '<dl id="daemon">' in text
    assert "cburn daemon" in text and "own period (its --days, not this window)</h3>" in text
    assert "<dt>Daemon started</dt><dd>2026-09-21 14:13:20 UTC</dd>" in text
    assert "<dt>Cache hit rate</dt><dd>91.0 %</dd>" in text
