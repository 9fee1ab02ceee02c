"""Spend-spike, request-rate and daily-budget alerts: a pure detector, values in and out.

``evaluate(config, state, reading)`` takes what the engine measured at ``reading.now_ns`` and the
state left by the previous call, and returns the new state, the level to show, and the alerts to
fire (at most one per kind). Time is only ever ``reading.now_ns``, so tests drive it with a fake
clock and the engine persists ``AlertState`` to survive restarts.

Rules (the README's "Alerts" section says the same to users):

- Spike onset: the short-window rate ($/h) is at least the threshold, at least ``multiple`` times
  the baseline rate (the hour before the short window), and the short window holds at least
  ``floor_usd`` of spend (so one tiny request on a low threshold never alerts).
- Hysteresis: a spike ends only when the rate falls below ``hysteresis`` x threshold. While it is
  on, its onset is not told again, however long it lasts.
- Follow-up: once per told spike, when its rate grows past ``FOLLOW_UP_GROWTH`` (3) x the rate
  told, one more alert says what it is now (told at $30/h, now $543/h). It is judged from one
  short window after the onset on (the window then holds only spike time), counts as the kind's
  last alert for the cooldown, and a spike whose onset the cooldown kept quiet gets none.
- Cooldown per source and kind: a new onset within ``cooldown`` of the last alert of that kind
  shows as a spike but does not notify again.
- A spike carried over a gap longer than the cooldown (or the short window, if longer) while
  burntray was not running is dropped: the cooldown would allow a new alert by then anyway,
  and we cannot know what happened meanwhile.
- Request rate (optional, for unpriced usage): the same onset/hysteresis/cooldown on RPM.
- Budget (optional): once each per local day when today's spend crosses 50 %, 80 %, 100 %; when
  several are crossed at once only the highest is told. Changing the budget starts over.
"""

from __future__ import annotations

from typing import Literal

from msgspec import Struct, field
from msgspec.structs import replace

from burntray.model.format import usd
from burntray.model.snapshot import AlertLevel
from burntray.model.timefmt import NS_PER_HOUR, NS_PER_MINUTE, format_duration

BASELINE_NS = NS_PER_HOUR  # the baseline is the hour before the short window ("the last hour")
BUDGET_STEPS = (50, 80, 100)  # percent of the daily budget, each told once a day
FOLLOW_UP_GROWTH = 3.0  # a told spike whose rate grows past this x the told rate is told again

AlertKind = Literal["spike", "rpm", "budget"]


class AlertConfig(Struct, frozen=True):
    """The alert settings as plain numbers (``from_settings`` reads ``[alerts]``)."""

    spike_usd_per_hour: float = 5.0
    spike_multiple: float = 3.0
    short_window_ns: int = 5 * NS_PER_MINUTE
    floor_usd: float = 0.10
    hysteresis: float = 0.6
    cooldown_ns: int = 15 * NS_PER_MINUTE
    daily_budget_usd: float = 0.0  # 0: no budget
    rpm_threshold: float = 0.0  # 0: no request-rate alert


class TopUsage(Struct, frozen=True):
    """The biggest spender (or requester) in the short window."""

    provider: str
    model: str
    cost_usd: float
    reqs: int


class Reading(Struct, frozen=True):
    """What the engine measured for one source at ``now_ns``."""

    now_ns: int
    short_cost_usd: float  # spend in [now - short window, now]
    short_reqs: int
    baseline_cost_usd: float  # spend in the BASELINE_NS before the short window
    top_by_cost: TopUsage | None = None
    top_by_reqs: TopUsage | None = None
    day: str = ""  # the local date, e.g. "2026-11-22"; budgets restart when it changes
    spent_today_usd: float | None = None  # None: not measured (no budget, or unknown)


class KindState(Struct, frozen=True):
    """The detector's memory for one kind of alert (spike, rpm, budget)."""

    active_since_ns: int | None = None  # a spike of this kind is on since then
    last_fired_ns: int | None = None  # the last alert of this kind that was told
    # Spend spikes only: the rate ($/h) the user was last told for the spike that is on (None:
    # nothing told for it), and whether its one follow-up has gone out.
    told_usd_per_hour: float | None = None
    followed_up: bool = False


class AlertState(Struct, frozen=True):
    """Everything the detector remembers; persisted per source so restarts never re-fire."""

    spike: KindState = field(default_factory=KindState)
    rpm: KindState = field(default_factory=KindState)
    budget_day: str = ""
    budget_usd: float = 0.0  # the budget the fired steps refer to
    budget_pct_fired: int = 0  # highest of BUDGET_STEPS told on budget_day
    checked_ns: int | None = None  # the last evaluation


class Alert(Struct, frozen=True):
    """One alert to tell the user (and to record in ``alert_log``)."""

    kind: AlertKind
    level: str  # "spike" for spike/rpm; "50%", "80%" or "100%" for budget
    title: str
    message: str
    ts_ns: int


class Evaluation(Struct, frozen=True):
    """What one evaluation found: the new state, the level and text shown, what fired."""

    state: AlertState
    level: AlertLevel
    text: str  # for the tooltip/terminal: "" when normal
    fired: tuple[Alert, ...] = ()
    suppressed: tuple[AlertKind, ...] = ()  # onsets kept quiet by the cooldown
    rate_usd_per_hour: float = 0.0
    baseline_usd_per_hour: float = 0.0
    rpm: float = 0.0


def window_label(window_ns: int) -> str:
    """``5 min``, ``90 min``, ``2h``: how the short window is named in alert texts."""
    minutes = window_ns / NS_PER_MINUTE
    if minutes < 120:
        return f"{minutes:g} min"
    return format_duration(window_ns)


def per_hour(amount: float, window_ns: int) -> float:
    return amount * NS_PER_HOUR / window_ns if window_ns > 0 else 0.0


def spike_text(config: AlertConfig, rate: float, baseline_rate: float) -> str:
    """``Spend spike: $12.40/h (5 min) - 4.1x the last hour`` (or ``was $0.00/h ...``)."""
    head = f"Spend spike: {usd(rate)}/h ({window_label(config.short_window_ns)})"
    if baseline_rate > 0 and rate / baseline_rate < 1000:
        return f"{head} - {rate / baseline_rate:.1f}x the last hour"
    return f"{head} - was {usd(baseline_rate)}/h the last hour"


def _top_text(top: TopUsage | None, window_ns: int, by: Literal["cost", "reqs"]) -> str:
    if top is None:
        return ""
    if by == "cost":
        figure = f"{usd(per_hour(top.cost_usd, window_ns))}/h"
    else:
        figure = f"{top.reqs / (window_ns / NS_PER_MINUTE):.1f} rpm"
    return f". Top: {top.provider} {top.model} {figure}"


def _kind_step(
    kind: KindState,
    now: int,
    onset: bool,
    still_on: bool,
    cooldown_ns: int,
) -> tuple[KindState, Literal["fire", "suppressed", ""]]:
    """Advance one kind's state machine: returns the new state and what happened."""
    if kind.active_since_ns is not None:
        if still_on:
            return kind, ""
        kind = replace(kind, active_since_ns=None, told_usd_per_hour=None, followed_up=False)
    if not onset:
        return kind, ""
    cooling = kind.last_fired_ns is not None and now - kind.last_fired_ns < cooldown_ns
    if cooling:
        return replace(kind, active_since_ns=now), "suppressed"
    return KindState(active_since_ns=now, last_fired_ns=now), "fire"


def _follow_up_due(kind: KindState, rate: float, now: int, short_ns: int) -> bool:
    """Judged once the short window holds only time since the onset: before that the measured
    rate still climbs as the window fills, and a mid-fill figure would soon be stale too."""
    told, since = kind.told_usd_per_hour, kind.active_since_ns
    return (
        since is not None
        and told is not None
        and not kind.followed_up
        and now - since >= short_ns
        and rate > FOLLOW_UP_GROWTH * told
    )


def evaluate(
    config: AlertConfig, state: AlertState, reading: Reading, source: str = ""
) -> Evaluation:
    """One step of the detector. Pure: same inputs, same outputs."""
    now = reading.now_ns
    short = config.short_window_ns
    carry_ns = max(config.cooldown_ns, short)  # a zero cooldown must not end spikes each tick
    if state.checked_ns is not None and now - state.checked_ns > carry_ns:
        # Not watched for longer than the cooldown: whatever was on is over as far as we know.
        state = replace(
            state,
            spike=replace(state.spike, active_since_ns=None),
            rpm=replace(state.rpm, active_since_ns=None),
        )
    rate = per_hour(reading.short_cost_usd, short)
    baseline_rate = per_hour(reading.baseline_cost_usd, BASELINE_NS)
    threshold = config.spike_usd_per_hour
    low = config.hysteresis * threshold
    onset = (
        rate >= threshold
        and rate >= config.spike_multiple * baseline_rate
        and reading.short_cost_usd >= config.floor_usd
        and reading.short_cost_usd > 0
    )
    spike, spike_event = _kind_step(state.spike, now, onset, rate >= low, config.cooldown_ns)

    rpm = reading.short_reqs / (short / NS_PER_MINUTE) if short > 0 else 0.0
    rpm_state, rpm_event = state.rpm, ""
    if config.rpm_threshold > 0:
        rpm_state, rpm_event = _kind_step(
            state.rpm,
            now,
            rpm >= config.rpm_threshold,
            rpm >= config.hysteresis * config.rpm_threshold,
            config.cooldown_ns,
        )
    else:
        rpm_state = replace(state.rpm, active_since_ns=None)

    where = f" ({source})" if source else ""
    fired: list[Alert] = []
    suppressed: list[AlertKind] = []
    headline = spike_text(config, rate, baseline_rate)
    if spike_event == "fire":
        body = headline + _top_text(reading.top_by_cost, short, "cost")
        fired.append(Alert("spike", "spike", f"burntray: spend spike{where}", body, now))
        spike = replace(spike, told_usd_per_hour=rate)
    elif spike_event == "suppressed":
        suppressed.append("spike")
    elif _follow_up_due(spike, rate, now, short):
        told = spike.told_usd_per_hour or 0.0
        body = (
            f"Spend spike now {usd(rate)}/h ({window_label(short)}) - up from {usd(told)}/h "
            f"when first told" + _top_text(reading.top_by_cost, short, "cost")
        )
        fired.append(Alert("spike", "spike", f"burntray: spend spike growing{where}", body, now))
        spike = replace(spike, told_usd_per_hour=rate, followed_up=True, last_fired_ns=now)
    rpm_headline = (
        f"Request spike: {rpm:.1f} rpm ({window_label(short)}) - "
        f"threshold {config.rpm_threshold:g} rpm"
    )
    if rpm_event == "fire":
        body = rpm_headline + _top_text(reading.top_by_reqs, short, "reqs")
        fired.append(Alert("rpm", "spike", f"burntray: request spike{where}", body, now))
    elif rpm_event == "suppressed":
        suppressed.append("rpm")

    new_state = replace(state, spike=spike, rpm=rpm_state, checked_ns=now)
    budget_alert, new_state = _budget_step(config, new_state, reading, where)
    if budget_alert is not None:
        fired.append(budget_alert)

    if spike.active_since_ns is not None:
        level: AlertLevel = "spike"
        text = headline
    elif rpm_state.active_since_ns is not None:
        level, text = "spike", rpm_headline
    elif rate >= low and reading.short_cost_usd > 0:
        level = "elevated"
        text = f"Spend elevated: {usd(rate)}/h ({window_label(short)})"
    else:
        level, text = "normal", ""
    return Evaluation(
        state=new_state,
        level=level,
        text=text,
        fired=tuple(fired),
        suppressed=tuple(suppressed),
        rate_usd_per_hour=rate,
        baseline_usd_per_hour=baseline_rate,
        rpm=rpm,
    )


def budget_text(spent: float, budget: float) -> str:
    return f"Spent {usd(spent)} of {usd(budget)} today ({spent / budget * 100:.0f} %)"


def _budget_step(
    config: AlertConfig, state: AlertState, reading: Reading, where: str
) -> tuple[Alert | None, AlertState]:
    budget = config.daily_budget_usd
    if budget <= 0 or reading.spent_today_usd is None or not reading.day:
        return None, state
    if state.budget_day != reading.day or state.budget_usd != budget:
        state = replace(state, budget_day=reading.day, budget_usd=budget, budget_pct_fired=0)
    spent = reading.spent_today_usd
    crossed = max((step for step in BUDGET_STEPS if spent >= budget * step / 100), default=0)
    if crossed <= state.budget_pct_fired:
        return None, state
    state = replace(state, budget_pct_fired=crossed)
    title = f"burntray: {crossed} % of today's budget{where}"
    alert = Alert("budget", f"{crossed}%", title, budget_text(spent, budget), reading.now_ns)
    return alert, state
