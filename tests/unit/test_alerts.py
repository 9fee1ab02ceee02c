"""The pure alert detector, driven by a fake clock through whole scenarios (table-driven)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from msgspec.structs import replace

from burntray.model.alerts import (
    BASELINE_NS,
    Alert,
    AlertConfig,
    AlertState,
    Reading,
    TopUsage,
    evaluate,
    spike_text,
)
from burntray.model.timefmt import NS_PER_MINUTE
from burntray.store.alert_store import state_from_json, state_to_json

STEP_NS = NS_PER_MINUTE // 2  # the fake clock ticks every 30 s
T0 = 1_800_000_000 * 1_000_000_000  # an arbitrary start (2027-01-15)

Rate = Callable[[float], float]  # minute since start -> spend rate in $/h during that slot


def cost_between(rate: Rate, start_ns: int, end_ns: int) -> float:
    """Spend in [start, end): the rate is constant over each 30 s slot (slots start at T0)."""
    total = 0.0
    t = max(start_ns, T0 - 3 * BASELINE_NS)
    while t < end_ns:
        total += rate((t - T0) / NS_PER_MINUTE) * STEP_NS / (60 * NS_PER_MINUTE)
        t += STEP_NS
    return total


def reading_at(rate: Rate, config: AlertConfig, now: int, reqs_per_min: float = 0.0) -> Reading:
    short = config.short_window_ns
    short_cost = cost_between(rate, now - short, now)
    return Reading(
        now_ns=now,
        short_cost_usd=short_cost,
        short_reqs=round(reqs_per_min * short / NS_PER_MINUTE),
        baseline_cost_usd=cost_between(rate, now - short - BASELINE_NS, now - short),
        top_by_cost=TopUsage("anthropic", "claude-sonnet-4-5", short_cost, 1),
    )


@dataclass
class Run:
    fired: list[Alert]
    levels: list[str]
    state: AlertState


def simulate(
    rate: Rate,
    minutes: float,
    config: AlertConfig | None = None,
    *,
    state: AlertState | None = None,
    start_min: float = 0.0,
    restart_every_min: float | None = None,
) -> Run:
    """Tick every 30 s from ``start_min`` for ``minutes``; ``restart_every_min`` round-trips the
    state through its stored JSON, as a restart of burntray does."""
    config = config or AlertConfig()
    state = state or AlertState()
    fired: list[Alert] = []
    levels: list[str] = []
    steps = int(minutes * 2)
    for i in range(steps):
        now = T0 + int(start_min * NS_PER_MINUTE) + i * STEP_NS
        if restart_every_min and i and i % int(restart_every_min * 2) == 0:
            state = state_from_json(state_to_json(state))
        result = evaluate(config, state, reading_at(rate, config, now), "hexai")
        state = result.state
        fired.extend(result.fired)
        levels.append(result.level)
    return Run(fired, levels, state)


def steady(level: float) -> Rate:
    return lambda _m: level


def spike(base: float, peak: float, *windows: tuple[float, float]) -> Rate:
    """``base`` $/h, except ``peak`` $/h during each [start, end) minute range."""
    return lambda m: peak if any(a <= m < b for a, b in windows) else base


def bursts(peak: float, on_min: float, period_min: float, start: float) -> Rate:
    return lambda m: peak if m >= start and (m - start) % period_min < on_min else 0.0


def hover(m: float) -> float:
    """Around the $5/h threshold after a quiet start: 5.4, 4.6, 5.4... (never below 60 %)."""
    if m < 90:
        return 0.3
    return 5.4 if int(m) % 2 == 0 else 4.6


SCENARIOS = [
    # (name, rate, minutes, config, expected onset alerts, expected follow-ups)
    ("steady low spend", steady(1.0), 180, AlertConfig(), 0, 0),
    ("steady spend above the threshold, no sudden change", steady(8.0), 180, AlertConfig(), 0, 0),
    # Told at $6.40/h while the 5 min window still fills; settled at $30/h: over 3x, told again.
    ("sharp spike", spike(0.5, 30.0, (90, 100)), 150, AlertConfig(), 1, 1),
    ("sustained spike for an hour", spike(0.5, 30.0, (90, 150)), 170, AlertConfig(), 1, 1),
    ("spike that settles within 3x of the told rate", spike(0.5, 15.0, (90, 150)), 170,
     AlertConfig(), 1, 0),
    ("hovering around the threshold", hover, 180, AlertConfig(), 1, 0),
    (
        "sustained spike with no cooldown",
        spike(0.5, 30.0, (90, 150)),
        170,
        AlertConfig(cooldown_ns=0),
        1,
        1,
    ),
    ("spike after the cooldown", spike(0.5, 30.0, (90, 95), (130, 135)), 160, AlertConfig(), 2, 1),
    (
        "second spike inside the cooldown",
        spike(0.5, 30.0, (90, 93), (100, 103)),
        120,
        AlertConfig(spike_multiple=1.0),  # so only the cooldown holds the second one back
        1,
        0,
    ),
    (
        "same second spike with a 5 min cooldown",
        spike(0.5, 30.0, (90, 93), (100, 103)),
        120,
        AlertConfig(spike_multiple=1.0, cooldown_ns=5 * NS_PER_MINUTE),
        2,
        0,
    ),
]  # fmt: skip


def is_follow_up(alert: Alert) -> bool:
    return "spend spike growing" in alert.title


@pytest.mark.parametrize(
    ("rate", "minutes", "config", "onsets", "follow_ups"),
    [s[1:] for s in SCENARIOS],
    ids=[s[0] for s in SCENARIOS],
)
def test_spike_scenarios(
    rate: Rate, minutes: float, config: AlertConfig | None, onsets: int, follow_ups: int
) -> None:
    run = simulate(rate, minutes, config)
    spikes = [a for a in run.fired if a.kind == "spike"]
    assert len([a for a in spikes if not is_follow_up(a)]) == onsets, [a.message for a in spikes]
    assert len([a for a in spikes if is_follow_up(a)]) == follow_ups, [a.message for a in spikes]


def runaway(m: float) -> float:
    """The issue's run: quiet, $30/h from minute 90, then climbing to $543/h by minute 110."""
    if m < 90:
        return 0.5
    return min(543.0, 30.0 * 1.16 ** (m - 90))


def test_a_spike_that_keeps_growing_gets_one_follow_up() -> None:
    config = AlertConfig(spike_usd_per_hour=30.0)
    run = simulate(runaway, 150, config)
    onset, follow_up = run.fired
    assert onset.title == "burntray: spend spike (hexai)"
    assert follow_up.title == "burntray: spend spike growing (hexai)"
    told = float(onset.message.split("$")[1].split("/h")[0])
    now = float(follow_up.message.split("now $")[1].split("/h")[0].replace(",", ""))
    assert now > 3 * told
    assert follow_up.message.startswith(f"Spend spike now ${now:,.2f}/h (5 min) - up from ")
    # One follow-up per spike however far it grows; the cooldown runs from the follow-up.
    assert run.state.spike.followed_up and run.state.spike.last_fired_ns == follow_up.ts_ns
    # A restart mid-spike remembers the follow-up was sent.
    assert len(simulate(runaway, 150, config, restart_every_min=3).fired) == 2


def test_a_spike_kept_quiet_by_the_cooldown_gets_no_follow_up() -> None:
    config = AlertConfig(spike_multiple=1.0)
    # A short spike is told; the next, inside the cooldown, grows 10x and stays quiet.
    rate = spike(0.5, 30.0, (90, 92))
    grow = lambda m: rate(m) if m < 96 else (3.0 if m < 98 else 300.0)  # noqa: E731
    run = simulate(grow, 110, config)
    assert [a.title for a in run.fired] == ["burntray: spend spike (hexai)"]


def test_sharp_spike_fires_at_onset_and_shows_spike_state_until_it_falls() -> None:
    run = simulate(spike(0.5, 30.0, (90, 100)), 150)
    alert, follow_up = run.fired
    assert follow_up.ts_ns == T0 + 96 * NS_PER_MINUTE  # one short window after the onset
    # 30 $/h from minute 90: after 30 s the 5 min window holds $0.25 + 4.5 min at $0.50/h = $3.30/h;
    # after 60 s $0.50 + 4 min at $0.50/h = $6.40/h, above $5/h and 12.8x the $0.50/h baseline.
    assert alert.ts_ns == T0 + 91 * NS_PER_MINUTE
    assert alert.title == "burntray: spend spike (hexai)"
    assert alert.message.startswith("Spend spike: $6.40/h (5 min) - 12.8x the last hour. Top:")
    assert run.levels.index("spike") == 91 * 2  # ticks are 30 s apart
    # The spike ends once the 5 min rate is below 60 % of $5/h, i.e. a few minutes after 100.
    assert run.levels[-1] == "normal"
    assert "elevated" in run.levels  # on the way down (between $3/h and the end)


def test_flapping_is_at_most_one_alert_per_cooldown() -> None:
    config = AlertConfig(spike_multiple=1.0)  # only the cooldown may hold back repeats
    # 5 min at $20/h, 5 min off, for 2 h: each burst is a new spike (the rate drops to 0 between).
    run = simulate(bursts(20.0, 5, 10, start=60), 180, config)
    times = [a.ts_ns for a in run.fired if a.kind == "spike"]
    gaps = [(b - a) / NS_PER_MINUTE for a, b in itertools.pairwise(times)]
    assert all(gap >= 15 for gap in gaps), gaps
    # Bursts begin every 10 min from minute 60 to 170; with a 15 min cooldown every other one is
    # told: minutes 60, 80, 100, 120, 140, 160 (each +1 for the fill of the 5 min window).
    assert len(times) == 6
    assert run.levels.count("spike") > 6 * 2  # the suppressed bursts still show the spike state


def test_restart_mid_spike_never_refires() -> None:
    rate = spike(0.5, 15.0, (90, 150))  # settles within 3x of the told rate: no follow-up
    config = AlertConfig()
    first = simulate(rate, 95, config)
    assert len(first.fired) == 1
    # Restart: the state comes back from its stored JSON, two minutes later, spike still on.
    restored = state_from_json(state_to_json(first.state))
    assert restored == first.state
    second = simulate(rate, 60, config, state=restored, start_min=97)
    assert second.fired == []
    assert second.levels[0] == "spike"
    # And restarting every 5 minutes through the whole spike changes nothing either.
    assert len(simulate(rate, 170, config, restart_every_min=5).fired) == 1


def test_state_carried_over_a_long_gap_is_dropped() -> None:
    rate = spike(0.5, 15.0, (90, 200))  # settles within 3x of the told rate: no follow-up
    config = AlertConfig(spike_multiple=1.0)  # a long spike is not "new" against its own hour
    first = simulate(rate, 95, config)
    assert len(first.fired) == 1
    # burntray was off for 40 min (longer than the 15 min cooldown) and the spend is still high:
    # that is told again, once.
    later = simulate(rate, 30, config, state=first.state, start_min=135)
    assert len(later.fired) == 1
    # Off for only 10 min: the spike carries over and stays quiet.
    assert simulate(rate, 30, config, state=first.state, start_min=105).fired == []


def test_budget_crossings_fire_once_each_per_day() -> None:
    config = AlertConfig(daily_budget_usd=10.0)
    state = AlertState()
    fired: list[Alert] = []
    spent_by_step = [0.0, 2.0, 4.99, 5.0, 6.0, 7.9, 8.0, 8.5, 9.99, 10.0, 12.0, 15.0, 30.0]
    for i, spent in enumerate(spent_by_step):
        reading = Reading(T0 + i * STEP_NS, 0.0, 0, 0.0, day="2027-01-15", spent_today_usd=spent)
        result = evaluate(config, state, reading, "hexai")
        state = result.state
        fired.extend(result.fired)
    assert [a.level for a in fired] == ["50%", "80%", "100%"]
    assert [a.kind for a in fired] == ["budget"] * 3
    assert fired[1].message == "Spent $8.00 of $10.00 today (80 %)"
    assert fired[2].title == "burntray: 100 % of today's budget (hexai)"
    # A new day starts over; a jump past two steps tells only the highest.
    next_day = Reading(T0 + 86_400 * 10**9, 0.0, 0, 0.0, day="2027-01-16", spent_today_usd=8.5)
    result = evaluate(config, state, next_day, "hexai")
    assert [a.level for a in result.fired] == ["80%"]
    again = evaluate(config, result.state, replace(next_day, now_ns=next_day.now_ns + 1))
    assert again.fired == ()


def test_no_budget_no_budget_alerts() -> None:
    reading = Reading(T0, 0.0, 0, 0.0, day="2027-01-15", spent_today_usd=1e6)
    assert evaluate(AlertConfig(), AlertState(), reading).fired == ()


def test_rpm_alert_for_unpriced_usage() -> None:
    config = AlertConfig(rpm_threshold=20.0)
    state = AlertState()
    fired: list[Alert] = []
    # Unpriced usage: no cost at all, 2 rpm for an hour, then 40 rpm for 20 min, then 2 again.
    for i in range(200):
        now = T0 + i * STEP_NS
        rpm = 40.0 if 120 <= i < 160 else 2.0
        top = TopUsage("ollama", "llama3", 0.0, int(rpm * 5))
        reading = Reading(now, 0.0, int(rpm * 5), 0.0, top_by_reqs=top)
        result = evaluate(config, state, reading, "hexai")
        state = result.state
        fired.extend(result.fired)
    (alert,) = fired
    assert alert.kind == "rpm"
    assert alert.message == (
        "Request spike: 40.0 rpm (5 min) - threshold 20 rpm. Top: ollama llama3 40.0 rpm"
    )


def test_text_matches_the_issue_example() -> None:
    config = AlertConfig()
    reading = Reading(
        now_ns=T0,
        short_cost_usd=12.40 / 12,
        short_reqs=30,
        baseline_cost_usd=12.40 / 4.1,
        top_by_cost=TopUsage("anthropic", "claude-sonnet-4-5", 9.80 / 12, 20),
    )
    result = evaluate(config, AlertState(), reading)
    (alert,) = result.fired
    assert alert.message == (
        "Spend spike: $12.40/h (5 min) - 4.1x the last hour. "
        "Top: anthropic claude-sonnet-4-5 $9.80/h"
    )
    assert result.level == "spike"
    assert result.text == "Spend spike: $12.40/h (5 min) - 4.1x the last hour"


def test_text_without_a_baseline_says_what_it_was() -> None:
    assert spike_text(AlertConfig(), 14.4, 0.0) == (
        "Spend spike: $14.40/h (5 min) - was $0.00/h the last hour"
    )


def test_floor_keeps_a_single_small_request_quiet() -> None:
    config = AlertConfig(spike_usd_per_hour=1.0, floor_usd=0.10)
    quiet = Reading(T0, short_cost_usd=0.09, short_reqs=1, baseline_cost_usd=0.0)
    assert evaluate(config, AlertState(), quiet).fired == ()
    loud = replace(quiet, short_cost_usd=0.10)
    assert len(evaluate(config, AlertState(), loud).fired) == 1


def test_stored_state_that_is_garbage_starts_fresh() -> None:
    assert state_from_json("{not json") == AlertState()
    assert state_from_json("[1, 2]") == AlertState()
    assert state_from_json('{"spike": {"active_since_ns": "x"}}') == AlertState()
