"""``burntray doctor``'s [plan limits] section: the plan windows each source knows, as
``status`` would show them (the last reports burntray keeps; a running tray reads new ones);
and its [two costs] section: a tool's own session cost beside the logs'."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from burntray.app import AppContext


# doctor reads no logs: the windows are those kept from the last read (tray, status, report)
_NONE_YET = "no plan window recorded yet (the tray, status and report record them as they read)"


def plan_limit_lines(ctx: AppContext) -> list[str]:
    """One line per source that knows plan windows, then one per window (tool, window, %, reset,
    age, origin); a source that fails says so and the others still show."""
    from burntray.model.limits_text import doctor_line  # noqa: PLC0415
    from burntray.sources.base import HasLimits, members_of  # noqa: PLC0415
    from burntray.sources.build import build_source  # noqa: PLC0415

    now = ctx.clock_ns()
    source = build_source("all", ctx.source_context())
    lines: list[str] = []
    try:
        for name, member in members_of(source).items():
            if not isinstance(member, HasLimits):
                continue
            try:
                windows = member.plan_windows(now)
            except Exception as exc:  # one source's failure never hides another's windows
                lines.append(f"{name:<12} unreadable: {exc}")
                continue
            if not windows:
                lines.append(f"{name:<12} {_NONE_YET}")
            for win in windows:
                lines.append(f"{name:<12} {doctor_line(win, now)}")
    finally:
        source.close()
    return lines or ["no source that reports plan windows (Claude Code's status line, Codex)"]


SHOWN_SESSIONS = 5
TWO_COST_DAYS = 7


def two_cost_lines(ctx: AppContext) -> list[str]:
    """The last sessions of the past week a tool reported its own cost of (Claude Code's status
    line or OTLP), beside the logs' cost, with the gap; the two are never added."""
    import sqlite3  # noqa: PLC0415

    from burntray.report.by_period import GAP_FLAG_PCT  # noqa: PLC0415
    from burntray.report.own_costs import read_two_costs  # noqa: PLC0415
    from burntray.sources.build import build_source  # noqa: PLC0415

    history = ctx.history()
    if history is None:
        return [f"history unusable: {ctx.history_error}"]
    now = ctx.clock_ns()
    source = build_source("all", ctx.source_context())
    try:
        start = now - TWO_COST_DAYS * 86400 * 10**9
        tables = read_two_costs(history, source, None, start, now + 1)
    except sqlite3.Error as exc:
        return [f"history unreadable: {exc}"]
    finally:
        source.close()
    if tables is None or not tables.sessions:
        return [f"no tool reported its own cost of a session in the last {TWO_COST_DAYS} days"]
    lines = []
    for row in tables.sessions[:SHOWN_SESSIONS]:
        gap = row.gap_pct
        text = f"{row.key[:36]}: tool's own ${row.own_usd:.2f} ({row.origin}), "
        text += f"logs ${row.logged_usd:.2f}"
        if gap is not None:
            text += f", gap {gap:+.1f} %"
            if abs(gap) > GAP_FLAG_PCT:
                text += f" - over {GAP_FLAG_PCT:g} %"
        lines.append(text)
    return lines
