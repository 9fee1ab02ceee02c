"""A hub's minutes by period (``status --source hub --by day|week|month``): each minute lands in
its day of the viewer's zone exactly, across offset changes, half-hour and 45-minute zones and
a zone whose daylight saving moves by 30 minutes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from burntray.model.periods import PeriodKeys
from burntray.runtime.team_wire import MinuteRollup
from burntray.sources.hub import counters
from burntray.sources.hub.views import view_rows
from burntray.sources.registry import REGISTRY
from burntray.store.history import HistoryStore

# (zone, a day with an offset change in 2026 or none)
ZONES = [
    ("America/St_Johns", dt.date(2026, 3, 8)),  # -3:30 -> -2:30
    ("Australia/Lord_Howe", dt.date(2026, 4, 5)),  # +11:00 -> +10:30
    ("Europe/Berlin", dt.date(2026, 10, 25)),  # +2 -> +1, the day has 25 hours
    ("Asia/Kathmandu", dt.date(2026, 6, 1)),  # +5:45, no change
]


@pytest.mark.parametrize(("zone", "day"), ZONES)
@pytest.mark.parametrize("unit", ["day", "week", "month"])
def test_each_minute_is_in_its_period_of_the_viewers_zone(
    tmp_path: Path, zone: str, day: dt.date, unit: str
) -> None:
    tz = ZoneInfo(zone)
    start = int(dt.datetime.combine(day, dt.time(), tz).timestamp()) // 60 - 3 * 1440
    minutes = range(start, start + 6 * 1440, 7)  # six days around the change, every 7 minutes
    history = HistoryStore(tmp_path / "hub.sqlite3", REGISTRY.history_tables())
    counters.store(history, ("h", "u"), [
        MinuteRollup("cburn", m, "anthropic", "m", 1 + m % 3, 0, 0, 0, 0, 5, 0.5)
        for m in minutes
    ])  # fmt: skip
    keys = PeriodKeys(unit, tz, week_start=0)
    rows = view_rows(history, (unit,), start * 60 * 10**9, (start + 6 * 1440) * 60 * 10**9, keys)
    got: dict[str, int] = {}
    for r in rows or []:
        got[r.keys[0]] = got.get(r.keys[0], 0) + r.reqs
    want: dict[str, int] = {}
    for m in minutes:
        key = keys.key(dt.datetime.fromtimestamp(m * 60, tz).date())
        want[key] = want.get(key, 0) + 1 + m % 3
    assert got == want
    history.close()


def test_a_minute_knows_no_session_project_or_branch(tmp_path: Path) -> None:
    history = HistoryStore(tmp_path / "hub.sqlite3", REGISTRY.history_tables())
    counters.store(history, ("h", "u"), [MinuteRollup("ctm", 29_000_000, "a", "m", 2, 0, 0,
                                                      3, 4, 7, 0.25)])  # fmt: skip
    span = (29_000_000 * 60 * 10**9, 29_000_001 * 60 * 10**9)
    for dim in ("session", "project", "branch"):
        (row,) = view_rows(history, (dim, "host"), *span) or []
        assert row.keys == ("(unknown)", "h")
        assert (row.reqs, row.input_tokens, row.output_tokens, row.tokens) == (2, 3, 4, 7)
    assert view_rows(history, ("day",), *span) is None  # a period needs the viewer's zone
    history.close()
