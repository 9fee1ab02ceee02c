"""Today and this week: calendar windows everywhere a window is accepted, a new configuration
on today, and an empty window that says when the last use was."""

from __future__ import annotations

import datetime as dt
import json
import time
import zoneinfo
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from burntray.actions import read_once
from burntray.cli import main
from burntray.config import Settings, load_config, load_settings
from burntray.config_values import window_span_ns
from burntray.config_write import first_run_settings, save_settings
from burntray.model.format import status_line
from burntray.model.snapshot import Snapshot, SourceStatus, Totals
from burntray.report.build import render
from burntray.report.data import collect
from burntray.runtime.monitor import Monitor
from burntray.ui.presenter import present
from tests.agent_logs_support import claude_line
from tests.report_support import NOW, NS, fixed_context

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
H = 3600 * NS
SONNET = "claude-sonnet-4-5-20250929"


@pytest.fixture
def local_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local zone is Berlin (daylight saving included) for the test."""
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _ns(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=BERLIN).timestamp()) * NS  # type: ignore[misc]


@pytest.mark.parametrize(
    ("now", "today_h", "week_h"),
    [
        ((2026, 3, 29, 12), 11, 6 * 24 + 11),  # Sunday, clocks went forward at 02:00
        ((2026, 3, 31, 12), 12, 36),  # Tuesday after it: the week began at CET midnight
        ((2026, 10, 26, 9), 9, 9),  # Monday: the week is today
        ((2026, 11, 1, 9), 9, 6 * 24 + 9),  # Sunday
    ],
)
def test_today_and_week_start_at_local_midnight_and_monday(
    local_zone: None, now: tuple[int, ...], today_h: int, week_h: int
) -> None:
    at = _ns(*now)
    # the machine's zone (the tray, status) and an explicit one (the same rule, two ways)
    for tz in (None, BERLIN):
        assert window_span_ns("today", at, tz) == today_h * H
        assert window_span_ns("week", at, tz) == week_h * H
    assert window_span_ns("1h", at) == H
    assert window_span_ns("today", _ns(2026, 3, 31, 0)) == NS  # at midnight: a second, not 0


@pytest.mark.parametrize(
    ("now", "month_h"),
    [
        ((2026, 3, 1, 9), 9),  # the 1st: the month is today
        ((2026, 3, 31, 12), 30 * 24 + 11),  # clocks went forward on the 29th: an hour less
        ((2026, 11, 2, 9), 33),  # after October's extra hour: November began at CET midnight
    ],
)
def test_this_month_starts_on_the_first_at_local_midnight(
    local_zone: None, now: tuple[int, ...], month_h: int
) -> None:
    for tz in (None, BERLIN):
        assert window_span_ns("month", _ns(*now), tz) == month_h * H


def test_calendar_windows_are_accepted_saved_and_refused_clearly(tmp_path: Path) -> None:
    assert Settings().replace(window="Today").window == "today"
    assert Settings().replace(window="this week").window == "week"
    assert Settings().replace(window="this-week").window == "week"
    assert Settings().replace(window="this-month").window == "month"
    assert Settings().replace(window="This Month").window == "month"
    path = tmp_path / "config.toml"
    save_settings(path, Settings().replace(window="week"))
    assert load_settings(path).window == "week"
    path.write_text('window = "yesterday"\n')
    settings, problems = load_config(path)  # the bad key is named; it falls back to its default
    assert settings.window == "1h"
    assert "window = 'yesterday' is not allowed: expected today, week" in problems[0]


def test_a_new_configuration_is_on_today_and_an_existing_one_keeps_its_window(
    tmp_path: Path,
) -> None:
    new = tmp_path / "new" / "config.toml"
    assert load_settings(new).window == "1h"  # no file: scripts and tmux keep the hour
    settings = first_run_settings(new, load_settings(new))
    assert settings.window == "today" and load_settings(new).window == "today"
    existing = tmp_path / "old" / "config.toml"
    existing.parent.mkdir()
    existing.write_text('source = "hexai"\n')  # never chose a window: the hour it meant
    before = existing.read_bytes()
    assert first_run_settings(existing, load_settings(existing)).window == "1h"
    assert existing.read_bytes() == before


def _claude_logs(root: Path, monkeypatch: pytest.MonkeyPatch, hours_ago: list[float]) -> None:
    log = root / "claude" / "projects" / "-p" / "s.jsonl"
    log.parent.mkdir(parents=True)
    lines = []
    for i, ago in enumerate(hours_ago):
        ts = dt.datetime.fromtimestamp((NOW - int(ago * H)) / NS, dt.UTC)
        lines.append(claude_line(ts.strftime("%Y-%m-%dT%H:%M:%S.000Z"), f"m{i}", f"r{i}", SONNET,
                                 1000, 100))  # fmt: skip
    log.write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root / "claude"))


def test_status_and_report_count_today_and_this_week(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        # NOW is Sunday 2026-03-01 10:15 UTC: 10 min ago (today), yesterday, Thursday (this
        # week), and the Friday before (last week)
        _claude_logs(tmp_path, monkeypatch, [1 / 6, 20, 3 * 24, 9 * 24])
        ctx = fixed_context()
        counts = {}
        for window in ("1h", "today", "week"):
            settings = ctx.settings.replace(source="claude", window=window)
            snap, source = read_once(ctx, settings)
            source.close()
            counts[window] = snap.totals.reqs
            if window != "1h":
                assert status_line(snap).startswith(f"claude · {window} · "), status_line(snap)
        assert counts == {"1h": 1, "today": 1, "week": 3}
        week = ctx.settings.replace(source="claude", window="week")
        doc = json.loads(render(collect(ctx, week), "json"))
        assert doc["window"] == "week" and doc["totals"]["reqs"] == 3
        assert main(["report", "--by", "day", "--source", "claude", "--window", "week",
                     "--format", "json"]) == 0  # fmt: skip
        days = json.loads(capsys.readouterr().out)  # (at the real clock: the label only)
        assert days["window"] == "week"
        # since Monday 00:00: six days and 10 h 15 min
        assert doc["window_seconds"] == pytest.approx((6 * 24 + 10.25) * 3600, abs=1)
        ctx.close()
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def _empty(**changes: Any) -> Snapshot:
    return Snapshot(
        source="claude",
        window_ns=H,
        as_of_ns=_ns(2026, 12, 7, 10, 0),
        status=SourceStatus("ok"),
        totals=Totals(),
        **changes,
    )


def test_an_empty_window_says_what_it_shows_and_when_the_last_use_was(local_zone: None) -> None:
    yesterday = _ns(2026, 12, 6, 18, 42)
    view = present(_empty(last_use_ns=yesterday, today_cost_usd=3.10), Settings(window="1h"))
    assert "nothing in the last 1 h · last use yesterday 18:42 · $3.10 today" in view.header
    assert "nothing in the last 1 h · last use yesterday 18:42" in view.title
    week = present(_empty(last_use_ns=_ns(2026, 11, 20, 9)), Settings(window="week"))
    assert "nothing this week · last use 2026-11-20" in week.header
    line = status_line(_empty(last_use_ns=yesterday))  # the terminal view's line
    assert line.endswith("· last use yesterday 18:42"), line
    never = present(_empty(), Settings(window="today"))
    assert "nothing today · no use recorded yet" in never.header


def test_status_says_when_the_last_use_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`burntray status` (at the real clock) over an hour with nothing in it, after Claude Code
    was used two days ago: the line names that last use."""
    now = dt.datetime.now(dt.UTC)
    two_days_ago = now - dt.timedelta(days=2)
    log = tmp_path / "claude" / "projects" / "-p" / "s.jsonl"
    log.parent.mkdir(parents=True)
    stamp = two_days_ago.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    log.write_text(claude_line(stamp, "m", "r", SONNET, 1000, 100) + "\n")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    assert main(["status", "--source", "claude", "--window", "1h"]) == 0
    line = capsys.readouterr().out.strip()
    local = dt.datetime.fromtimestamp(int(two_days_ago.timestamp()))
    assert line.startswith("claude · 1h · 0 reqs"), line
    assert line.endswith(f"last use {local:%a %H:%M}"), line


def test_the_monitor_finds_the_last_use_in_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Claude Code user who worked yesterday: the rolling hour is empty, and the tray says
    when the last request was and what today cost (nothing)."""
    _claude_logs(tmp_path, monkeypatch, [20, 26])
    ctx = fixed_context()
    settings = ctx.settings.replace(source="claude", window="1h")
    monitor = Monitor(settings, ctx.build_source, history=ctx.history(), clock_ns=ctx.clock_ns)
    try:
        monitor.tick()
        snap = monitor.slot.get()[1]
    finally:
        monitor.stop()
        ctx.close()
    assert snap is not None and snap.totals.reqs == 0
    assert snap.last_use_ns == (NOW - 20 * H) // 1_000_000_000 * 1_000_000_000
    when = dt.datetime.fromtimestamp(snap.last_use_ns / NS)
    today = dt.datetime.fromtimestamp(NOW / NS).date()
    word = "yesterday" if (today - when.date()).days == 1 else "today"
    row = next(r for r in present(snap, settings).header if r.startswith("nothing in"))
    assert row.startswith(f"nothing in the last 1 h · last use {word} {when:%H:%M}"), row


def test_a_fresh_machine_claims_no_last_use_and_warns_of_nothing() -> None:
    """No tool has written anything and burntray's history is new: the line must not invent a
    last use (a missing stats.json is not a write) nor warn about the history's missing tables."""
    from tests.processes import burntray

    for args in (("status", "--source", "hexai"), ("status",)):
        result = burntray(*args)
        assert result.returncode == 0, result.stderr
        assert "last use" not in result.stdout, result.stdout
        assert result.stderr == "", result.stderr
