"""The tool's own cost per session and per day (``model.own_cost``): per-request reports are
summed, running totals taken as last reported, the origin seen last wins, days only from
per-request reports."""

from __future__ import annotations

import pytest

from burntray.model.own_cost import OTLP, STATUS_LINE, OwnCost, per_day, per_session


def _otlp(session: str, at: int, usd: float) -> OwnCost:
    return OwnCost(session, at, usd, OTLP, per_request=True)


def _line(session: str, at: int, usd: float) -> OwnCost:
    return OwnCost(session, at, usd, STATUS_LINE, per_request=False)


def test_a_session_shows_the_origin_that_reported_last() -> None:
    items = [_line("a", 10, 0.4), _otlp("a", 20, 0.3), _otlp("a", 30, 0.2), _line("a", 5, 9.0)]
    items += [_otlp("b", 10, 0.1), _line("b", 40, 0.25), _line("b", 35, 0.2)]
    shown = per_session(items)
    assert (shown["a"].origin, shown["a"].usd, shown["a"].at_ns) == (OTLP, pytest.approx(0.5), 30)
    assert (shown["b"].origin, shown["b"].usd, shown["b"].at_ns) == (STATUS_LINE, 0.25, 40)


def test_a_day_sums_the_requests_of_that_day_and_names_their_sessions() -> None:
    items = [_otlp("a", 1, 0.1), _otlp("b", 2, 0.2), _otlp("a", 101, 0.4), _line("c", 3, 5.0)]
    days = per_day(items, lambda ts: "d1" if ts < 100 else "d2")
    assert days["d1"].usd == pytest.approx(0.3)
    assert days["d1"].sessions == ("a", "b")
    assert (days["d2"].usd, days["d2"].sessions, days["d2"].origin) == (0.4, ("a",), OTLP)
    assert set(days) == {"d1", "d2"}  # a status-line total has no day
