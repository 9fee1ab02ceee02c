"""A subscription plan's usage windows (the 5-hour and the weekly one), as the tools report them.

What runs out on a subscription is not dollars but a plan window: "42 % of the 5-hour window
used, resets at 14:05". The tools themselves report these (Codex in its rollout logs, Claude
Code on its status line's stdin), each observation a snapshot taken at one instant by one
session. The rules here make those observations a truthful answer:

- unknown is never 0 %: a window nobody reported is absent, not empty;
- the freshest observation of a window wins, across sessions;
- a window whose reset time has passed has reset: it reads 0 % (``reset_since_observed``)
  until a new observation arrives, never the old figure carried over;
- the age of every figure is known (``observed_ns``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

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


@dataclass(frozen=True, slots=True)
class PlanWindow:
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
            )
        out.append(win)
    return tuple(out)


__all__ = [
    "FIVE_HOUR_MINUTES",
    "WEEK_MINUTES",
    "LimitOrigin",
    "PlanWindow",
    "current_windows",
    "window_label",
]
