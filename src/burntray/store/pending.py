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
its own transaction) sums that part again and drops the mark. A scan cut short leaves the mark
behind: the answers stay exact, and the next write finishes it.

Summing it again from the records in SQL (a GROUP BY over them all) is a third of a second at
240,000 records, at the very end of the scan. So a writer also sums its deferred batches in
memory as it goes (``rollup.MinuteSums``), and the mark names it (``writer``) as long as every
deferred write since the mark was made is its own; at the end those sums are added to the
rollups with one upsert row per group. Whatever else happened meanwhile (another writer's
deferred batch, a changed record, a mark made by a scan that died) the mark names no writer,
and the rollups are summed from the records; so too after a prune (``schema._prune_usage``
clears the name). Writers that do not defer keep the rollups in step with their own records, so
the in-memory sums stay the rest. A burntray of the version before, still running, knows no
mark: should its prune have dropped minutes the sums hold, the requests counted would exceed the
records, and the rollups are summed from the records instead.
"""

# ruff: noqa: S608 - SQL here names only the schema's constant tables; values are bound

from __future__ import annotations

import sqlite3
from typing import Protocol

from burntray.model.timefmt import NS_PER_MINUTE, NS_PER_QUARTER_HOUR
from burntray.store.history import HistoryStore
from burntray.store.schema import (
    EVENTS,
    MINUTES,
    MINUTES_PER_QUARTER,
    QUARTERS,
    ROLLUP_PENDING,
)

PENDING = ROLLUP_PENDING.name
_LOOKUP = f"SELECT minute, writer FROM {PENDING} WHERE source = ?"
_MARK = f"INSERT INTO {PENDING} VALUES (?, ?, ?)"
_MARK_AGAIN = f"UPDATE {PENDING} SET minute = min(minute, ?), writer = ? WHERE source = ?"
NEW, OWN, SHARED = "new", "own", "shared"  # what ``mark`` found


class Sums(Protocol):
    """A writer's own sums of its deferred batches (``rollup.MinuteSums``)."""

    def requests(self) -> int: ...

    def write(self, conn: sqlite3.Connection, source: str) -> None: ...


_SUMS = (
    "count(*), sum(input), sum(output), sum(cache_read), sum(cache_write), total(cost), "
    "sum(cost IS NULL)"
)
# The minutes from the mark on, summed from the records. {ts} is "+ts_ns" (the whole source
# through the time index, no comparison per entry: a tenth less when the mark covers most of it)
# or "ts_ns" (a range of the time index: a few recent minutes of a long history).
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
_COUNTED = f"SELECT total(reqs) FROM {MINUTES} WHERE source = ? AND minute >= ?"
_KEPT = f"SELECT count(*) FROM {EVENTS} WHERE source = ? AND ts_ns >= ?"
_EXTENT = (
    f"SELECT (SELECT ts_ns FROM {EVENTS} WHERE source = ?1 ORDER BY ts_ns LIMIT 1), "
    f"(SELECT ts_ns FROM {EVENTS} WHERE source = ?1 ORDER BY ts_ns DESC LIMIT 1)"
)


def mark(conn: sqlite3.Connection, source: str, first_ns: int, writer: str = "") -> str:
    """Inside a writer's transaction: ``source``'s rollups from the quarter hour of
    ``first_ns`` on are left to ``finish`` (an earlier mark stays when it is earlier). Returns
    NEW (no mark before: ``writer``'s sums start here), OWN (``writer`` made every deferred
    write since the mark) or SHARED (the mark names no writer now)."""
    minute = first_ns // NS_PER_QUARTER_HOUR * MINUTES_PER_QUARTER
    row = conn.execute(_LOOKUP, (source,)).fetchone()
    if row is None:
        conn.execute(_MARK, (source, minute, writer))
        return NEW if writer else SHARED
    own = bool(writer) and row[1] == writer
    conn.execute(_MARK_AGAIN, (minute, writer if own else "", source))
    return OWN if own else SHARED


def finish(conn: sqlite3.Connection, source: str, own: tuple[str, Sums] | None = None) -> bool:
    """Inside a writer's transaction: bring ``source``'s rollups from its mark on up to its
    records and drop the mark; False (nothing done) when it has none. ``own``: this writer's
    name and its sums of its deferred batches, used when the mark names it."""
    row = conn.execute(_LOOKUP, (source,)).fetchone()
    if row is None:
        return False
    minute = int(row[0])
    from_ns = minute * NS_PER_MINUTE
    if own is not None and row[1] and row[1] == own[0]:
        counted = conn.execute(_COUNTED, (source, minute)).fetchone()[0]
        kept = conn.execute(_KEPT, (source, from_ns)).fetchone()[0]
        if counted + own[1].requests() == kept:  # every request once: the sums are the rest
            own[1].write(conn, source)
            conn.execute(f"DELETE FROM {PENDING} WHERE source = ?", (source,))
            return True
    conn.execute(f"DELETE FROM {MINUTES} WHERE source = ? AND minute >= ?", (source, minute))
    conn.execute(
        f"DELETE FROM {QUARTERS} WHERE source = ? AND quarter >= ?",
        (source, minute // MINUTES_PER_QUARTER),
    )
    first, last = conn.execute(_EXTENT, (source,)).fetchone()
    if first is not None:
        # most of the source's records (a first scan: all of them): the whole source
        wide = (int(last) + 1 - max(from_ns, int(first))) * 4 > int(last) + 1 - int(first)
        ts = "+ts_ns" if wide else "ts_ns"
        conn.execute(_MINUTES_FROM_RECORDS.format(ts=ts), (source, from_ns))
        conn.execute(_QUARTERS_FROM_MINUTES, (source, minute))
    conn.execute(f"DELETE FROM {PENDING} WHERE source = ?", (source,))
    return True


def pending_from_ns(history: HistoryStore, source: str) -> int | None:
    """Where ``source``'s rollups stop being its records summed (its mark, in ns), or None:
    readers take the time from there on from the records."""
    rows = history.execute(f"SELECT minute FROM {PENDING} WHERE source = ?", (source,))
    return int(rows[0][0]) * NS_PER_MINUTE if rows else None  # type: ignore[call-overload]


def forget(conn: sqlite3.Connection, source: str) -> None:
    """Inside the transaction that clears ``source``'s records and rollups: nothing is left to
    sum."""
    conn.execute(f"DELETE FROM {PENDING} WHERE source = ?", (source,))
