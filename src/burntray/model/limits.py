"""A subscription plan's usage windows (the 5-hour and the weekly one), as the tools report them.

What runs out on a subscription is not dollars but a plan window: "42 % of the 5-hour window
used, resets at 14:05". The tools themselves report these (Codex in its rollout logs, Claude
Code on its status line's stdin), each observation a snapshot taken at one instant by one
session. The rules here make those observations a truthful answer:

- unknown is never 0 %: a window nobody reported is absent, not empty;
- the freshest observation of a window wins, across sessions;
- a window whose reset time has passed has reset: it reads 0 % (``reset_since_observed``)
  until a new observation arrives, never the old figure carried over;
- the age of every figure is known (``observed_ns``);
- the pace is the window's rise since the first observation of its current period
  (``rise_from_*``), an estimate: where it runs out, if it keeps rising so, and whether that is
  before the reset.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from msgspec import Struct
from msgspec.structs import replace

from burntray.model.timefmt import NS_PER_MINUTE

LimitOrigin = Literal["official", "estimate"]

FIVE_HOUR_MINUTES = 300
WEEK_MINUTES = 7 * 24 * 60


def window_label(window_minutes: int) -> str:
    """The window named by its length: "5h", "weekly", else e.g. "90m", "2d"."""
    if window_minutes == FIVE_HOUR_MINUTES:
        return "5h"
    if window_minutes == WEEK_MINUTES:
        return "weekly"
    if window_minutes % (24 * 60) == 0:
        return f"{window_minutes // (24 * 60)}d"
    if window_minutes % 60 == 0:
        return f"{window_minutes // 60}h"
    return f"{window_minutes}m"


class PlanWindow(Struct, frozen=True):
    """One plan window of one tool, as last observed.

    ``tool`` is the tool's stable id ("claude", "codex"), the same for every source that reports
    it, so two sources observing one tool's window merge instead of counting twice.
    ``used_percent`` is 0-100 (may exceed 100 when the tool says so). ``resets_at_ns`` is None
    when the tool did not say. ``limit_reached`` is set when the tool reported the limit as hit.
    """

    tool: str
    window_minutes: int
    used_percent: float
    resets_at_ns: int | None
    observed_ns: int
    origin: LimitOrigin = "official"
    source: str = ""  # the source that reported it
    limit_reached: bool = False
    reset_since_observed: bool = False  # set by ``current_windows`` when the reset has passed
    # The first observation of this window's current period (the same reset): the pace is the
    # rise since then. None: no earlier observation in this period (no pace yet).
    rise_from_ns: int | None = None
    rise_from_percent: float | None = None

    @property
    def window(self) -> str:
        return window_label(self.window_minutes)

    @property
    def window_ns(self) -> int:
        return self.window_minutes * NS_PER_MINUTE

    def age_ns(self, now_ns: int) -> int:
        return max(0, now_ns - self.observed_ns)


def current_windows(observations: Iterable[PlanWindow], now_ns: int) -> tuple[PlanWindow, ...]:
    """Each (tool, window) once: its freshest observation, reset to 0 % when its reset time
    has passed; ordered by tool, then window length."""
    freshest: dict[tuple[str, int], PlanWindow] = {}
    for obs in observations:
        key = (obs.tool, obs.window_minutes)
        held = freshest.get(key)
        if held is None or obs.observed_ns > held.observed_ns:
            freshest[key] = obs
    out = []
    for key in sorted(freshest):
        win = freshest[key]
        if win.resets_at_ns is not None and win.resets_at_ns <= now_ns:
            # The window rolled over after this observation: what was used then is gone. The
            # next window's reset is unknown until the tool reports again.
            win = replace(
                win,
                used_percent=0.0,
                resets_at_ns=None,
                limit_reached=False,
                reset_since_observed=True,
                rise_from_ns=None,
                rise_from_percent=None,
            )
        out.append(win)
    return tuple(out)


# A pace needs a rise observed over at least this long: two reports a few seconds apart say
# nothing of the hours ahead.
MIN_PACE_NS = 10 * NS_PER_MINUTE
# Two observations are of one period when their resets are this close (Codex's
# ``resets_in_seconds`` is counted from each event's own time, so the reset drifts a little).
SAME_RESET_NS = 5 * NS_PER_MINUTE


def same_period_values(  # noqa: PLR0917 - two reports as plain values
    earlier_ns: int,
    earlier_used: float,
    earlier_resets: int | None,
    window_ns: int,
    later_ns: int,
    later_used: float,
    later_resets: int | None,
) -> bool:
    """``same_period`` on plain values (a reader following thousands of reports builds no
    PlanWindow for each)."""
    if later_ns < earlier_ns or later_used < earlier_used - 0.5:
        return False
    if earlier_resets is not None and later_resets is not None:
        return abs(earlier_resets - later_resets) <= SAME_RESET_NS
    if earlier_resets is not None and later_ns >= earlier_resets:
        return False
    return later_ns - earlier_ns < window_ns


def same_period(earlier: PlanWindow, later: PlanWindow) -> bool:
    """Whether ``later`` observes the same period of the window as ``earlier`` (no reset in
    between): the same reset time, else a use that did not fall within one window's length."""
    return same_period_values(
        earlier.observed_ns,
        earlier.used_percent,
        earlier.resets_at_ns,
        earlier.window_ns,
        later.observed_ns,
        later.used_percent,
        later.resets_at_ns,
    )


def with_rise(held: PlanWindow | None, new: PlanWindow) -> PlanWindow:
    """``new`` carrying the start of its period's rise: ``held``'s when both are one period."""
    if held is None or not same_period(held, new):
        return replace(new, rise_from_ns=None, rise_from_percent=None)
    if held.rise_from_ns is not None:
        return replace(
            new, rise_from_ns=held.rise_from_ns, rise_from_percent=held.rise_from_percent
        )
    return replace(new, rise_from_ns=held.observed_ns, rise_from_percent=held.used_percent)


def runs_out_ns(win: PlanWindow) -> int | None:
    """When the window reaches 100 % if it keeps rising as it did this period (an estimate);
    None when no pace is known (no rise yet, or observed over too short a time)."""
    if win.reset_since_observed or win.rise_from_ns is None or win.rise_from_percent is None:
        return None
    if win.limit_reached or win.used_percent >= 100.0:
        return win.observed_ns
    span = win.observed_ns - win.rise_from_ns
    rise = win.used_percent - win.rise_from_percent
    if span < MIN_PACE_NS or rise <= 0:
        return None
    return win.observed_ns + int((100.0 - win.used_percent) / rise * span)


def runs_out_before_reset(win: PlanWindow) -> int | None:
    """The estimated run-out time when it comes before the window's reset, else None."""
    out = runs_out_ns(win)
    if out is None or win.limit_reached or win.resets_at_ns is None:
        return None
    return out if out < win.resets_at_ns else None


__all__ = [
    "FIVE_HOUR_MINUTES",
    "MIN_PACE_NS",
    "WEEK_MINUTES",
    "LimitOrigin",
    "PlanWindow",
    "current_windows",
    "runs_out_before_reset",
    "runs_out_ns",
    "same_period",
    "same_period_values",
    "window_label",
    "with_rise",
]
