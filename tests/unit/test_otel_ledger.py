"""The ledger's rules on plain values (the SDK-driven tests cover the wire): cumulative series,
restarts, stale points, clocks far ahead, bounds."""

from __future__ import annotations

import pytest

from burntray.model.pricing import build_price_table
from burntray.sources.otel import ledger as otel_ledger
from burntray.sources.otel.ledger import OtelLedger
from burntray.sources.otel.mapping import CUMULATIVE, DELTA, Decoded, MetricPoint, UsageEvent

S = 10**9
NOW = 1_800_000_000 * S


def point(value: float, start: int, time: int, temporality: int = CUMULATIVE) -> MetricPoint:
    return MetricPoint(
        "claude-code", "anthropic", "claude-opus-4-1", "s", "cost", "series-1",
        temporality, start, time, value,
    )  # fmt: skip


def cost_after(ledger: OtelLedger, *points: MetricPoint) -> float:
    for p in points:
        ledger.add(Decoded(points=[p]), NOW)
    return sum(r.cost_usd or 0 for r in ledger.take(NOW + 3600 * S))


def test_cumulative_points_count_their_increases() -> None:
    ledger = OtelLedger(build_price_table({}), grace_ns=0)
    t0 = NOW - 100 * S
    assert cost_after(ledger, point(1.0, t0, t0 + S), point(1.5, t0, t0 + 2 * S)) == 1.5
    # a repeat and an older point add nothing
    assert cost_after(ledger, point(1.5, t0, t0 + 2 * S), point(1.2, t0, t0 + S)) == 0
    # a restart (new start time) counts whole; a reset without one counts from zero
    assert cost_after(ledger, point(0.25, t0 + 50 * S, t0 + 51 * S)) == 0.25
    assert cost_after(ledger, point(0.1, t0 + 50 * S, t0 + 52 * S)) == 0.1


def test_state_survives_a_restart_of_burntray() -> None:
    first = OtelLedger(build_price_table({}), grace_ns=0)
    t0 = NOW - 100 * S
    assert cost_after(first, point(2.0, t0, t0 + S)) == 2.0
    second = OtelLedger(build_price_table({}), grace_ns=0)
    second.load_state(first.save_state())
    assert cost_after(second, point(2.5, t0, t0 + 2 * S)) == 0.5


def test_a_clock_far_ahead_is_not_believed() -> None:
    ledger = OtelLedger(build_price_table({}), grace_ns=0)
    ledger.add(Decoded(points=[point(1.0, NOW, NOW + 86400 * S, DELTA)]), NOW)
    (record,) = ledger.take(NOW + 3600 * S)
    assert record.ts_ns == NOW


def test_records_waiting_for_the_monitor_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(otel_ledger, "MAX_READY", 5)
    ledger = OtelLedger(build_price_table({}))
    events = [
        UsageEvent("codex", "openai", "gpt-5", "c", NOW + i, 1, 1, 0, 0, None, f"k{i}")
        for i in range(8)
    ]
    ledger.add(Decoded(events=events), NOW)
    assert [r.key for r in ledger.take(NOW)] == ["k3", "k4", "k5", "k6", "k7"]
    assert ledger.dropped == 3


def test_name_tallies_are_bounded() -> None:
    ledger = OtelLedger(build_price_table({}))
    ledger.add(Decoded(ignored={f"name{i}": 1 for i in range(200)}), NOW)
    assert len(ledger.ignored) == otel_ledger.MAX_NAMES + 1
    assert ledger.ignored["(other names)"] == 200 - otel_ledger.MAX_NAMES


def test_a_group_that_cannot_be_counted_loses_nothing_else() -> None:
    """Values are checked on arrival; should one get past (a bug), taking the ready records
    still gives every other record, and says what was lost."""
    ledger = OtelLedger(build_price_table({}), grace_ns=0)
    bad = point(float("nan"), NOW - S, NOW, DELTA)._replace(part="input")
    event = UsageEvent("codex", "openai", "gpt-5", "c", NOW, 1, 1, 0, 0, None, "k")
    ledger.add(Decoded(events=[event], points=[bad, point(0.5, NOW - S, NOW, DELTA)]), NOW)
    records = ledger.take(NOW + 3600 * S)
    assert [r.key for r in records] == ["k"]
    assert ledger.failed == 1 and "NaN" in ledger.last_error


def test_sessions_counted_from_events_survive_the_resume_state() -> None:
    first = OtelLedger(build_price_table({}), grace_ns=0)
    event = UsageEvent("claude-code", "anthropic", "m", "s", NOW, 1, 1, 0, 0, 0.01, "k")
    first.add(Decoded(events=[event]), NOW)
    second = OtelLedger(build_price_table({}), grace_ns=0)
    second.load_state(first.save_state())
    assert cost_after(second, point(0.03, NOW - S, NOW, DELTA)) == 0  # covered by the events
    assert second.covered_points == 1


def test_the_state_is_taken_when_counting_depends_on_it_and_else_every_10_s() -> None:
    ledger = OtelLedger(build_price_table({}), grace_ns=0)

    def event(i: int, session: str) -> Decoded:
        return Decoded(
            events=[UsageEvent("claude-code", "anthropic", "claude-opus-4-1", session, NOW, 1,
                               1, 0, 0, 0.01, f"claude-code:req:{i}")]
        )  # fmt: skip

    assert ledger.save_state(NOW) is not None  # the first is always taken
    ledger.add(event(1, "s1"), NOW)
    assert ledger.save_state(NOW) is not None  # a new session
    ledger.add(event(2, "s1"), NOW + S)
    assert ledger.save_state(NOW + S) is None  # the same session: only tallies moved
    assert ledger.save_state(NOW + 11 * S) is not None  # ... taken 10 s on
    assert ledger.save_state(NOW + 30 * S) is None  # nothing moved at all
    ledger.add(Decoded(points=[point(1.0, NOW, NOW + S)]), NOW + 31 * S)
    assert ledger.save_state(NOW + 31 * S) is not None  # a cumulative series moved
    ledger.add(event(3, "s2"), NOW + 32 * S)
    ledger.take(NOW + 32 * S)
    assert ledger.save_state() is not None  # without a time: always
