"""Plan limits in the tray: real Codex rollout files, the real monitor, real pystray menus
(PYSTRAY_BACKEND=dummy): a row per tool and window, the most urgent in the tooltip, the most
used window's % in the icon when chosen; and the presenter's rules as values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from msgspec.structs import replace

from burntray.app import AppContext
from burntray.config import Settings, load_settings
from burntray.model.limits import PlanWindow
from burntray.model.snapshot import Snapshot, SourceStatus
from burntray.paths import app_paths
from burntray.ui.presenter import icon_figure, present
from burntray.ui.text_fit import TITLE_LIMIT
from tests.agent_logs_support import codex_token_count, codex_usage, codex_window
from tests.unit.test_tray_menu import Harness

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture(autouse=True)
def _now_is_when_the_test_starts() -> None:
    """The logs' times count back from the test's own start, not from when this module loaded:
    a parallel run may reach a test minutes later, and the figures' age would show it."""
    global NOW
    NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _line(minutes_ago: float, five: float, week: float) -> str:
    ts = (NOW - dt.timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    five_reset = int((NOW + dt.timedelta(hours=2)).timestamp())
    week_reset = int((NOW + dt.timedelta(days=3)).timestamp())
    return codex_token_count(
        ts,
        codex_usage(1000, 0, 100),
        None,
        {
            "primary": codex_window(five, 300, resets_at=five_reset),
            "secondary": codex_window(week, 10080, resets_at=week_reset),
        },
    )


def _clock(when: dt.datetime) -> str:
    """How the tray names a coming instant in local time: "14:05" on today's date, "Tue 00:31"
    on another day of the week (a test run after 22:00 sees the 5-hour reset tomorrow)."""
    local, today = when.astimezone(), dt.datetime.now().astimezone().date()
    return local.strftime("%H:%M" if local.date() == today else "%a %H:%M")


@pytest.fixture
def codex_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = tmp_path / "codex" / "sessions" / "rollout-a.jsonl"
    log.parent.mkdir(parents=True)
    # 5 h: 20 -> 50 % in 30 min: at that pace 100 % in 50 more minutes, before the reset
    log.write_text(_line(40, 20.0, 40.0) + "\n" + _line(10, 50.0, 40.1) + "\n")
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))
    return log


@pytest.fixture
def harness(pystray: Any, codex_log: Path) -> Iterator[Harness]:
    config = app_paths().config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('source = "codex"\n')
    h = Harness(AppContext.load(strict=False), pystray)
    yield h
    h.close()


@pytest.fixture
def pystray() -> Any:
    from burntray.ui.tray import pystray_module

    return pystray_module("dummy")


def test_menu_rows_tooltip_and_icon_follow_the_codex_log(harness: Harness, codex_log: Path) -> None:
    snap = harness.snapshot(where=lambda s: len(s.limits) == 2)
    texts = harness.texts()
    reset = _clock(NOW + dt.timedelta(hours=2))
    five = f"Codex 5 h: 50 % · resets {reset}"
    out = _clock(NOW - dt.timedelta(minutes=10) + dt.timedelta(minutes=50))
    pace_five = f"at this pace runs out {out} (estimate)"
    (row,) = [t for t in texts if t.startswith(five)]
    if row == five:  # too long for one row (a reset named by its day): the pace on the next
        assert texts[texts.index(row) + 1] == pace_five
    else:
        assert row == f"{five} · {pace_five}"
    (week,) = [t for t in texts if t.startswith("Codex weekly: 40 % · resets ")]
    pace = texts[texts.index(week) + 1]  # too long for one row: the pace on the next
    assert pace == "at this pace lasts past the reset (estimate)"
    view = harness.controller.view(snap)
    assert view.title.splitlines()[-1] == f"Codex 5 h 50 % (resets {reset})"
    assert len(view.title) <= TITLE_LIMIT
    assert view.icon.figure != "50%"  # RPM until asked
    harness.click("Show in icon", "plan limit %")
    assert load_settings(harness.ctx.paths.config_file).icon_figure == "limit"
    snap = harness.snapshot(where=lambda s: True)
    assert harness.controller.view(snap).icon.figure == "50%"
    with codex_log.open("a") as fh:  # Codex writes on: the menu follows
        fh.write(_line(0, 63.0, 40.2) + "\n")
    harness.controller.refresh()
    snap = harness.snapshot(where=lambda s: any(w.used_percent == 63.0 for w in s.limits))
    assert harness.controller.view(snap).icon.figure == "63%"
    assert any(t.startswith("Codex 5 h: 63 % · resets ") for t in harness.texts())


def _win(tool: str, minutes: int, used: float, **kw: Any) -> PlanWindow:
    return PlanWindow(tool, minutes, used, None, 1_700_000_000 * 10**9, source=tool, **kw)


def _snap(*limits: PlanWindow) -> Snapshot:
    return Snapshot(
        source="all",
        window_ns=3600 * 10**9,
        as_of_ns=1_700_000_000 * 10**9,
        status=SourceStatus("ok"),
        limits=limits,
    )


def test_the_tooltip_names_the_most_urgent_window_within_the_limit() -> None:
    calm = _win("claude", 10080, 91.0)
    reached = _win("codex", 300, 100.0, limit_reached=True)
    view = present(_snap(calm, reached), Settings(source="all"))
    assert view.title.splitlines()[-1] == "Codex 5 h 100 % reached"
    assert "Claude weekly: 91 %" in view.header
    assert "Codex 5 h: 100 % · limit reached" in view.header
    long_alert = replace(_snap(calm, reached), alert_level="spike", alert_text="x " * 200)
    assert len(present(long_alert, Settings(source="all")).title) <= TITLE_LIMIT


def test_icon_shows_the_most_used_window_and_nothing_when_unknown() -> None:
    snap = _snap(_win("codex", 300, 12.4), _win("codex", 10080, 41.0))
    assert icon_figure(snap, "limit") == "41%"
    assert icon_figure(_snap(), "limit") == ""  # unknown is not 0 %
    assert not any("%" in row for row in present(_snap(), Settings()).header)
