"""Usage grouped for the views (``--by day,model`` ...), summed in SQL over burntray's history.

Periods are summed per quarter hour (UTC) here and put into the user's days, weeks and months
by the caller (``model.periods.PeriodKeys``): every zone's offset is a whole number of quarter
hours, so that is exact in any zone and leaves SQLite a few rows per quarter hour to return.
Time and model groupings read the per-minute rollup (one row per minute and model, however many
requests), with the records themselves only for the partial minutes at a range's edges; the
other dimensions (session, project, branch, a source's upstreams) read the records, through the
``(source, ts_ns)`` index.
"""

# ruff: noqa: S608 - SQL here names only this module's column expressions; values are bound

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import NamedTuple

from burntray.model.timefmt import NS_PER_DAY, NS_PER_MINUTE, NS_PER_QUARTER_HOUR
from burntray.store.history import HistoryStore
from burntray.store.pending import pending_from_ns
from burntray.store.schema import (
    EVENTS,
    MINUTES,
    MINUTES_PER_QUARTER,
    QUARTERS,
)

SLOT_MINUTES = MINUTES_PER_QUARTER
QUARTERS_PER_DAY = NS_PER_DAY // NS_PER_QUARTER_HOUR
# (first quarter, end quarter) -> the zone's offsets over them: [(from quarter, offset in
# quarters), ...], the first from ``first``
Offsets = Callable[[int, int], list[tuple[int, int]]]
_SLOT_NS = NS_PER_QUARTER_HOUR
_ROLLUP_DIMS = frozenset({"model"})  # what the per-minute rollup can be grouped by
_COLUMN = {
    "session": "session",
    "project": "project",
    "branch": "branch",
    "model": "model",
    "host": "host",
    "user": "user",
}
# A per-upstream source's record keys start with "<upstream>:" (``SourceSpec.per_upstream``).
_UPSTREAM = "substr(key, 1, instr(key, ':') - 1)"


class Group(NamedTuple):
    """One group's sums; ``slot`` is the quarter hour (ts_ns // 15 min; 0 when no period is
    grouped), ``values`` the group's value of each other dimension asked for, in order."""

    slot: int
    values: tuple[str, ...]
    reqs: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float
    unpriced_reqs: int
    last_ns: int  # 0 from the rollup (which keeps no times finer than a minute)
    project: str  # of the group's newest request ("" from the rollup)
    models: str  # its models, comma-separated
    day: int | None = None  # the local day (days since 1970-01-01 there), where known


def grouped(
    history: HistoryStore,
    source: str,
    start_ns: int,
    end_ns: int,
    dims: tuple[str, ...],
    *,
    by_period: bool,
    without: tuple[str, ...] = (),
    upstream_tool: bool = False,
    offsets: Offsets | None = None,
) -> list[Group]:
    """``source``'s usage in ``[start, end)`` per period (``by_period``) and per value of each
    of ``dims`` (session, project, branch, model, tool). A group's period is its local day
    (``Group.day``) where ``offsets`` gives the zone's offsets, else its quarter hour
    (``Group.slot``). ``without``: less the records whose keys start with those prefixes
    (upstreams another source counts). ``upstream_tool``: the tool of each record is
    ``source/upstream`` from its key, else the source itself."""
    if end_ns <= start_ns:
        return []
    ask = _Ask(history, source, dims, by_period)
    tool_in_sql = "tool" in dims and upstream_tool
    if without or tool_in_sql or not set(dims) - {"tool"} <= _ROLLUP_DIMS:
        wide = _covers_most(history, source, start_ns, end_ns)
        return ask.records(start_ns, end_ns, without, tool_in_sql=tool_in_sql, scan=wide)
    cut = pending_from_ns(history, source)  # a long read's rollups not summed yet: its records
    if cut is not None and end_ns > cut:
        tail = ask.records(
            max(start_ns, cut), end_ns, scan=_covers_most(history, source, cut, end_ns)
        )
        if start_ns >= cut:
            return tail
        return [*_rolled(ask, start_ns, cut, offsets if by_period else None), *tail]
    return _rolled(ask, start_ns, end_ns, offsets if by_period else None)


def _rolled(ask: _Ask, start_ns: int, end_ns: int, offsets: Offsets | None) -> list[Group]:
    """``[start, end)`` from the rollups: whole quarter hours, whole minutes at the edges,
    the records for the partial minutes."""
    first = -(-start_ns // _SLOT_NS)  # the whole quarter hours inside the range
    end = end_ns // _SLOT_NS
    if end <= first:
        return _minutes(ask, start_ns, end_ns)
    return [
        *_minutes(ask, start_ns, first * _SLOT_NS),
        *ask.quarters(first, end, offsets),
        *_minutes(ask, end * _SLOT_NS, end_ns),
    ]


def _covers_most(history: HistoryStore, source: str, start_ns: int, end_ns: int) -> bool:
    """Whether reading the whole records table in the order written is cheaper than finding
    each of the source's records in ``[start, end)`` through the time index.

    A record found through an index is a B-tree search of its own, in no useful order (the
    table keeps records as written, not by time): 750,000 of a 1,000,000-row table took 2.7
    times a scan of all of it. So a scan pays when the records wanted, estimated from the
    source's share of the table and of its time span, are over a fifth of the table. Two index
    seeks and two counts over the time index's pages (~25 ms at a million records), asked only
    on this path: the views over most of the history, never a window's rollups."""
    where = f"FROM {EVENTS} WHERE source = ? ORDER BY ts_ns"
    first, last = history.execute(
        f"SELECT (SELECT ts_ns {where} LIMIT 1), (SELECT ts_ns {where} DESC LIMIT 1)",
        (source, source),
    )[0]
    if first is None or last is None:
        return False
    span = int(last) - int(first) + 1  # type: ignore[call-overload]
    inside = min(end_ns, int(last) + 1) - max(start_ns, int(first))  # type: ignore[call-overload]
    if inside * 5 <= span:  # a fifth of the table at most, since the source holds no more of it
        return False
    mine, total = history.execute(
        f"SELECT (SELECT count(*) FROM {EVENTS} WHERE source = ?), (SELECT count(*) FROM {EVENTS})",
        (source,),
    )[0]
    return bool(int(mine) * inside * 5 > int(total) * span)  # type: ignore[call-overload]


def _minutes(ask: _Ask, start_ns: int, end_ns: int) -> list[Group]:
    """A range's whole minutes from the per-minute rollup, its partial minutes from records."""
    if end_ns <= start_ns:
        return []
    first = -(-start_ns // NS_PER_MINUTE)
    end = end_ns // NS_PER_MINUTE
    if end <= first:
        return ask.records(start_ns, end_ns)
    return [
        *ask.records(start_ns, first * NS_PER_MINUTE),
        *ask.rollup(first, end),
        *ask.records(end * NS_PER_MINUTE, end_ns),
    ]


def local_day_sql(column: str, offsets: list[tuple[int, int]], per_day: int) -> str:
    """SQL for the local day number (days since 1970-01-01 there) of ``column``, a count of
    units since the epoch (``per_day`` of them a day), from the zone's offsets
    ``[(from unit, offset in units), ...]`` (our own integers, never user text)."""
    if len(offsets) == 1:
        shift = str(offsets[0][1])
    else:
        cases = " ".join(
            f"WHEN {column} < {u} THEN {o}" for (_, o), (u, _) in itertools.pairwise(offsets)
        )
        shift = f"CASE {cases} ELSE {offsets[-1][1]} END"
    return f"(({column} + {shift}) / {per_day})"


class _Ask(NamedTuple):
    history: HistoryStore
    source: str
    dims: tuple[str, ...]
    by_period: bool

    def select(self, slot: str, tool: str | None) -> tuple[str, str]:
        """The SELECT list's grouping columns (the slot, then each dimension; ``tool`` as
        ``tool`` when it is computed in SQL, else '' for the caller to fill in) and GROUP BY."""
        cols = [slot if self.by_period else "0"]
        cols += [(tool or "''") if dim == "tool" else _COLUMN[dim] for dim in self.dims]
        return ", ".join(cols), ", ".join(str(i + 1) for i in range(len(cols)))

    def quarters(self, first: int, end: int, offsets: Offsets | None) -> list[Group]:
        """Quarter hours ``[first, end)`` from their rollup; per local day with ``offsets``."""
        day = "0"
        if offsets is not None:
            extent = self.history.execute(
                f"SELECT min(quarter), max(quarter) FROM {QUARTERS} "
                "WHERE source = ? AND quarter >= ? AND quarter < ?",
                (self.source, first, end),
            )[0]
            if extent[0] is None:
                return []
            zone = offsets(int(extent[0]), int(extent[1]) + 1)  # type: ignore[call-overload]
            day = local_day_sql("quarter", zone, QUARTERS_PER_DAY)
        cols, keys = self.select("0", None)
        cols = f"{cols}, {day}"
        keys = f"{keys}, {len(self.dims) + 2}"
        rows = self.history.execute(
            f"SELECT {cols}, sum(reqs), sum(input), sum(output), sum(cache_read), "
            f"sum(cache_write), total(cost), sum(unpriced), 0, '', group_concat(DISTINCT model) "
            f"FROM {QUARTERS} WHERE source = ? AND quarter >= ? AND quarter < ? GROUP BY {keys}",
            (self.source, first, end),
        )
        return [
            _group(
                (*r[: len(self.dims) + 1], *r[len(self.dims) + 2 :]), self.dims, self.source
            )._replace(day=int(r[len(self.dims) + 1]) if offsets is not None else None)  # type: ignore[call-overload]
            for r in rows
        ]

    def rollup(self, first_minute: int, end_minute: int) -> list[Group]:
        cols, keys = self.select(f"minute / {SLOT_MINUTES}", None)
        rows = self.history.execute(
            f"SELECT {cols}, sum(reqs), sum(input), sum(output), sum(cache_read), "
            f"sum(cache_write), total(cost), sum(unpriced), 0, '', group_concat(DISTINCT model) "
            f"FROM {MINUTES} WHERE source = ? AND minute >= ? AND minute < ? GROUP BY {keys}",
            (self.source, first_minute, end_minute),
        )
        return [_group(row, self.dims, self.source) for row in rows]

    def records(
        self,
        start_ns: int,
        end_ns: int,
        without: tuple[str, ...] = (),
        *,
        tool_in_sql: bool = False,
        scan: bool = False,
    ) -> list[Group]:
        """The records' sums; ``scan``: read the whole table in the order written, not through
        an index (faster when the range holds most of it: no B-tree search per record)."""
        if end_ns <= start_ns:
            return []
        cols, keys = self.select(
            f"ts_ns / {_SLOT_NS}", f"? || '/' || {_UPSTREAM}" if tool_in_sql else None
        )
        params: list[object] = [self.source] if tool_in_sql else []
        params += [self.source, start_ns, end_ns]
        # "+" keeps SQLite off both indexes (by time, by key): either would cost a search of
        # the table per record
        ts, src = ("+ts_ns", "+source") if scan else ("ts_ns", "source")
        where = f"{src} = ? AND {ts} >= ? AND {ts} < ?"
        for prefix in without:
            where += " AND NOT (key >= ? AND key < ?)"
            params += [prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)]  # the prefix's key range
        # project: a bare column beside max() is taken from the row holding the max (SQLite)
        rows = self.history.execute(
            f"SELECT {cols}, count(*), sum(input), sum(output), sum(cache_read), "
            "sum(cache_write), total(cost), sum(cost IS NULL), max(ts_ns), project, "
            f"group_concat(DISTINCT model) FROM {EVENTS} WHERE {where} GROUP BY {keys}",
            params,
        )
        return [_group(row, self.dims, self.source) for row in rows]


def _group(row: tuple[object, ...], dims: tuple[str, ...], source: str) -> Group:
    n = len(dims)
    values = tuple(
        str(v or "") if dim != "tool" or v else source
        for dim, v in zip(dims, row[1 : 1 + n], strict=True)
    )
    rest = row[1 + n :]
    return Group(
        int(row[0]),  # type: ignore[call-overload]
        values,
        int(rest[0]),  # type: ignore[call-overload]
        int(rest[1]),  # type: ignore[call-overload]
        int(rest[2]),  # type: ignore[call-overload]
        int(rest[3]),  # type: ignore[call-overload]
        int(rest[4]),  # type: ignore[call-overload]
        float(rest[5]),  # type: ignore[arg-type]
        int(rest[6]),  # type: ignore[call-overload]
        int(rest[7]),  # type: ignore[call-overload]
        str(rest[8] or ""),
        str(rest[9] or ""),
    )


def record_sources(history: HistoryStore) -> list[str]:
    """The sources with records in the history, each found by one index seek (not a scan)."""
    found: list[str] = []
    after = ""
    while True:
        row = history.execute(f"SELECT min(source) FROM {EVENTS} WHERE source > ?", (after,))
        if not row or row[0][0] is None:
            return found
        after = str(row[0][0])
        found.append(after)


def oldest_ns(history: HistoryStore, source: str) -> int | None:
    """The oldest record the history keeps of ``source`` (one index seek), or None."""
    rows = history.execute(f"SELECT min(ts_ns) FROM {EVENTS} WHERE source = ?", (source,))
    value = rows[0][0] if rows else None
    return int(value) if value is not None else None  # type: ignore[call-overload]
