"""Per-request usage records of every record-yielding source, in burntray's history database.

One table for all such sources, keyed by ``(source, key)`` where ``key`` identifies the request
within its source. Ingest is idempotent: a record seen again with the same values changes
nothing, one seen again with other values (a streamed message whose last write is larger)
replaces the stored one, so nothing is ever counted twice.

Window queries are exact and fast whatever their length: whole quarter hours and minutes come
from rollups kept in step at ingest, the partial minutes at the edges from the records.
"""

# ruff: noqa: S608 - SQL here names only this module's constant tables; values are bound

from __future__ import annotations

import operator
import sqlite3
from collections.abc import Iterable
from itertools import chain
from typing import Any

from burntray.model.snapshot import Totals, UsageRow
from burntray.model.timefmt import NS_PER_MINUTE
from burntray.model.usage import ModelUsage, UsageRecord, summarise_usage
from burntray.store import pending, rollup
from burntray.store.history import SET_META, HistoryStore
from burntray.store.multirow import insert_values
from burntray.store.schema import (
    EVENTS,
    MINUTES,
    MINUTES_PER_QUARTER,
    QUARTERS,
    USAGE_EVENTS,
)

_COLUMNS = (
    "source, key, ts_ns, provider, model, input, output, cache_read, cache_write, cost, "
    "session, project, upstream_cost, branch, host, user"
)
# The columns of a record's fields in their own order (``UsageRecord``'s): new records go in as
# they are (a tuple per record to reorder them cost ~3.5 ms of CPU per 20,000)
_RECORD_COLUMNS = (
    "source, ts_ns, provider, model, input, output, cache_read, cache_write, cost, key, "
    "session, project, upstream_cost, branch, host, user"
)
_WIDTH = 13
_TS, _COST, _KEY, _UPSTREAM = 0, 7, 8, 11  # places among a record's fields
# A record's fields in ``_COLUMNS``' order after ``source``, for the general write
_IN_TABLE_ORDER = operator.itemgetter(8, 0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12)
# An unpriced record's cost as bound: SQLite stores a bound NaN as NULL, as a None; sqlite3
# binds a float at once but looks a None up in its adapters first (~3,300 instructions a value,
# formatting an AttributeError: 1 % of a first scan of 20,000 records, half unpriced)
_UNPRICED = float("nan")
_INSERT_NEW = f"INSERT OR IGNORE INTO {EVENTS} ({_RECORD_COLUMNS})"  # a stored key: passed over
# source, host and user are bound once per statement (?1-?3), each record's fields between them
_NEW_ROW = "?1, {}, ?2, ?3"


class _NotAllNew(Exception):
    """A batch taken for new records holds one stored already: its transaction is undone."""


def _negated(g: ModelUsage) -> ModelUsage:
    return ModelUsage(
        g.provider,
        g.model,
        -g.reqs,
        -g.input_tokens,
        -g.output_tokens,
        -g.cache_read_tokens,
        -g.cache_write_tokens,
        -g.cost_usd,
        -g.unpriced_reqs,
    )


class UsageEvents:
    """Record history for all sources; thread safety and transactions come from HistoryStore."""

    def __init__(self, history: HistoryStore) -> None:
        self.history = history  # the store built these tables at open (``store.schema``)
        self._own = rollup.OwnSums()  # of a long read's batches (``store.pending``)

    # --- writing --------------------------------------------------------------------------
    def ingest(
        self,
        source: str,
        records: Iterable[UsageRecord],
        meta: tuple[str, str] | None = None,
        origin: tuple[str, str] = ("", ""),
        *,
        defer_rollup: bool = False,
    ) -> int:
        """Store records not seen before, replace changed ones; returns how many were written.

        ``meta`` (key, value) is written in the same transaction: a source's resume state is
        kept exactly when the records it covers are. ``origin``: the (host, user) the records
        came from, on a hub ("" for this machine's own). ``defer_rollup``: a long read's
        batch, whose rollups are summed at the read's end (``store.pending``); otherwise
        rollups a long read left pending are summed first.
        """
        # the records' fields, in their own order, in one flat list made in C (a first scan
        # makes 240,000 records: a tuple each kept the cyclic collector busy)
        values: list[Any] = list(chain.from_iterable(records))
        # upstream_cost as an int: sqlite3 looks a bool up in its adapters (and fails to find
        # one) for every record, a tenth of a first scan's write
        values[_UPSTREAM::_WIDTH] = list(map(int, values[_UPSTREAM::_WIDTH]))
        if values and min(values[_TS::_WIDTH]) < 0:  # before 1970: not kept
            each = zip(*[iter(values)] * _WIDTH, strict=True)
            values = list(chain.from_iterable(row for row in each if row[_TS] >= 0))
        keys = values[_KEY::_WIDTH]
        if not keys and meta is None:
            return 0
        if keys and len(set(keys)) == len(keys):
            # only new requests (the common case); one stored already: undone, the general path
            writer = self._own.writer(source)
            try:
                with self.history.transaction() as conn:
                    if meta is not None:
                        conn.execute(SET_META, meta)
                    if defer_rollup:
                        found = pending.mark(conn, source, min(values[_TS::_WIDTH]), writer)
                    else:
                        self._own.finish(conn, source)
                    written = self._insert_new(
                        conn, source, origin, values, keys, defer_rollup=defer_rollup
                    )
            except _NotAllNew:
                pass
            else:
                if defer_rollup:  # committed: this writer's sums go on, start or stop here
                    self._own.add(source, writer, found, values, _WIDTH)
                return written
        if defer_rollup:  # the general write marks the source for all writers
            self._own.drop(source)
        with self.history.transaction() as conn:
            if meta is not None:
                conn.execute(SET_META, meta)
            if not defer_rollup:
                self._own.finish(conn, source)
            if not keys:
                return 0
            each = zip(*[iter(values)] * _WIDTH, strict=True)
            rows = [(source, *_IN_TABLE_ORDER(row), *origin) for row in each]
            return rollup.write_changed(conn, _COLUMNS, rows, defer_rollup)

    @staticmethod
    def _insert_new(
        conn: sqlite3.Connection,
        source: str,
        origin: tuple[str, str],
        values: list[Any],
        keys: list[str],
        *,
        defer_rollup: bool,
    ) -> int:
        """Records none of which is stored: inserted as they are, their sums added to both
        rollups (``rollup.add_new``; left to ``pending.finish`` with ``defer_rollup``), queued
        for the team's hub if this machine reports to one; ``_NotAllNew`` when a key is stored
        already. No savepoint, and the records go in by
        statements that cannot abort half done: either makes SQLite copy every page it changes
        to a statement journal (a first scan's 240,000 records: 2.4 million temp-file writes,
        half the write). The rollups' multi-row upserts can (a NOT NULL check of their update),
        so they keep one, of the few pages a chunk of groups changes: a journal in memory
        instead (``temp_store``) saved nothing measurable."""
        inserted: list[int] = []
        shared = (source, *origin)
        bound = values
        costs = values[_COST::_WIDTH]
        if None in costs:  # the rollups below tell unpriced records by None: a copy is bound
            bound = values.copy()
            bound[_COST::_WIDTH] = [_UNPRICED if c is None else c for c in costs]
        insert_values(conn, _INSERT_NEW, _WIDTH, bound, inserted, shared=shared, select=_NEW_ROW)
        if inserted[0] != len(keys):
            raise _NotAllNew
        if not defer_rollup:
            rollup.add_new(conn, source, values, _WIDTH)
        if not origin[0]:  # a hub's records from other machines are not sent on
            rollup.queue_new(conn, source, keys)
        return len(keys)

    def clear(self, source: str) -> int:
        with self.history.transaction() as conn:
            removed = conn.execute(f"DELETE FROM {EVENTS} WHERE source = ?", (source,)).rowcount
            conn.execute(f"DELETE FROM {MINUTES} WHERE source = ?", (source,))
            conn.execute(f"DELETE FROM {QUARTERS} WHERE source = ?", (source,))
            pending.forget(conn, source)
        return int(removed)

    def finish_rollup(self, source: str) -> bool:
        """Sum the rollups a long read left to its end (``store.pending``); False: none."""
        with self.history.transaction() as conn:
            return self._own.finish(conn, source)

    def prune(self, before_ns: int) -> int:
        """Drop records (and whole rollup minutes) older than ``before_ns``."""
        with self.history.transaction() as conn:
            return USAGE_EVENTS.prune(conn, before_ns, 0) if USAGE_EVENTS.prune else 0

    # --- reading --------------------------------------------------------------------------
    def _raw(self, source: str, start_ns: int, end_ns: int) -> list[ModelUsage]:
        if end_ns <= start_ns:
            return []
        rows = self.history.execute(
            "SELECT provider, model, count(*), sum(input), sum(output), sum(cache_read), "
            f"sum(cache_write), total(cost), sum(cost IS NULL) FROM {EVENTS} "
            "WHERE source = ? AND ts_ns >= ? AND ts_ns < ? GROUP BY provider, model",
            (source, start_ns, end_ns),
        )
        return [ModelUsage(*r) for r in rows]  # type: ignore[arg-type]

    def _minutes(self, source: str, first: int, end: int) -> list[ModelUsage]:
        if end <= first:
            return []
        rows = self.history.execute(
            "SELECT provider, model, sum(reqs), sum(input), sum(output), sum(cache_read), "
            f"sum(cache_write), total(cost), sum(unpriced) FROM {MINUTES} "
            "WHERE source = ? AND minute >= ? AND minute < ? GROUP BY provider, model",
            (source, first, end),
        )
        return [ModelUsage(*r) for r in rows]  # type: ignore[arg-type]

    def first_at(self, source: str, start_ns: int, end_ns: int) -> int | None:
        """The first record time in ``[start, end)`` (one index seek), or None."""
        where = "WHERE source = ? AND ts_ns >= ? AND ts_ns < ? ORDER BY ts_ns LIMIT 1"
        rows = self.history.execute(
            f"SELECT ts_ns FROM {EVENTS} {where}", (source, start_ns, end_ns)
        )
        return int(rows[0][0]) if rows else None  # type: ignore[call-overload]

    def extent(self, source: str, start_ns: int, end_ns: int) -> tuple[int, int] | None:
        """The first and last record times in ``[start, end)`` (two index seeks, one
        statement), or None when there is none."""
        where = f"FROM {EVENTS} WHERE source = ? AND ts_ns >= ? AND ts_ns < ? ORDER BY ts_ns"
        row = self.history.execute(
            f"SELECT (SELECT ts_ns {where} LIMIT 1), (SELECT ts_ns {where} DESC LIMIT 1)",
            (source, start_ns, end_ns, source, start_ns, end_ns),
        )[0]
        if row[0] is None or row[1] is None:
            return None
        return int(row[0]), int(row[1])  # type: ignore[call-overload]

    def _part_of_minute(self, source: str, lo_ns: int, hi_ns: int) -> list[ModelUsage]:
        """Usage for ``lo <= ts < hi`` inside one minute, reading the fewer raw records.

        Which side holds fewer records is judged on the span the minute's records really
        cover (first to last): the current minute of a window ending now has no records after
        now, so it is its rollup less nothing, not a scan of everything that arrived this
        minute (20,000 records a second from a busy OTLP sender). Otherwise, over half of
        that span, the minute's rollup less the records outside ``[lo, hi)`` is read instead.
        """
        if hi_ns <= lo_ns:
            return []
        minute = lo_ns // NS_PER_MINUTE
        start, end = minute * NS_PER_MINUTE, (minute + 1) * NS_PER_MINUTE
        extent = self.extent(source, start, end)
        if extent is None:
            return []
        first, last = extent
        inside = max(0, min(hi_ns, last + 1) - max(lo_ns, first))
        if inside <= (last + 1 - first) - inside:
            return self._raw(source, lo_ns, hi_ns)
        outside = [*self._raw(source, start, lo_ns), *self._raw(source, hi_ns, end)]
        return [*self._minutes(source, minute, minute + 1), *map(_negated, outside)]

    def rows(self, source: str, start_ns: int, end_ns: int) -> list[ModelUsage]:
        """Exact usage per provider/model for ``start <= ts < end`` (groups may repeat, and may
        be negative where a part of a minute is its rollup less the rest: they add up). The
        time from a long read's pending mark on comes from the records (``store.pending``)."""
        cut = pending.pending_from_ns(self.history, source)
        if cut is not None and end_ns > cut:
            head = self._rolled(source, start_ns, cut) if start_ns < cut else []
            return [*head, *self._raw(source, max(start_ns, cut), end_ns)]
        return self._rolled(source, start_ns, end_ns)

    def _rolled(self, source: str, start_ns: int, end_ns: int) -> list[ModelUsage]:
        first = -(-start_ns // NS_PER_MINUTE)
        end = end_ns // NS_PER_MINUTE
        if end <= first:  # no whole minute inside: one or two parts of minutes
            boundary = min(max(first * NS_PER_MINUTE, start_ns), end_ns)
            return [
                *self._part_of_minute(source, start_ns, boundary),
                *self._part_of_minute(source, boundary, end_ns),
            ]
        return [
            *self._part_of_minute(source, start_ns, first * NS_PER_MINUTE),
            *self._whole_minutes(source, first, end),
            *self._part_of_minute(source, end * NS_PER_MINUTE, end_ns),
        ]

    def _whole_minutes(self, source: str, first: int, end: int) -> list[ModelUsage]:
        """Minutes ``[first, end)``: whole quarter hours from the quarter rollup, the minutes at
        either side from the minute rollup (a week: 672 quarters, not 10,080 minutes)."""
        per = MINUTES_PER_QUARTER
        first_quarter, end_quarter = -(-first // per), end // per
        if end_quarter <= first_quarter:
            return self._minutes(source, first, end)
        rows = self.history.execute(
            "SELECT provider, model, sum(reqs), sum(input), sum(output), sum(cache_read), "
            f"sum(cache_write), total(cost), sum(unpriced) FROM {QUARTERS} "
            "WHERE source = ? AND quarter >= ? AND quarter < ? GROUP BY provider, model",
            (source, first_quarter, end_quarter),
        )
        return [
            *self._minutes(source, first, first_quarter * per),
            *(ModelUsage(*r) for r in rows),  # type: ignore[arg-type]
            *self._minutes(source, end_quarter * per, end),
        ]

    def summarise(
        self, source: str, start_ns: int, end_ns: int, window_ns: int, without: Iterable[str] = ()
    ) -> tuple[Totals, tuple[UsageRow, ...]]:
        """The window's figures; ``without``: less the records whose keys start with those
        prefixes (one upstream's share of a source that reports several)."""
        groups = self.rows(source, start_ns, end_ns)
        for prefix in without:
            groups += map(_negated, self.prefix_rows(source, prefix, start_ns, end_ns))
        return summarise_usage(groups, window_ns)

    def prefix_rows(self, source: str, prefix: str, start_ns: int, end_ns: int) -> list[ModelUsage]:
        """Usage per provider/model of the records in ``[start, end)`` whose key starts with
        ``prefix`` (a range of the primary key: only those records are read)."""
        if end_ns <= start_ns or not prefix:
            return []
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)  # the first key past the prefix
        rows = self.history.execute(
            "SELECT provider, model, count(*), sum(input), sum(output), sum(cache_read), "
            f"sum(cache_write), total(cost), sum(cost IS NULL) FROM {EVENTS} "
            "WHERE source = ? AND key >= ? AND key < ? AND ts_ns >= ? AND ts_ns < ? "
            "GROUP BY provider, model",
            (source, prefix, upper, start_ns, end_ns),
        )
        return [ModelUsage(*r) for r in rows]  # type: ignore[arg-type]

    def minute_series(
        self, source: str, start_ns: int, end_ns: int
    ) -> list[tuple[int, str, str, int, int, float, int]]:
        """Per-minute ``(minute, provider, model, reqs, tokens, cost, unpriced reqs)`` rows for
        charts (whole minutes; from a long read's pending mark on, summed from the records)."""
        first, end = start_ns // NS_PER_MINUTE, -(-end_ns // NS_PER_MINUTE)
        cut = pending.pending_from_ns(self.history, source)
        rolled = end if cut is None else max(first, min(end, cut // NS_PER_MINUTE))
        rows = self.history.execute(
            "SELECT minute, provider, model, reqs, input + output + cache_read + cache_write, "
            f"cost, unpriced FROM {MINUTES} WHERE source = ? AND minute >= ? AND minute < ? "
            "ORDER BY minute",
            (source, first, rolled),
        )
        if rolled < end:
            rows += self.history.execute(
                f"SELECT ts_ns / {NS_PER_MINUTE}, provider, model, count(*), "
                "sum(input + output + cache_read + cache_write), total(cost), sum(cost IS NULL) "
                f"FROM {EVENTS} WHERE source = ? AND ts_ns >= ? AND ts_ns < ? GROUP BY 1, 2, 3 "
                "ORDER BY 1",
                (source, rolled * NS_PER_MINUTE, end * NS_PER_MINUTE),
            )
        return [tuple(r) for r in rows]  # type: ignore[misc]

    def records(self, source: str, start_ns: int, end_ns: int) -> list[UsageRecord]:
        """The records themselves (for per-session and per-day reports)."""
        rows = self.history.execute(
            "SELECT ts_ns, provider, model, input, output, cache_read, cache_write, cost, key, "
            f"session, project, upstream_cost, branch FROM {EVENTS} "
            "WHERE source = ? AND ts_ns >= ? AND ts_ns < ? ORDER BY ts_ns",
            (source, start_ns, end_ns),
        )
        return [
            UsageRecord(
                ts_ns=int(r[0]),  # type: ignore[call-overload]
                provider=str(r[1]),
                model=str(r[2]),
                input_tokens=int(r[3]),  # type: ignore[call-overload]
                output_tokens=int(r[4]),  # type: ignore[call-overload]
                cache_read_tokens=int(r[5]),  # type: ignore[call-overload]
                cache_write_tokens=int(r[6]),  # type: ignore[call-overload]
                cost_usd=None if r[7] is None else float(r[7]),  # type: ignore[arg-type]
                key=str(r[8]),
                session=str(r[9]),
                project=str(r[10]),
                cost_from_upstream=bool(r[11]),
                branch=str(r[12]),
            )
            for r in rows
        ]

    def has_records(self, source: str) -> bool:
        """Whether the source has any record (one index seek; ``count`` reads them all)."""
        rows = self.history.execute(
            f"SELECT EXISTS (SELECT 1 FROM {EVENTS} WHERE source = ?)", (source,)
        )
        return bool(rows[0][0])

    def count(self, source: str) -> int:
        rows = self.history.execute(f"SELECT count(*) FROM {EVENTS} WHERE source = ?", (source,))
        return int(str(rows[0][0]))

    def latest_ns(self, source: str) -> int | None:
        rows = self.history.execute(f"SELECT max(ts_ns) FROM {EVENTS} WHERE source = ?", (source,))
        value = rows[0][0]
        return int(value) if value is not None else None  # type: ignore[call-overload]
