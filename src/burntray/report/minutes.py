"""The report's per-minute chart series of a record-keeping source, from burntray's history.

A source with tables of its own draws its charts itself (``SourceSpec.chart_minutes``, in its
folder); this is the series of every source that keeps per-request records. Apart from
``report.data`` (which gathers a whole report and so imports the app, the sources and the
registry).
"""

from __future__ import annotations

import sqlite3

from burntray.report.timeline import PricedMinute
from burntray.store.history import HistoryStore


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
