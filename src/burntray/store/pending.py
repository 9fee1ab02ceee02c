"""A long read's rollups, summed once at its end instead of upserted with every batch.

A first scan writes 240,000 records in 12 batches, and each batch touches nearly every minute of
the week again (six sessions run all week): upserting the minutes and quarter hours per batch
was a third of the write (issue 22). A writer that defers (``UsageEvents.ingest(...,
defer_rollup=True)``) writes the records only and, in the same transaction, marks the source in
``rollup_pending`` with the first minute its records touch (a quarter hour's first, so the
quarters before it are whole). The invariant, for any interleaving of writers: a source's
minutes and quarters before its mark (all of them without one) are its records summed.

Readers (``UsageEvents``, ``store.views``, ``store.blocks``) take the part from the mark on
from the records; ``finish`` (the long read's end, or the next writer that does not defer, in
its own transaction) sums that part again from the records in SQL and drops the mark. A scan
cut short leaves the mark behind: the answers stay exact, and the next write finishes it.
"""

# ruff: noqa: S608 - SQL here names only the schema's constant tables; values are bound

from __future__ import annotations

import sqlite3

from burntray.model.timefmt import NS_PER_MINUTE, NS_PER_QUARTER_HOUR
from burntray.store.history import HistoryStore
from burntray.store.schema import (
    MINUTES_PER_QUARTER,
    ROLLUP_PENDING,
    USAGE_EVENTS,
    USAGE_MINUTES,
    USAGE_QUARTERS,
)

PENDING = ROLLUP_PENDING.name
EVENTS = USAGE_EVENTS.name
MINUTES = USAGE_MINUTES.name
QUARTERS = USAGE_QUARTERS.name
_LOOKUP = f"SELECT minute FROM {PENDING} WHERE source = ?"
_MARK = (
    f"INSERT INTO {PENDING} VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET "
    "minute = min(minute, excluded.minute)"
)
_SUMS = (
    "count(*), sum(input), sum(output), sum(cache_read), sum(cache_write), total(cost), "
    "sum(cost IS NULL)"
)
# The minutes from the mark on, summed from the records. {ts} is "+ts_ns" (read the source's
# records in key order: no lookup per record, half the time when the mark covers most of them)
# or "ts_ns" (through the time index: a few recent minutes of a long history).
_MINUTES_FROM_RECORDS = (
    f"INSERT INTO {MINUTES} SELECT source, ts_ns / {NS_PER_MINUTE}, provider, "
    f"model, {_SUMS} FROM {EVENTS} WHERE source = ? AND {{ts}} >= ? GROUP BY 1, 2, 3, 4"
)
_QUARTERS_FROM_MINUTES = (
    f"INSERT INTO {QUARTERS} SELECT source, minute / {MINUTES_PER_QUARTER}, "
    "provider, model, sum(reqs), sum(input), sum(output), sum(cache_read), sum(cache_write), "
    f"total(cost), sum(unpriced) FROM {MINUTES} WHERE source = ? AND minute >= ? "
    "GROUP BY 1, 2, 3, 4"
)
_EXTENT = (
    f"SELECT (SELECT ts_ns FROM {EVENTS} WHERE source = ?1 ORDER BY ts_ns LIMIT 1), "
    f"(SELECT ts_ns FROM {EVENTS} WHERE source = ?1 ORDER BY ts_ns DESC LIMIT 1)"
)


def mark(conn: sqlite3.Connection, source: str, first_ns: int) -> None:
    """Inside a writer's transaction: ``source``'s rollups from the quarter hour of
    ``first_ns`` on are left to ``finish`` (an earlier mark stays when it is earlier)."""
    quarter = first_ns // NS_PER_QUARTER_HOUR
    conn.execute(_MARK, (source, quarter * MINUTES_PER_QUARTER))


def finish(conn: sqlite3.Connection, source: str) -> bool:
    """Inside a writer's transaction: sum ``source``'s rollups from its mark on again from its
    records and drop the mark; False (nothing done) when it has none."""
    row = conn.execute(_LOOKUP, (source,)).fetchone()
    if row is None:
        return False
    minute = int(row[0])
    from_ns = minute * NS_PER_MINUTE
    first, last = conn.execute(_EXTENT, (source,)).fetchone()
    conn.execute(f"DELETE FROM {MINUTES} WHERE source = ? AND minute >= ?", (source, minute))
    conn.execute(
        f"DELETE FROM {QUARTERS} WHERE source = ? AND quarter >= ?",
        (source, minute // MINUTES_PER_QUARTER),
    )
    if first is not None:
        # most of the source's records (a first scan: all of them) read in key order
        wide = (int(last) + 1 - max(from_ns, int(first))) * 4 > int(last) + 1 - int(first)
        ts = "+ts_ns" if wide else "ts_ns"
        conn.execute(_MINUTES_FROM_RECORDS.format(ts=ts), (source, from_ns))
        conn.execute(_QUARTERS_FROM_MINUTES, (source, minute))
    conn.execute(f"DELETE FROM {PENDING} WHERE source = ?", (source,))
    return True


def pending_from_ns(history: HistoryStore, source: str) -> int | None:
    """Where ``source``'s rollups stop being its records summed (its mark, in ns), or None:
    readers take the time from there on from the records."""
    rows = history.execute(_LOOKUP, (source,))
    return int(rows[0][0]) * NS_PER_MINUTE if rows else None  # type: ignore[call-overload]


def forget(conn: sqlite3.Connection, source: str) -> None:
    """Inside the transaction that clears ``source``'s records and rollups: nothing is left to
    sum."""
    conn.execute(f"DELETE FROM {PENDING} WHERE source = ?", (source,))
