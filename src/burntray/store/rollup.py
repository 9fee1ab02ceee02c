"""The record history's rollups per minute and per quarter hour, kept by the writes themselves.

Every write of ``usage_events`` changes ``usage_minutes`` and ``usage_quarters`` in the same
transaction, so a reader (another burntray process, at any time) always finds the three in step.
No trigger does it: a first scan adds 240,000 records, about 200,000 minute groups over its
batches, and a trigger run per minute row (and per record, for the team's queue) cost a third of
the write (issue 22). New records are summed per minute and per quarter hour here, in one pass,
and each group is added with one row of a multi-row upsert; records replaced or removed are
taken off both rollups by SQL over the rows staged for it.
"""

# ruff: noqa: S608 - SQL here names only the schema's constant tables; values are bound

from __future__ import annotations

import os
import sqlite3
from array import array
from collections.abc import Callable, Sequence
from itertools import chain
from typing import Any

from burntray.model.timefmt import NS_PER_MINUTE
from burntray.store import pending
from burntray.store.multirow import insert_rows, insert_values
from burntray.store.schema import (
    EVENTS,
    MINUTES,
    MINUTES_PER_QUARTER,
    QUARTERS,
    TEAM_OUTBOX,
)

OUTBOX = TEAM_OUTBOX.name
_SUMS = ("reqs", "input", "output", "cache_read", "cache_write", "cost", "unpriced")
_ADD = ", ".join(f"{c} = {c} + excluded.{c}" for c in _SUMS)
_MINUTE_KEY = "source, minute, provider, model"
_QUARTER_KEY = "source, quarter, provider, model"
# A group's row after the source (bound once per statement): its minute or quarter, provider,
# model and the seven sums.
_WIDTH = 10
_ONE_SOURCE = "?1, {}"

# A group of the new records' sums is one int: its provider/model's number above its minute
# (minutes since 1970 of any time SQLite's integers hold are below 2**28) or quarter hour.
_MINUTE_BITS = 28
_MINUTE_MASK = (1 << _MINUTE_BITS) - 1

# A machine reporting to a hub (``store.team``) has a cursor: the records it writes are queued.
TEAM_ON = "SELECT 1 FROM team_cursor LIMIT 1"


def _staged(table: str, per: int, key: str) -> str:
    """Adds (:sign +1) or takes (:sign -1) the sums of the rows of table ``{rows}`` (staged
    records, in the events' columns) to the rollup ``table``, grouped per ``per`` ns."""
    return (
        f"INSERT INTO {table} SELECT source, ts_ns / {per}, provider, model, "
        ":sign * count(*), :sign * sum(input), :sign * sum(output), :sign * sum(cache_read), "
        ":sign * sum(cache_write), :sign * total(cost), :sign * sum(cost IS NULL) "
        "FROM {rows} WHERE true GROUP BY 1, 2, 3, 4 "  # WHERE: an upsert after a SELECT needs one
        f"ON CONFLICT ({key}) DO UPDATE SET {_ADD}"
    )


_STAGED = (
    _staged(MINUTES, NS_PER_MINUTE, _MINUTE_KEY),
    _staged(QUARTERS, NS_PER_MINUTE * MINUTES_PER_QUARTER, _QUARTER_KEY),
)


def add_staged(conn: sqlite3.Connection, rows: str, sign: int) -> None:
    """Add (``sign`` 1) or take off (-1) the records in table ``rows`` to both rollups; after
    taking off, ``drop_empty`` removes the groups left without a request."""
    for sql in _STAGED:
        conn.execute(sql.replace("{rows}", rows), {"sign": sign})


def drop_empty(conn: sqlite3.Connection) -> None:
    conn.execute(f"DELETE FROM {MINUTES} WHERE reqs = 0")
    conn.execute(f"DELETE FROM {QUARTERS} WHERE reqs = 0")


def add_new(conn: sqlite3.Connection, source: str, values: Sequence[Any], width: int) -> None:
    """Add records none of which was stored before to both rollups. ``values``: the records'
    fields in their own order (``UsageRecord``'s: ts_ns, provider, model, the four token
    counts, cost, ...), ``width`` per record."""
    sums = MinuteSums()
    sums.add(values, width)
    sums.write(conn, source)


class MinuteSums:
    """New records summed per minute and provider/model (``add``, batch after batch), then
    per quarter hour and added to both rollups with one upsert row per group (``write``).

    Each group's sums are in the order of its records (as SQLite sums them). A group is an int
    (its provider/model's number above the minute) and its sums sit in lists, not in a tuple
    and a list of its own: 15,000 groups a batch would keep the cyclic collector busy."""

    def __init__(self, compact: bool = False) -> None:
        self.pairs: dict[tuple[str, str], int] = {}  # (provider, model) -> number << _MINUTE_BITS
        self.index: dict[int, int] = {}  # group -> its place in the lists
        # ``compact``: C arrays, not lists of int objects, for sums kept until a long read's
        # end (a week's 30,000 groups: 9 MB as lists); they take 64-bit ints and floats only
        ints: Callable[[], Any] = (lambda: array("q")) if compact else list
        floats: Callable[[], Any] = (lambda: array("d")) if compact else list
        self.minute_of: list[int] = ints()
        self.pair_of: list[int] = ints()
        self.sums: tuple[list[Any], ...] = (  # reqs ... unpriced
            *(ints() for _ in range(5)),
            floats(),
            ints(),
        )

    def add(self, values: Sequence[Any], width: int) -> None:
        """Add records (``values``, ``width`` per record, as ``add_new`` takes them)."""
        pairs, index, minute_of, pair_of = self.pairs, self.index, self.minute_of, self.pair_of
        reqs, inp, out, cread, cwrite, cost, unpriced = self.sums
        columns = (values[k::width] for k in range(8))  # ts_ns, provider, model ... cost
        for ts, provider, model, i, o, r, w, c in zip(*columns, strict=True):
            pair = pairs.get((provider, model))
            if pair is None:
                pair = pairs[provider, model] = len(pairs) << _MINUTE_BITS
            minute = ts // NS_PER_MINUTE
            at = index.get(pair | minute)
            if at is None:  # most groups of a long read hold one or two records
                index[pair | minute] = len(reqs)
                minute_of.append(minute)
                pair_of.append(pair)
                reqs.append(1)
                inp.append(i)
                out.append(o)
                cread.append(r)
                cwrite.append(w)
                if c is None:  # ints, not a bool: sqlite3 binds a bool through its adapters
                    cost.append(0.0)
                    unpriced.append(1)
                else:
                    cost.append(c)
                    unpriced.append(0)
            else:
                reqs[at] += 1
                inp[at] += i
                out[at] += o
                cread[at] += r
                cwrite[at] += w
                if c is None:
                    unpriced[at] += 1
                else:
                    cost[at] += c

    def requests(self) -> int:
        return sum(self.sums[0])

    def write(self, conn: sqlite3.Connection, source: str) -> None:
        """Add the sums to both rollups."""
        names = list(self.pairs)
        sums = self.sums
        minute_of, pair_of = self.minute_of, self.pair_of
        provider_of = [names[p >> _MINUTE_BITS][0] for p in pair_of]
        model_of = [names[p >> _MINUTE_BITS][1] for p in pair_of]
        minute_rows = chain.from_iterable(zip(minute_of, provider_of, model_of, *sums, strict=True))
        _upsert(conn, MINUTES, _MINUTE_KEY, source, list(minute_rows))
        # the minutes' sums per quarter hour (fewer groups: a list each)
        quarters: dict[int, list[Any]] = {}
        for minute, pair, n, i, o, r, w, c, u in zip(minute_of, pair_of, *sums, strict=True):
            key = pair | minute // MINUTES_PER_QUARTER
            q = quarters.get(key)
            if q is None:
                quarters[key] = [n, i, o, r, w, c, u]
            else:
                q[0] += n
                q[1] += i
                q[2] += o
                q[3] += r
                q[4] += w
                q[5] += c
                q[6] += u
        quarter_rows = [
            value
            for key, acc in quarters.items()
            for value in (key & _MINUTE_MASK, *names[key >> _MINUTE_BITS], *acc)
        ]
        _upsert(conn, QUARTERS, _QUARTER_KEY, source, quarter_rows)


class OwnSums:
    """A writer's sums of its deferred batches, per source, while a pending mark names it
    (``store.pending``: its rollups then need no GROUP BY over the records at the end)."""

    def __init__(self) -> None:
        self._own: dict[str, tuple[str, MinuteSums]] = {}

    def writer(self, source: str) -> str:
        """The name this writer marks ``source`` with (a new one when it has no sums)."""
        own = self._own.get(source)
        return own[0] if own else os.urandom(8).hex()

    def add(self, source: str, writer: str, found: str, values: Sequence[Any], width: int) -> None:
        """After a deferred batch was committed (``found``: what ``pending.mark`` said)."""
        if found == pending.NEW:
            self._own[source] = (writer, MinuteSums(compact=True))
        elif found != pending.OWN:
            self._own.pop(source, None)
            return
        try:
            self._own[source][1].add(values, width)
        except (TypeError, OverflowError):  # not a 64-bit int: the end sums them in SQL
            self._own.pop(source, None)

    def drop(self, source: str) -> None:
        self._own.pop(source, None)

    def finish(self, conn: sqlite3.Connection, source: str) -> bool:
        """Inside a transaction: ``pending.finish`` with this writer's sums when it has them
        (forgotten first: should the transaction fail, the rollups are summed in SQL later)."""
        own = self._own.pop(source, None)
        if own is None:
            return pending.finish(conn, source)
        return pending.finish(conn, source, own)


def _upsert(conn: sqlite3.Connection, table: str, key: str, source: str, values: list[Any]) -> None:
    insert_values(
        conn,
        f"INSERT INTO {table}",
        _WIDTH,
        values,
        tail=f" ON CONFLICT ({key}) DO UPDATE SET {_ADD}",
        shared=(source,),
        select=_ONE_SOURCE,
    )


def queue_new(conn: sqlite3.Connection, source: str, keys: Sequence[str]) -> None:
    """Queue this machine's records just written for the team's hub, in order, when this
    machine reports to one (``store.team``: one lookup per transaction, not per record)."""
    if keys and conn.execute(TEAM_ON).fetchone():
        insert_values(
            conn,
            f"INSERT INTO {OUTBOX} (source, key)",
            1,
            keys,
            shared=(source,),
            select=_ONE_SOURCE,
        )


def queue_staged(conn: sqlite3.Connection, rows: str) -> None:
    """Queue the records of table ``rows`` (just written) that are this machine's own."""
    conn.execute(
        f"INSERT INTO {OUTBOX} (source, key) SELECT source, key FROM {rows} "
        f"WHERE host = '' AND EXISTS ({TEAM_ON}) ORDER BY rowid"
    )


def write_changed(
    conn: sqlite3.Connection, columns: str, rows: list[tuple[object, ...]], defer: bool
) -> int:
    """The general write of records (``columns``, all 16 of ``rows``' values): keys repeated
    in the batch (the last wins), records stored before, unchanged (nothing to do) or changed
    (replaced, and the rollups with them; ``defer``: the rollups are left to
    ``pending.finish``, the source marked from the first minute written or replaced)."""
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS incoming AS SELECT * FROM {EVENTS} WHERE 0")
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS replaced AS SELECT * FROM {EVENTS} WHERE 0")
    conn.execute("DELETE FROM temp.incoming")
    conn.execute("DELETE FROM temp.replaced")
    # within one batch the last record of a key wins
    insert_rows(conn, f"INSERT INTO temp.incoming ({columns})", 16, rows)
    conn.execute(
        "DELETE FROM temp.incoming WHERE rowid NOT IN "
        "(SELECT max(rowid) FROM temp.incoming GROUP BY source, key)"
    )
    # unchanged records: nothing to do
    conn.execute(
        f"DELETE FROM temp.incoming WHERE EXISTS (SELECT 1 FROM {EVENTS} e WHERE "
        "e.source = incoming.source AND e.key = incoming.key AND "
        "e.ts_ns = incoming.ts_ns AND e.provider = incoming.provider AND "
        "e.model = incoming.model AND e.input = incoming.input AND "
        "e.output = incoming.output AND e.cache_read = incoming.cache_read AND "
        "e.cache_write = incoming.cache_write AND e.cost IS incoming.cost AND "
        "e.session = incoming.session AND e.project = incoming.project AND "
        "e.upstream_cost = incoming.upstream_cost AND e.branch = incoming.branch AND "
        "e.host = incoming.host AND e.user = incoming.user)"
    )
    written = conn.execute("SELECT count(*) FROM temp.incoming").fetchone()[0]
    if written:
        conn.execute(
            f"INSERT INTO temp.replaced SELECT e.* FROM {EVENTS} e JOIN temp.incoming i "
            "ON e.source = i.source AND e.key = i.key"
        )
        if defer:  # one source per batch: every minute written or replaced is summed later
            first = conn.execute(
                "SELECT source, min(ts_ns) FROM (SELECT source, ts_ns FROM temp.incoming "
                "UNION ALL SELECT source, ts_ns FROM temp.replaced) GROUP BY source"
            ).fetchall()
            for source, first_ns in first:
                pending.mark(conn, source, first_ns)
        else:
            add_staged(conn, "temp.replaced", -1)
        conn.execute(
            f"DELETE FROM {EVENTS} WHERE (source, key) IN (SELECT source, key FROM temp.replaced)"
        )
        conn.execute(f"INSERT INTO {EVENTS} SELECT {columns} FROM temp.incoming")
        queue_staged(conn, "temp.incoming")
        if not defer:
            add_staged(conn, "temp.incoming", 1)
            drop_empty(conn)
    conn.execute("DELETE FROM temp.incoming")
    conn.execute("DELETE FROM temp.replaced")
    return int(written)
