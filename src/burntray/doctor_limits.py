"""``burntray doctor``'s [plan limits] section: the plan windows each source knows, as
``status`` would show them (the last reports burntray keeps; a running tray reads new ones)."""

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
