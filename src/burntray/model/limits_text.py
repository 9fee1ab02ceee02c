"""Plan windows in words, for every view (status, tmux, the tray's menu and tooltip, alerts):
``Codex 5 h: 42 % · resets 14:05 · at this pace runs out 13:30 (estimate)``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from burntray.model.limits import PlanWindow, runs_out_before_reset, runs_out_ns
from burntray.model.timefmt import NS_PER_MINUTE

# An observation older than this says how old it is (the tool reports only while it is used).
SAY_AGE_AFTER_NS = 15 * NS_PER_MINUTE


def tool_label(tool: str) -> str:
    """The tool for people: its id capitalised ("codex" -> "Codex")."""
    return tool[:1].upper() + tool[1:]


def window_words(win: PlanWindow) -> str:
    """ "5 h", "weekly", else the window's label ("90m")."""
    return "5 h" if win.window == "5h" else win.window


def percent_text(value: float) -> str:
    """ "42 %", "3.5 %" (one decimal below 10 only where it is not whole)."""
    text = f"{value:.1f}".removesuffix(".0") if value < 10 else f"{value:.0f}"
    return f"{text} %"


def clock_text(ts_ns: int, now_ns: int) -> str:
    """A coming (or recent) instant in local time, as near as it is: "14:05" within the day,
    "Tue 14:05" within the week, else "2026-12-10 14:05"."""
    when = dt.datetime.fromtimestamp(ts_ns / 1e9)
    now = dt.datetime.fromtimestamp(now_ns / 1e9)
    days = abs((when.date() - now.date()).days)
    if days == 0:
        return f"{when:%H:%M}"
    if days < 7:
        return f"{when:%a %H:%M}"
    return f"{when:%Y-%m-%d %H:%M}"


def age_text(ns: int) -> str:
    minutes = ns // NS_PER_MINUTE
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


def limit_line(win: PlanWindow, now_ns: int) -> str:
    """The window in a menu line: what was used, when it resets, the pace, its age."""
    head = f"{tool_label(win.tool)} {window_words(win)}: {percent_text(win.used_percent)}"
    if win.origin == "estimate":
        head += " (estimate)"
    parts = [head]
    if win.reset_since_observed:
        parts.append("reset since last report")
    elif win.limit_reached:
        parts.append("limit reached")
    if win.resets_at_ns is not None:
        parts.append(f"resets {clock_text(win.resets_at_ns, now_ns)}")
    out = runs_out_ns(win)
    if out is not None and not win.limit_reached:
        soon = runs_out_before_reset(win) is not None or win.resets_at_ns is None
        if soon:
            parts.append(f"at this pace runs out {clock_text(out, now_ns)} (estimate)")
        else:
            parts.append("at this pace lasts past the reset (estimate)")
    age = win.age_ns(now_ns)
    if age >= SAY_AGE_AFTER_NS:
        parts.append(f"reported {age_text(age)} ago")
    return " · ".join(parts)


def limit_short(win: PlanWindow, now_ns: int) -> str:
    """Compact, for the status line and the tooltip: "Codex 5 h 42 % (resets 14:05)"."""
    text = f"{tool_label(win.tool)} {window_words(win)} {percent_text(win.used_percent)}"
    if win.limit_reached:
        text += " reached"
    if win.resets_at_ns is not None:
        text += f" (resets {clock_text(win.resets_at_ns, now_ns)})"
    elif win.reset_since_observed:
        text += " (reset)"
    return text


def limit_tmux(win: PlanWindow) -> str:
    """Tightest: "Codex5h:42%" ("!" when reached)."""
    label = "wk" if win.window == "weekly" else win.window
    mark = "!" if win.limit_reached else ""
    return f"{tool_label(win.tool)}{label}:{win.used_percent:.0f}%{mark}"


def urgency(win: PlanWindow) -> tuple[int, float]:
    """Sort key, most urgent first: reached, then running out before the reset, then the most
    used."""
    if win.limit_reached:
        rank = 0
    elif runs_out_before_reset(win) is not None:
        rank = 1
    else:
        rank = 2
    return (rank, -win.used_percent)


def most_urgent(limits: Iterable[PlanWindow]) -> PlanWindow | None:
    ordered = sorted(limits, key=urgency)
    return ordered[0] if ordered else None


__all__ = [
    "age_text",
    "clock_text",
    "limit_line",
    "limit_short",
    "limit_tmux",
    "most_urgent",
    "percent_text",
    "tool_label",
    "urgency",
    "window_words",
]


def doctor_line(win: PlanWindow, now_ns: int) -> str:
    """One window for ``burntray doctor``: tool, window, %, reset, age, origin and source."""
    parts = [f"{tool_label(win.tool)} {window_words(win)}: {percent_text(win.used_percent)} used"]
    if win.reset_since_observed:
        parts.append("reset since last report")
    elif win.limit_reached:
        parts.append("limit reached")
    if win.resets_at_ns is not None:
        parts.append(f"resets {clock_text(win.resets_at_ns, now_ns)}")
    else:
        parts.append("reset time not reported")
    parts.append(f"reported {age_text(win.age_ns(now_ns))} ago")
    parts.append(win.origin + (f" (from {win.source})" if win.source else ""))
    return " · ".join(parts)
