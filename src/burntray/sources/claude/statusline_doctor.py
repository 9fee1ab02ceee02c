"""What ``burntray doctor`` says about Claude Code's status line: whether burntray is it, the
plan windows last reported, and each recent session's own cost beside the logs' cost."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import TYPE_CHECKING

from burntray.model.format import when_text
from burntray.report.by_period import GAP_FLAG_PCT, cost_gap_pct
from burntray.sources.claude.observations import plan_windows, read_observations
from burntray.sources.claude.records import observations_dir
from burntray.sources.claude.statusline import (
    printable,
)
from burntray.sources.claude.statusline_costs import CACHE_NAME, logged_session_costs

if TYPE_CHECKING:
    from burntray.sources.base import SourceContext

# Sessions listed with their two costs: the most recent ones.
SHOWN_SESSIONS = 5


def statusline_lines(ctx: SourceContext, dirs: list[Path]) -> list[str]:
    now = ctx.clock_ns()
    observations = sorted(
        read_observations(observations_dir(ctx.paths)), key=lambda o: o.observed_ns, reverse=True
    )
    if not observations:
        return [
            "status line  no report from Claude Code yet (`burntray statusline install` makes "
            "burntray its status line: plan windows and Claude Code's own session cost)"
        ]
    lines = [
        f"status line  {len(observations)} session(s) reported, the last "
        f"{when_text(observations[0].observed_ns, now)}"
    ]
    windows = plan_windows(observations, now)
    if not windows:
        lines.append("plan         no 5-hour or weekly window reported by Claude Code yet")
    for win in windows:
        resets = (
            "reset since"
            if win.reset_since_observed
            else "resets " + _dt.datetime.fromtimestamp(win.resets_at_ns / 1e9).strftime("%a %H:%M")
            if win.resets_at_ns is not None
            else "reset time unknown"
        )
        lines.append(
            f"plan         {win.window}: {win.used_percent:.0f} % ({resets}; reported "
            f"{when_text(win.observed_ns, now)}, official)"
        )
    logged = logged_session_costs(dirs, ctx.prices, ctx.paths.cache_dir / CACHE_NAME)
    for obs in [o for o in observations if o.cost_usd is not None][:SHOWN_SESSIONS]:
        assert obs.cost_usd is not None
        mine = logged.get(obs.session_id)
        if mine is None:
            lines.append(
                f"session cost {printable(obs.session_id)[:36]}: Claude Code "
                f"${obs.cost_usd:.2f}, not in the logs read"
            )
            continue
        gap = cost_gap_pct(obs.cost_usd, mine)
        flag = ""
        if gap is not None and abs(gap) > GAP_FLAG_PCT:
            flag = f" - over {GAP_FLAG_PCT:g} % apart"
            if gap > 0:  # the known cause: placeholder tokens in the logs
                flag += " (the logs can undercount: placeholder token counts)"
        gap_text = "" if gap is None else f", gap {gap:+.1f} %"
        lines.append(
            f"session cost {printable(obs.session_id)[:36]}: Claude Code "
            f"${obs.cost_usd:.2f}, logs ${mine:.2f}{gap_text}{flag}"
        )
    return lines
