"""Plan-window alerts (5-hour, weekly): a pure detector, values in and out, as ``model.alerts``.

``evaluate_limits(config, states, windows, now_ns)`` takes the windows the tools reported (a
Snapshot's ``limits``) and what was told before, and returns the new states and the alerts to
fire. Each is told once per window period (a period ends at the window's reset):

- a threshold (``alerts.limit_thresholds``, default 80 % and 95 %, or a table per window)
  crossed, or the limit reached (100 %); when several are crossed at once only the highest is told;
- "runs out before the reset at this pace" (an estimate from the window's rise this period);
- "window reset": the window rolled over after something about it was told (a threshold or
  the pace), so the user knows it can be used again.

The cooldown (``alerts.cooldown``) is per window and kind: an alert of the same kind for the same
window within it is kept quiet (remembered as told, not notified) - except a higher threshold in
the same period, which is news. Time is only ``now_ns``: tests drive it with a fake clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from msgspec import Struct, field
from msgspec.structs import replace

from burntray.model.limits import SAME_RESET_NS, PlanWindow, runs_out_before_reset
from burntray.model.limits_text import (
    clock_text,
    percent_text,
    tool_label,
    window_words,
)
from burntray.model.timefmt import NS_PER_MINUTE

LimitKind = Literal["threshold", "pace", "reset"]
DEFAULT_THRESHOLDS = (80.0, 95.0)  # also of a window a per-window table does not name


class LimitAlertConfig(Struct, frozen=True):
    """Which plan-window alerts are on: the used-% thresholds, pace and reset."""

    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS
    pace: bool = True
    reset: bool = True
    cooldown_ns: int = 15 * NS_PER_MINUTE
    # thresholds of the windows named (by label: "5h", "weekly"); the others use ``thresholds``
    per_window: Mapping[str, tuple[float, ...]] = field(default_factory=dict)

    def thresholds_of(self, win: PlanWindow) -> tuple[float, ...]:
        return self.per_window.get(win.window, self.thresholds)


class WindowAlertState(Struct, frozen=True):
    """What was told about one (tool, window) in its current period."""

    period_ns: int | None = None  # the period's reset time (None: not known)
    used_percent: float = 0.0  # as last seen
    told_percent: float = 0.0  # the highest threshold told this period (100: the limit)
    pace_told: bool = False
    threshold_fired_ns: int | None = None  # the last alert of each kind (for the cooldown)
    pace_fired_ns: int | None = None
    reset_fired_ns: int | None = None


class LimitAlert(Struct, frozen=True):
    """One plan-window alert to tell the user."""

    kind: LimitKind
    level: str  # "80%", "100%", "pace", "reset"
    title: str
    message: str
    ts_ns: int
    notify: bool = True  # False: kept quiet by the cooldown (logged, shown, not notified)


def window_key(win: PlanWindow) -> str:
    return f"{win.tool}/{win.window}"


def _new_period(state: WindowAlertState, win: PlanWindow) -> bool:
    """Whether ``win`` is of a later period than the one ``state`` describes."""
    if win.reset_since_observed:
        return state.period_ns is not None or state.used_percent > 0
    if state.period_ns is None or win.resets_at_ns is None:
        return False
    return abs(win.resets_at_ns - state.period_ns) > SAME_RESET_NS and (
        win.resets_at_ns > state.period_ns or win.used_percent < state.used_percent
    )


def _cooling(fired_ns: int | None, now_ns: int, config: LimitAlertConfig) -> bool:
    return fired_ns is not None and now_ns - fired_ns < config.cooldown_ns


def _name(win: PlanWindow) -> str:
    return f"{tool_label(win.tool)} {window_words(win)}"


def _resets(win: PlanWindow, now_ns: int) -> str:
    return f" · resets {clock_text(win.resets_at_ns, now_ns)}" if win.resets_at_ns else ""


def _step(
    config: LimitAlertConfig, state: WindowAlertState, win: PlanWindow, now: int, where: str
) -> tuple[WindowAlertState, list[LimitAlert]]:
    fired: list[LimitAlert] = []
    name = _name(win)
    if _new_period(state, win):
        told = state.told_percent > 0 or state.pace_told
        if config.reset and told:
            quiet = _cooling(state.reset_fired_ns, now, config)
            was = percent_text(state.used_percent)
            fired.append(
                LimitAlert(
                    "reset",
                    "reset",
                    f"burntray: {name} window reset{where}",
                    f"{name} window reset: it was at {was}; it can be used again.",
                    now,
                    notify=not quiet,
                )
            )
        state = WindowAlertState(
            threshold_fired_ns=state.threshold_fired_ns,
            pace_fired_ns=state.pace_fired_ns,
            reset_fired_ns=now if fired else state.reset_fired_ns,
        )
    if win.reset_since_observed:
        return replace(state, period_ns=None, used_percent=0.0), fired
    state = replace(
        state,
        period_ns=win.resets_at_ns if win.resets_at_ns is not None else state.period_ns,
        used_percent=win.used_percent,
    )
    steps = [t for t in config.thresholds_of(win) if win.used_percent >= t]
    if win.limit_reached or win.used_percent >= 100.0:
        steps.append(100.0)
    crossed = max(steps, default=0.0)
    if crossed > state.told_percent:
        escalation = state.told_percent > 0  # a higher step this period: news, not a repeat
        quiet = not escalation and _cooling(state.threshold_fired_ns, now, config)
        if crossed >= 100.0:
            title = f"burntray: {name} limit reached{where}"
            body = f"{name}: limit reached ({percent_text(win.used_percent)})"
        else:
            title = f"burntray: {name} at {percent_text(win.used_percent)}{where}"
            body = f"{name}: {percent_text(win.used_percent)} used"
        fired.append(
            LimitAlert(
                "threshold",
                f"{crossed:g}%",
                title,
                body + _resets(win, now) + ".",
                now,
                notify=not quiet,
            )
        )
        state = replace(state, told_percent=crossed, threshold_fired_ns=now)
    out = runs_out_before_reset(win)
    if config.pace and out is not None and not state.pace_told and state.told_percent < 100:
        quiet = _cooling(state.pace_fired_ns, now, config)
        fired.append(
            LimitAlert(
                "pace",
                "pace",
                f"burntray: {name} runs out before its reset{where}",
                f"{name}: {percent_text(win.used_percent)} used; at this pace it runs out "
                f"{clock_text(out, now)}, before its reset at "
                f"{clock_text(win.resets_at_ns or out, now)} (estimate).",
                now,
                notify=not quiet,
            )
        )
        state = replace(state, pace_told=True, pace_fired_ns=now)
    return state, fired


def evaluate_limits(
    config: LimitAlertConfig,
    states: Mapping[str, WindowAlertState],
    windows: Iterable[PlanWindow],
    now_ns: int,
    source: str = "",
) -> tuple[dict[str, WindowAlertState], tuple[LimitAlert, ...]]:
    """One step: the new state of every window seen, and what to tell. Pure. A window not in
    ``windows`` keeps its state (unknown now is not a reset)."""
    where = f" ({source})" if source else ""
    out = dict(states)
    fired: list[LimitAlert] = []
    for win in windows:
        key = window_key(win)
        state, alerts = _step(config, out.get(key, WindowAlertState()), win, now_ns, where)
        out[key] = state
        fired += alerts
    return out, tuple(fired)


__all__ = [
    "DEFAULT_THRESHOLDS",
    "LimitAlert",
    "LimitAlertConfig",
    "LimitKind",
    "WindowAlertState",
    "evaluate_limits",
    "window_key",
]
