"""The report's figures are the snapshot's and the history's figures, in every format."""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import os
import stat
from pathlib import Path

import pytest
from msgspec.structs import replace

from burntray.cli import main
from burntray.model.aggregate import summarise_bytes
from burntray.model.export import snapshot_to_dict
from burntray.model.format import cost_text, human_count, rpm_text, usd
from burntray.model.pricing import build_price_table
from burntray.model.snapshot import Snapshot
from burntray.report.build import KEEP_REPORTS, render, write_report
from burntray.report.csv_out import CSV_COLUMNS
from burntray.report.data import chart_minutes, collect
from burntray.report.html import render_html
from burntray.report.json_out import report_to_dict
from burntray.report.timeline import build_timeline
from burntray.sources.cburn import history as cburn_history
from burntray.sources.cburn.chart import chart_minutes as cburn_chart_minutes
from burntray.sources.cburn.discovery import Discovery
from burntray.sources.cburn.history import Sample
from burntray.sources.cburn.source import CburnSource
from burntray.sources.hexai import history as hexai_history
from burntray.sources.hexai.history import HexaiEvent
from burntray.store.alert_store import ensure_alert_tables
from burntray.store.history import HistoryStore
from tests.report_support import (
    FIXED_EVENTS,
    MINUTE,
    NOW,
    NS,
    fixed_context,
    read_html,
    write_events,
)


def status_snapshot(window: str) -> Snapshot:
    """What ``burntray status`` computes: the same path, at the same instant."""
    ctx = fixed_context()
    settings = ctx.settings.replace(window=window)
    source = ctx.build_source(settings, with_history=False)
    try:
        source.poll()
        if source.needs_history(settings.window_ns, NOW):
            history = ctx.history()
            assert history is not None
            source.attach_history(history)
        return source.snapshot(settings.window_ns, NOW)
    finally:
        source.close()
        ctx.close()


def test_html_headline_and_tables_equal_the_snapshot(hexai_dir: Path) -> None:
    write_events(hexai_dir, FIXED_EVENTS)
    expected = status_snapshot("1h")
    assert expected.totals.reqs == len(FIXED_EVENTS)
    ctx = fixed_context()
    data = collect(ctx, ctx.settings)
    page = read_html(render_html(data, _dt.UTC))

    assert page.by_id["fig-reqs"] == f"Requests {expected.totals.reqs:,}"
    assert page.by_id["fig-rpm"].startswith(f"Requests / min {rpm_text(expected.totals.rpm)}")
    assert page.by_id["fig-tokens"].startswith(
        f"Tokens (est.) {human_count(expected.totals.tokens)}"
    )
    assert expected.totals.unpriced_reqs == 1
    assert (
        page.by_id["fig-cost"] == f"Cost {usd(expected.totals.cost_usd)} est. + 1 unpriced request"
    )
    assert cost_text(expected).startswith(f"{usd(expected.totals.cost_usd)} est. + 1 unpriced")
    assert page.by_id["fig-unpriced"].startswith("Unpriced share 14.3 %")  # 1 of 7
    models = page.tables["model-table"][1:]
    assert [(r[0], r[1], r[2]) for r in models] == [
        (row.provider, row.model, str(row.reqs)) for row in expected.by_model
    ]
    # Sorted by cost, most expensive first (unpriced and $0 local models tie at the end).
    assert [r[1] for r in models] == [
        "claude-sonnet-4-5",
        "gpt-4.1",
        "unknown-model-x",
        "llama3",
    ]
    assert models[2][7] == "unpriced (1)"
    providers = page.tables["provider-table"][1:]
    assert [r[0] for r in providers] == ["anthropic", "openai", "mystery", "ollama"]
    assert providers[0][2] == "3"  # anthropic's three requests over one model
    assert "no alerts recorded" in page.by_id["alerts-none"]


def test_json_and_csv_carry_the_status_figures(hexai_dir: Path) -> None:
    write_events(hexai_dir, FIXED_EVENTS)
    expected = status_snapshot("1h")
    ctx = fixed_context()
    data = collect(ctx, ctx.settings)
    doc = json.loads(render(data, "json"))
    want = snapshot_to_dict(expected, ctx.prices())
    for key in ("schema_version", "source", "window", "totals", "by_model", "pricing"):
        assert doc[key] == want[key], key
    assert doc["report"]["alerts"] is None
    assert sum(b["reqs"] for b in doc["report"]["requests_series"]["buckets"]) == 7

    rows = list(csv.reader(io.StringIO(render(data, "csv").decode())))
    assert tuple(rows[0]) == CSV_COLUMNS
    body = [dict(zip(CSV_COLUMNS, r, strict=True)) for r in rows[1:]]
    assert [(r["provider"], r["model"], int(r["reqs"])) for r in body] == [
        (row.provider, row.model, row.reqs) for row in expected.by_model
    ]
    for line, row in zip(body, expected.by_model, strict=True):
        assert int(line["sent_bytes"]) == row.sent
        assert int(line["tokens"]) == row.tokens
        if row.cost_usd is None:
            assert line["cost_usd"] == ""
            assert int(line["unpriced_reqs"]) == row.reqs
        else:
            assert float(line["cost_usd"]) == pytest.approx(row.cost_usd, abs=1e-6)


def test_seven_day_charts_add_up_to_the_history_and_the_headline(hexai_dir: Path) -> None:
    """Events older than the live file come from history; chart totals match both."""
    write_events(hexai_dir, FIXED_EVENTS)
    ctx = fixed_context()
    history = ctx.history()
    assert history is not None
    older = [
        HexaiEvent(NOW - (2 * 86400 + i * 3607) * NS + 17, "openai", "gpt-4.1", 1000 + i, 90)
        for i in range(50)
    ]
    older.append(HexaiEvent(NOW - 7 * 86400 * NS + 5, "openai", "gpt-4.1", 1, 1))  # edge: in
    older.append(HexaiEvent(NOW - 7 * 86400 * NS - 5, "openai", "gpt-4.1", 1, 1))  # edge: out
    hexai_history.ingest(history, older)
    ctx.close()

    expected = status_snapshot("7d")
    assert expected.history_used
    assert expected.totals.reqs == len(FIXED_EVENTS) + 51

    ctx = fixed_context()
    data = collect(ctx, ctx.settings.replace(window="7d"))
    assert data.snapshot.totals == expected.totals
    assert data.rate is not None and data.cost is not None
    history = ctx.history()
    assert history is not None
    counters = hexai_history.counters(history, data.start_ns, data.end_ns)
    totals, _ = summarise_bytes(counters, data.snapshot.window_ns, ctx.prices())
    assert data.rate.reqs == data.cost.reqs == totals.reqs == expected.totals.reqs
    assert data.rate.cost_usd == pytest.approx(totals.cost_usd, rel=1e-9)
    assert data.cost.cost_usd == pytest.approx(expected.totals.cost_usd, rel=1e-9)
    assert data.rate.unpriced_reqs == expected.totals.unpriced_reqs
    assert data.rate.cumulative_cost()[-1][1] == pytest.approx(expected.totals.cost_usd)
    assert data.cost.bucket_minutes == 60
    page = read_html(render_html(data, _dt.UTC))
    assert page.by_id["fig-reqs"] == f"Requests {expected.totals.reqs:,}"
    ctx.close()


def test_empty_history_renders(hexai_dir: Path) -> None:
    ctx = fixed_context()
    data = collect(ctx, ctx.settings)
    assert data.snapshot.status.state == "empty"
    text = render_html(data, _dt.UTC)
    page = read_html(text)
    assert page.by_id["fig-reqs"] == "Requests 0"
    assert "no requests in this window" in text
    assert "No requests in this window." in text
    assert page.by_id["chart-note"] == "no hexai requests recorded in this window"
    assert text.count("<svg") == 3
    ctx.close()


def test_a_demo_report_says_demo(hexai_dir: Path) -> None:
    ctx = fixed_context()
    text = render_html(collect(ctx, ctx.settings), _dt.UTC)
    assert "DEMO" not in text and "demo-banner" not in read_html(text).by_id
    demo = replace(ctx, demo=True)
    text = render_html(collect(demo, demo.settings), _dt.UTC)
    assert "<title>DEMO · burntray report · " in text
    assert "<h1>DEMO · burntray report: " in text
    assert read_html(text).by_id["demo-banner"].strip().startswith("DEMO: synthetic data")
    ctx.close()


def test_one_event_renders(hexai_dir: Path) -> None:
    write_events(hexai_dir, ((10, "openai", "gpt-4.1", 4000, 400),))
    ctx = fixed_context()
    data = collect(ctx, ctx.settings)
    assert data.rate is not None
    assert [b.reqs for b in data.rate.buckets if b.reqs] == [1]
    text = render_html(data, _dt.UTC)
    assert "1 request, 1.00 rpm" in text  # the bar's tooltip
    assert read_html(text).by_id["fig-reqs"] == "Requests 1"
    ctx.close()


def test_alert_log_is_listed_escaped_and_limited_to_the_window(hexai_dir: Path) -> None:
    write_events(hexai_dir, FIXED_EVENTS)
    ctx = fixed_context()
    history = ctx.history()
    assert history is not None
    ensure_alert_tables(history)  # the schema the alert store owns
    with history.transaction() as conn:
        conn.executemany(
            "INSERT INTO alert_log VALUES (?, ?, ?, ?, ?)",
            [
                (NOW - 2 * 3600 * NS, "hexai", "spike", "spike", "too old to show"),
                (NOW - 600 * NS, "hexai", "spike", "spike", "Spend spike: $12.40/h <b>x</b>"),
                (NOW - 60 * NS, "hexai", "budget", "warn", "Budget 80 % used"),
            ],
        )
    data = collect(ctx, ctx.settings)
    assert data.alerts is not None
    assert [a.message for a in data.alerts] == [
        "Spend spike: $12.40/h <b>x</b>",
        "Budget 80 % used",
    ]
    text = render_html(data, _dt.UTC)
    assert "too old to show" not in text
    assert "Spend spike: $12.40/h &lt;b&gt;x&lt;/b&gt;" in text
    rows = read_html(text).tables["alert-table"][1:]
    assert [r[2] for r in rows] == ["spike", "budget"]
    assert text.count('class="marker"') == 2  # both alerts marked on the cost chart
    assert "spike alert: Spend spike: $12.40/h &lt;b&gt;x&lt;/b&gt;" in text
    assert report_to_dict(data)["report"]["alerts"][1]["message"] == "Budget 80 % used"
    ctx.close()


def _daemon_sample(minutes_ago: int, period: str, calls: int, run: int = 1) -> Sample:
    """A cburn daemon poll: cumulative figures over its own ``--days`` period."""
    return Sample(NOW - minutes_ago * MINUTE, run, period, 3, 9, calls, calls * 1000, calls / 100)


def test_cburn_chart_equals_the_headline_across_a_daemon_period_change(tmp_path: Path) -> None:
    history = HistoryStore(tmp_path / "h.sqlite3")
    cburn_history.ensure_schema(history)  # the production table, not a look-alike
    week, month = "days=7", "days=30"
    cburn_history.ingest(
        history,
        [
            _daemon_sample(90, week, 98),  # before the 1 h window: its baseline
            _daemon_sample(60, week, 100),  # exactly at the cutoff: outside the window
            _daemon_sample(45, week, 105),  # +5 calls, +$0.05
            # `--days 7` became `--days 30`: a new baseline, not +390 calls / +$3.90
            _daemon_sample(40, month, 495),
            _daemon_sample(30, month, 495, run=2),  # a restart re-reports the same totals: +0
            _daemon_sample(0, month, 505, run=2),  # +10 calls, +$0.10, at the very instant
        ],
    )
    headlines = {}
    for window_ns in (3600 * NS, 2 * 3600 * NS):
        # the headline as the tray computes it: the cburn source's own snapshot
        source = CburnSource(
            Discovery("http://127.0.0.1:9/", "test", error="no daemon in this test"),
            history=history,
            clock_ns=lambda: NOW,
        )
        headline = source.snapshot(window_ns, NOW).totals
        # the chart as the report draws it, asking the source's spec for its series (never by
        # name): its window [now - window, now + 1)
        start, end = NOW - window_ns, NOW + 1
        minutes, where, note = chart_minutes(history, source, start, end, build_price_table())
        source.close()
        assert minutes is not None and "cburn" in where and note == ""
        chart = build_timeline(minutes, start, end, 5)
        assert chart.reqs == headline.reqs
        assert chart.cost_usd == pytest.approx(headline.cost_usd, abs=1e-9)
        headlines[window_ns] = (headline.reqs, round(headline.cost_usd, 6))
    assert headlines == {3600 * NS: (15, 0.15), 2 * 3600 * NS: (17, 0.17)}
    missing, _, note = cburn_chart_minutes(HistoryStore(tmp_path / "other.sqlite3"), 0, NOW)
    assert missing is None and "no cburn daemon snapshots" in note
    history.close()


def test_write_report_is_private_atomic_and_keeps_the_last_20(hexai_dir: Path) -> None:
    write_events(hexai_dir, FIXED_EVENTS)
    ctx = fixed_context()
    written = []
    for i in range(KEEP_REPORTS + 3):
        ctx.clock_ns = lambda i=i: NOW + i * 1_000_000  # one millisecond apart
        written.append(write_report(ctx, ctx.settings))
    reports_dir = ctx.paths.reports_dir
    left = sorted(p.name for p in reports_dir.iterdir())
    assert left == sorted(p.name for p in written[-KEEP_REPORTS:])
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in written[-KEEP_REPORTS:])
    assert stat.S_IMODE(os.stat(reports_dir).st_mode) == 0o700
    assert written[-1].name.startswith("burntray-report-") and written[-1].suffix == ".html"
    # Files that are not burntray's reports are never pruned.
    (reports_dir / "mine.html").write_text("keep me")
    write_report(ctx, ctx.settings, "csv")
    assert (reports_dir / "mine.html").exists()
    assert len(list(reports_dir.glob("burntray-report-*"))) == KEEP_REPORTS
    ctx.close()


def test_cli_report_formats_out_and_errors(
    hexai_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_events(hexai_dir, FIXED_EVENTS)
    out = tmp_path / "out" / "usage.json"
    out.parent.mkdir()
    assert main(["report", "--format", "json", "--window", "24h", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    doc = json.loads(out.read_text())
    assert doc["window"] == "24h"
    assert doc["report"]["cost_series"]["bucket_seconds"] == 3600
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert list(out.parent.iterdir()) == [out]  # no temp file left behind

    assert main(["report", "--window", "3x"]) == 2
    assert "--window" in capsys.readouterr().err
    assert main(["report", "--out", str(tmp_path / "missing-dir" / "r.html")]) == 1
    assert "cannot write a report in" in capsys.readouterr().err


def test_cli_open_hands_a_file_url_to_the_browser(
    hexai_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--open`` runs the user's browser ($BROWSER) with the report's file URL."""
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "fake-browser"
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > {opened}\n')
    browser.chmod(0o755)
    monkeypatch.setenv("BROWSER", str(browser))
    import webbrowser

    monkeypatch.setattr(webbrowser, "_tryorder", None)  # re-read $BROWSER in this process
    write_events(hexai_dir, FIXED_EVENTS)
    out = tmp_path / "r.html"
    assert main(["report", "--out", str(out), "--open"]) == 0
    assert opened.read_text() == out.resolve().as_uri()


def test_unusable_history_still_reports_from_the_live_file(hexai_dir: Path) -> None:
    write_events(hexai_dir, FIXED_EVENTS)
    ctx = fixed_context()
    ctx.paths.history_db.parent.mkdir(parents=True)
    ctx.paths.history_db.write_bytes(b"this is not an SQLite database" * 100)
    data = collect(ctx, ctx.settings)
    assert data.snapshot.totals.reqs == len(FIXED_EVENTS)
    assert data.rate is not None and data.rate.reqs == len(FIXED_EVENTS)  # from stats.json
    text = render_html(data, _dt.UTC)
    assert "UNUSABLE" in text and "is unusable" in text
    week = collect(ctx, ctx.settings.replace(window="7d"))
    assert week.rate is None
    assert "charts need history" in week.chart_note
    assert ctx.paths.history_db.read_bytes().startswith(b"this is not")  # left as it was
    ctx.close()
