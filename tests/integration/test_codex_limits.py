"""Codex's plan windows from real rollout files: the codex source's ``HasLimits``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from burntray.model.limits import FIVE_HOUR_MINUTES, WEEK_MINUTES, PlanWindow
from burntray.model.pricing import build_price_table
from burntray.sources.base import HasLimits
from burntray.sources.codex.source import CodexSource, codex_source
from burntray.store.history import HistoryStore
from burntray.store.limits import windows_between
from tests.agent_logs_support import (
    codex_limit_reached,
    codex_token_count,
    codex_usage,
    codex_window,
)

S = 10**9


def _ns(text: str) -> int:
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()) * S


def _s(text: str) -> int:
    return _ns(text) // S


T0 = "2026-11-20T09:00:00Z"
T1 = "2026-11-20T10:00:00Z"
WEEK_RESET = _s("2026-11-24T00:00:00Z")


def _session(home: Path, name: str, lines: list[str]) -> Path:
    path = home / "sessions" / "2026" / "11" / "20" / f"rollout-{name}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines))
    return path


def _turn(ts: str, limits: dict[str, object] | None) -> str:
    return codex_token_count(ts, codex_usage(100, 0, 10), None, limits)


def _by_window(windows: tuple[PlanWindow, ...]) -> dict[int, PlanWindow]:
    return {w.window_minutes: w for w in windows}


def parse_source(home: Path, clock: list[int], history: HistoryStore | None = None) -> CodexSource:
    return codex_source([home], build_price_table(), history, lambda: clock[0], watch=False)


def test_five_hour_and_weekly_windows_freshest_across_sessions(tmp_path: Path) -> None:
    home = tmp_path / "codex"
    # an older session: 5 h by resets_in_seconds, weekly by resets_at
    _session(
        home,
        "a",
        [
            _turn(
                T0,
                {
                    "primary": codex_window(10.0, 300, resets_in=3600),
                    "secondary": codex_window(30.0, 10080, resets_at=WEEK_RESET),
                },
            ),
        ],
    )
    # a newer session, its windows in swapped positions: named by length, not by position
    _session(
        home,
        "b",
        [
            _turn(
                T1,
                {
                    "primary": codex_window(41.0, 10080, resets_at=WEEK_RESET),
                    "secondary": codex_window(42.0, 300, resets_in=600),
                },
            ),
            _turn("2026-11-20T10:00:30Z", None),  # null: no data, the figures stand
        ],
    )
    clock = [_ns("2026-11-20T10:05:00Z")]
    source = parse_source(home, clock)
    assert isinstance(source, HasLimits)
    assert source.poll()
    wins = _by_window(source.plan_windows(clock[0]))
    assert set(wins) == {FIVE_HOUR_MINUTES, WEEK_MINUTES}
    five, week = wins[FIVE_HOUR_MINUTES], wins[WEEK_MINUTES]
    assert (five.used_percent, five.observed_ns) == (42.0, _ns(T1))
    assert five.resets_at_ns == _ns(T1) + 600 * S  # event time + resets_in_seconds
    assert (week.used_percent, week.resets_at_ns) == (41.0, WEEK_RESET * S)
    assert five.tool == "codex" and five.origin == "official" and five.source == "codex"
    assert not five.limit_reached and not five.reset_since_observed
    assert five.window == "5h" and week.window == "weekly"


def test_only_null_rate_limits_is_unknown_not_zero(tmp_path: Path) -> None:
    home = tmp_path / "codex"
    _session(home, "a", [_turn(T0, None), _turn(T1, {"primary": {"used_percent": None}})])
    clock = [_ns(T1)]
    source = parse_source(home, clock)
    source.poll()
    assert source.plan_windows(clock[0]) == ()
    assert source.snapshot(3600 * S).totals.reqs == 2  # the usage is still counted


def test_a_passed_reset_resets_to_zero(tmp_path: Path) -> None:
    home = tmp_path / "codex"
    _session(home, "a", [_turn(T0, {"primary": codex_window(88.0, 300, resets_in=1800)})])
    clock = [_ns(T0) + 1799 * S]
    source = parse_source(home, clock)
    source.poll()
    assert source.plan_windows(clock[0])[0].used_percent == 88.0
    later = source.plan_windows(_ns(T0) + 1800 * S)[0]
    assert later.used_percent == 0.0 and later.reset_since_observed
    assert later.resets_at_ns is None  # the next reset is unknown until Codex reports again


def test_limit_reached_error_marks_the_window(tmp_path: Path) -> None:
    home = tmp_path / "codex"
    reset = _s("2026-11-20T13:00:00Z")
    _session(
        home,
        "a",
        [
            _turn(
                T0,
                {
                    "primary": codex_window(97.0, 300, resets_at=reset),
                    "secondary": codex_window(50.0, 10080, resets_at=WEEK_RESET),
                },
            ),
            codex_limit_reached(T1, resets_in=3 * 3600),
        ],
    )
    clock = [_ns(T1)]
    source = parse_source(home, clock)
    source.poll()
    wins = _by_window(source.plan_windows(clock[0]))
    five = wins[FIVE_HOUR_MINUTES]
    assert five.limit_reached and five.used_percent == 100.0
    assert five.resets_at_ns == _ns(T1) + 3 * 3600 * S
    assert not wins[WEEK_MINUTES].limit_reached


def test_appended_while_followed_and_kept_over_a_restart(tmp_path: Path) -> None:
    home = tmp_path / "codex"
    path = _session(home, "a", [_turn(T0, {"primary": codex_window(5.0, 300, resets_in=9000)})])
    clock = [_ns(T0) + 60 * S]
    history = HistoryStore(tmp_path / "h.sqlite3")
    source = parse_source(home, clock, history)
    source.poll()
    assert source.plan_windows(clock[0])[0].used_percent == 5.0
    assert not source.poll()  # nothing new: no change
    with path.open("a") as fh:
        fh.write(_turn("2026-11-20T09:02:00Z", {"primary": codex_window(7.5, 300, resets_in=8880)}))
        fh.write("\n")
    clock[0] = _ns("2026-11-20T09:03:00Z")
    assert source.poll()  # the appended line changed a window
    assert source.plan_windows(clock[0])[0].used_percent == 7.5
    rows = windows_between(history, 0, clock[0])
    assert [w.used_percent for w in rows] == [5.0, 7.5]  # each change kept once
    source.close()
    history.close()
    # a restart resumes past the lines read: the window comes back from the history
    history = HistoryStore(tmp_path / "h.sqlite3")
    again = parse_source(home, clock, history)
    again.poll()
    assert again.reader.tailer.stats.bytes_read == 0
    assert again.plan_windows(clock[0])[0].used_percent == 7.5
    history.close()


def test_a_report_repeated_on_every_turn_keeps_its_latest_time(tmp_path: Path) -> None:
    home = tmp_path / "codex"
    same = {
        "primary": codex_window(12.0, 300, resets_at=_s("2026-11-20T13:00:00Z")),
        "secondary": codex_window(30.0, 10080, resets_at=WEEK_RESET),
    }
    stamps = [f"2026-11-20T09:0{i}:00Z" for i in range(4)]
    path = _session(home, "a", [_turn(ts, same) for ts in stamps[:3]])
    clock = [_ns("2026-11-20T09:05:00Z")]
    source = parse_source(home, clock)
    source.poll()
    wins = source.plan_windows(clock[0])
    assert {w.observed_ns for w in wins} == {_ns(stamps[2])}  # the latest of the repeats
    assert all(w.age_ns(clock[0]) == 3 * 60 * S for w in wins)
    with path.open("a") as fh:  # the same figures once more, a minute later: fresher, not new
        fh.write(_turn(stamps[3], same) + "\n")
        fh.write(codex_limit_reached("2026-11-20T09:04:00Z", resets_in=600) + "\n")
    assert source.poll()
    five = _by_window(source.plan_windows(clock[0]))[FIVE_HOUR_MINUTES]
    assert five.limit_reached and five.observed_ns == _ns("2026-11-20T09:04:00Z")
    assert _by_window(source.plan_windows(clock[0]))[WEEK_MINUTES].observed_ns == _ns(stamps[3])
