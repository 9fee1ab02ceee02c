"""Codex's ``rate_limits`` as read from a line: every bad window dropped on its own, the good
ones kept; lines that are not reports change nothing."""

from __future__ import annotations

import json

from burntray.sources.codex.limits import CodexLimits, parse_rate_limits

S = 10**9
TS = 1_700_000_000 * S
GOOD = {"used_percent": 41.0, "window_minutes": 10080, "resets_at": 1_700_100_000}


def test_each_bad_window_is_dropped_alone() -> None:
    bad = [
        {"used_percent": -1, "window_minutes": 300},
        {"used_percent": 1001, "window_minutes": 300},
        {"used_percent": "42", "window_minutes": 300},
        {"used_percent": True, "window_minutes": 300},
        {"used_percent": 10, "window_minutes": 0},
        {"used_percent": 10, "window_minutes": 366 * 24 * 60 + 1},
        {"used_percent": 10, "window_minutes": 300.5},
        {"used_percent": 10},
        "primary",
        None,
    ]
    for window in bad:
        wins = parse_rate_limits({"primary": window, "secondary": GOOD}, TS)
        assert [(w.window_minutes, w.used_percent) for w in wins] == [(10080, 41.0)], window
    assert parse_rate_limits(None, TS) == [] and parse_rate_limits([GOOD], TS) == []


def test_an_absurd_reset_is_unknown_not_trusted() -> None:
    for reset in ({"resets_at": 10**12}, {"resets_at": -5}, {"resets_in_seconds": -1},
                  {"resets_in_seconds": 10**10}, {"resets_at": "soon"}):  # fmt: skip
        (win,) = parse_rate_limits(
            {"primary": {"used_percent": 5, "window_minutes": 300, **reset}}, TS
        )
        assert win.resets_at_ns is None, reset
    (win,) = parse_rate_limits(
        {"primary": {"used_percent": 5, "window_minutes": 300, "resets_at": 10**12,
                     "resets_in_seconds": 60}}, TS)  # fmt: skip
    assert win.resets_at_ns == TS + 60 * S  # a bad resets_at falls back to resets_in_seconds


def test_lines_that_are_not_reports_change_nothing() -> None:
    limits = CodexLimits()
    for line in (
        b"{not json",
        b'"rate_limits"',
        json.dumps({"type": "response_item", "payload": {"rate_limits": {"p": GOOD}}}).encode(),
        json.dumps({"type": "event_msg", "payload": {"type": "token_count",
                                                     "rate_limits": {"p": GOOD}}}).encode(),
        json.dumps({"type": "event_msg", "timestamp": "yesterday",
                    "payload": {"type": "token_count", "rate_limits": {"p": GOOD}}}).encode(),
        json.dumps({"type": "event_msg", "timestamp": "2026-11-20T09:00:00Z",
                    "payload": {"type": "error", "message": "usage_limit_reached?"}}).encode(),
    ):  # fmt: skip
        assert not limits.feed(line)
    assert limits.plan_windows(TS) == () and limits.version == 0


def test_memory_stays_bounded_however_many_windows_and_reports() -> None:
    limits = CodexLimits()
    for i in range(2000):  # odd window lengths from a corrupt or future log: 16 kept at most
        line = json.dumps(
            {
                "type": "event_msg",
                "timestamp": f"2026-11-20T{9 + i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
                "payload": {
                    "type": "token_count",
                    "rate_limits": {"primary": {"used_percent": 1, "window_minutes": 1 + i}},
                },
            }
        ).encode()
        limits.feed(line)
    kept = limits.plan_windows(TS)
    assert len(kept) == 16
    assert min(w.window_minutes for w in kept) == 2000 - 15  # the freshest ones
    assert len(limits.take_new()) <= 16
