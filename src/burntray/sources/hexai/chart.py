"""hexai's chart series for the report: the same split as its headline (``hexai_snapshot``)."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from burntray.model.timefmt import NS_PER_MINUTE
from burntray.report.timeline import MinuteRow, PricedMinute, price_minute_rows
from burntray.sources.hexai import history as hexai_history

if TYPE_CHECKING:
    from burntray.model.pricing import PriceTable
    from burntray.sources.hexai.source import StatsFile
    from burntray.store.history import HistoryStore


def chart_minutes(
    history: HistoryStore | None,
    live: StatsFile | None,
    start_ns: int,
    end_ns: int,
    prices: PriceTable,
) -> tuple[list[PricedMinute] | None, str, str]:
    """The same split as ``HexaiSource.snapshot``: the live file's events when it covers the
    window, otherwise burntray's history for the whole window."""
    coverage = live.coverage_start_ns if live is not None else end_ns
    rows: list[MinuteRow] = []
    if live is not None and start_ns >= coverage:
        rows.extend(file_minutes(live, start_ns, end_ns))
        where = "hexai's stats.json"
    elif history is None:
        return None, "", "the window reaches back before stats.json: charts need history"
    else:
        try:
            rows.extend(hexai_history.window_minutes(history, start_ns, end_ns))
        except sqlite3.Error as exc:
            return None, "", f"history unreadable: {exc}"
        where = "burntray's history (every event stats.json showed it)"
    where += " (tokens estimated as bytes/4, priced per model)"
    note = "" if rows else "no hexai requests recorded in this window"
    return price_minute_rows(rows, prices), where, note


def file_minutes(stats: StatsFile, start_ns: int, end_ns: int) -> list[MinuteRow]:
    """Per-minute rows of the live file's events with ``start <= ts < end``."""
    sums: dict[tuple[int, str, str], list[int]] = {}
    for event in stats.events():
        if start_ns <= event.ts_ns < end_ns:
            key = (event.ts_ns // NS_PER_MINUTE, event.provider, event.model)
            acc = sums.get(key)
            if acc is None:
                sums[key] = [1, event.sent, event.recv]
            else:
                acc[0] += 1
                acc[1] += event.sent
                acc[2] += event.recv
    return [(m, p, mo, n, s, r) for (m, p, mo), (n, s, r) in sums.items()]
