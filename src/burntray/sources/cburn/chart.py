"""The cburn daemon's chart series for the report, from the running sums its headline reads."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from burntray.model.timefmt import NS_PER_MINUTE
from burntray.sources.cburn import history as cburn_history

if TYPE_CHECKING:
    from burntray.report.timeline import PricedMinute
    from burntray.store.history import HistoryStore


def chart_minutes(
    history: HistoryStore, start_ns: int, end_ns: int
) -> tuple[list[PricedMinute] | None, str, str]:
    try:
        if cburn_history.count_samples(history) == 0:
            return None, "", "no cburn daemon snapshots recorded in burntray's history yet"
        # The headline counts samples in (now - window, now] and the report's window is
        # [start, end) with end = now + 1: the same bounds, so chart totals equal the headline.
        found = cburn_history.increases(history, start_ns, end_ns - 1)
    except sqlite3.Error as exc:
        return None, "", f"{cburn_history.TABLE} unreadable: {exc}"
    minutes: list[PricedMinute] = [
        (step.at_ns // NS_PER_MINUTE, step.api_calls, max(0.0, step.cost_usd), 0)
        for step in found
        if step.api_calls or step.cost_usd > 0
    ]
    where = (
        "the cburn daemon's cumulative snapshots in burntray's history "
        "(increases only: a restart, a shrinking daemon window or a change of its period "
        "never counts twice)"
    )
    note = "" if minutes else "no usage increase recorded from the cburn daemon in this window"
    return minutes, where, note
