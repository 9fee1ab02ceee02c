"""cburn's chart parts and its headline come from one rule: they add up to the same figures."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from burntray.sources.cburn import history as cburn_history
from burntray.sources.cburn.history import Sample
from burntray.store.history import HistoryStore

MINUTE = 60 * 1_000_000_000

# (minute, daemon run, period, api calls, cost in cents): totals may rise, fall (a session
# leaving the daemon's period), repeat (a restart) or jump (a period change)
polls = st.lists(
    st.tuples(
        st.integers(0, 120),
        st.integers(1, 3),
        st.sampled_from(["days=7", "days=30"]),
        st.integers(0, 500),
        st.integers(0, 500),
    ),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(polls=polls, bounds=st.tuples(st.integers(-5, 125), st.integers(-5, 125)))
def test_the_parts_add_up_to_the_window_for_any_polls(
    tmp_path_factory: pytest.TempPathFactory,
    polls: list[tuple[int, int, str, int, int]],
    bounds: tuple[int, int],
) -> None:
    store = HistoryStore(tmp_path_factory.mktemp("h") / "h.sqlite3")
    cburn_history.ensure_schema(store)
    cburn_history.ingest(
        store,
        [
            Sample(m * MINUTE, run, p, 1, 1, calls, calls * 10, cents / 100)
            for m, run, p, calls, cents in polls
        ],
    )
    start, end = sorted(b * MINUTE for b in bounds)
    parts = cburn_history.increases(store, start, end)
    whole = cburn_history.window(store, start, end)
    assert sum(p.api_calls for p in parts) == whole.api_calls
    assert sum(p.tokens for p in parts) == whole.tokens
    assert sum(p.cost_usd for p in parts) == pytest.approx(whole.cost_usd, abs=1e-9)
    assert all(p.api_calls >= 0 and p.tokens >= 0 and p.cost_usd > -1e-9 for p in parts)
    assert all(start < p.at_ns <= end for p in parts)
    store.close()


def test_a_period_change_restart_and_decrease_add_nothing(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    cburn_history.ensure_schema(store)
    cburn_history.ingest(
        store,
        [
            Sample(1 * MINUTE, 1, "days=7", 1, 1, 100, 1000, 1.00),
            Sample(2 * MINUTE, 1, "days=7", 1, 1, 105, 1050, 1.05),  # +5
            Sample(3 * MINUTE, 1, "days=30", 1, 1, 495, 4950, 4.95),  # new period: +0
            Sample(4 * MINUTE, 2, "days=30", 1, 1, 495, 4950, 4.95),  # restart: +0
            Sample(5 * MINUTE, 2, "days=30", 1, 1, 480, 4800, 4.80),  # decrease: +0
            Sample(6 * MINUTE, 2, "days=30", 1, 1, 490, 4900, 4.90),  # +10 from the new low
        ],
    )
    parts = cburn_history.increases(store, 0, 10 * MINUTE)
    assert [(p.at_ns // MINUTE, p.api_calls, p.tokens) for p in parts] == [(2, 5, 50), (6, 10, 100)]
    assert [round(p.cost_usd, 6) for p in parts] == [0.05, 0.10]
    store.close()
