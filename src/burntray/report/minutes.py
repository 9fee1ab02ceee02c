"""The report's per-minute chart series, read from burntray's history and a source's own files.

Apart from ``report.data`` (which gathers a whole report and so imports the app, the sources and
the registry): the sources' registry entries name these series as their charts, and must not
import all of that back.
"""

from __future__ import annotations

import sqlite3

from burntray.model.pricing import PriceTable
from burntray.report.timeline import (
    NS_PER_MINUTE,
    MinuteRow,
    PricedMinute,
    price_minute_rows,
)
from burntray.sources.hexai.source import StatsFile
from burntray.store import cburn_history
from burntray.store.history import HistoryStore


def table_columns(history: HistoryStore, table: str) -> list[str] | None:
    found = history.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    )
    if not found:
        return None
    return [str(row[1]) for row in history.execute(f"PRAGMA table_info({table})")]


def record_minutes(
    history: HistoryStore | None, source: str, start_ns: int, end_ns: int
) -> tuple[list[PricedMinute] | None, str, str]:
    """Per-minute figures of a record-keeping source, from burntray's history (whole minutes:
    a chart's resolution)."""
    if history is None:
        return None, "", f"charts of {source} need burntray's history"
    from burntray.store.usage_events import UsageEvents  # noqa: PLC0415

    try:
        series = UsageEvents(history).minute_series(source, start_ns, end_ns)
    except sqlite3.Error as exc:
        return None, "", f"history unreadable: {exc}"
    minutes: dict[int, list[float]] = {}
    for minute, _provider, _model, reqs, _tokens, cost, unpriced in series:
        acc = minutes.setdefault(minute, [0, 0.0, 0])
        acc[0] += reqs
        acc[1] += cost
        acc[2] += unpriced
    rows = [(m, int(r), float(c), int(u)) for m, (r, c, u) in sorted(minutes.items())]
    note = "" if rows else f"no {source} requests recorded in this window"
    return rows, "per-request records in burntray's history (real tokens)", note


def hexai_chart_minutes(
    history: HistoryStore | None,
    live: StatsFile | None,
    start_ns: int,
    end_ns: int,
    prices: PriceTable,
) -> tuple[list[PricedMinute] | None, str, str]:
    return _hexai_minutes(history, start_ns, end_ns, prices, live)


def _hexai_minutes(
    history: HistoryStore | None,
    start_ns: int,
    end_ns: int,
    prices: PriceTable,
    live: StatsFile | None,
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
            rows.extend(hexai_window_minutes(history, start_ns, end_ns))
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


def hexai_window_minutes(history: HistoryStore, start_ns: int, end_ns: int) -> list[MinuteRow]:
    """Per-minute rows holding exactly the events with ``start <= ts < end``.

    Whole minutes come from the rollup; the partial minutes at either edge from the events
    themselves, as ``HistoryStore.hexai_counters`` does for the headline.
    """
    first_full = -(-start_ns // NS_PER_MINUTE)
    end_full = end_ns // NS_PER_MINUTE
    if end_full <= first_full:
        return _hexai_event_minutes(history, start_ns, end_ns)
    return [
        *_hexai_event_minutes(history, start_ns, first_full * NS_PER_MINUTE),
        *history.hexai_minute_series(first_full * NS_PER_MINUTE, end_full * NS_PER_MINUTE),
        *_hexai_event_minutes(history, end_full * NS_PER_MINUTE, end_ns),
    ]


def _hexai_event_minutes(history: HistoryStore, start_ns: int, end_ns: int) -> list[MinuteRow]:
    if end_ns <= start_ns:
        return []
    rows = history.execute(
        "SELECT ts_ns / ?, provider, model, count(*), sum(sent), sum(recv) FROM hexai_events "
        "WHERE ts_ns >= ? AND ts_ns < ? GROUP BY 1, 2, 3",
        (NS_PER_MINUTE, start_ns, end_ns),
    )
    return [
        (int(m), str(p), str(mo), int(n), int(s), int(r))  # type: ignore[call-overload]
        for m, p, mo, n, s, r in rows
    ]


def cburn_chart_minutes(
    history: HistoryStore, start_ns: int, end_ns: int
) -> tuple[list[PricedMinute] | None, str, str]:
    try:
        if table_columns(history, cburn_history.TABLE) is None:
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
