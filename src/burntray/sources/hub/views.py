"""A hub's minutes in the views (``status --source hub --by day,host`` ...).

A minute is an absolute time, and every zone's offset is whole minutes, so a minute is in one
local day of the viewer's zone: the day, week and month views put each minute there exactly.
A minute knows no session, project or branch: grouped by those, the minutes show as
``(unknown)``, so every view adds up to the hub's total.

hexai's tokens are estimated from bytes, rounded once per host over the window (as its
machine rounds them). A view splits a host's bytes into groups; rounding each group on its own
would not add up to the host's figure, so each group gets the rounded running sum of the
host's bytes up to it less that before it: the groups of a host add up to its figure exactly
and each is within a token of its own rounding.
"""

# ruff: noqa: S608 - SQL here names only constant tables and columns; values are bound

from __future__ import annotations

import datetime as dt
import itertools
import time
from typing import TYPE_CHECKING, Any

from burntray.model.aggregate import estimated_tokens
from burntray.model.periods import PERIODS, UNKNOWN, PeriodKeys, ViewRow
from burntray.model.timefmt import NS_PER_DAY, NS_PER_MINUTE, NS_PER_QUARTER_HOUR
from burntray.sources.hub.counters import HUB_COUNTERS
from burntray.sources.hub.tables import HUB_MINUTES
from burntray.store.views import local_day_sql

if TYPE_CHECKING:
    from burntray.store.history import HistoryStore

_COLUMN = {
    "host": "host",
    "user": "user",
    "model": "model",
    "tool": "'hub'",
    # what a minute does not know: shown as older records without a branch are
    "session": f"'{UNKNOWN}'",
    "project": f"'{UNKNOWN}'",
    "branch": f"'{UNKNOWN}'",
}
_QUARTER_MIN = NS_PER_QUARTER_HOUR // NS_PER_MINUTE
_MINUTES_PER_DAY = NS_PER_DAY // NS_PER_MINUTE


def _offset_minutes(keys: PeriodKeys, minute: int) -> int:
    """The zone's UTC offset at ``minute``, in whole minutes."""
    seconds = minute * 60
    if keys.tz is None:
        offset = time.localtime(seconds).tm_gmtoff
    else:
        delta = dt.datetime.fromtimestamp(seconds, keys.tz).utcoffset()
        offset = int(delta.total_seconds()) if delta is not None else 0
    return offset // 60


def _local_day(keys: PeriodKeys, first: int, last: int) -> str:
    """SQL for the local day number (days since 1970-01-01 in the zone) of column ``minute``,
    over minutes ``[first, last]``: the zone's changes found by ``PeriodKeys.offsets`` (to the
    quarter hour, where every change falls), the offset between them to the minute."""
    changes = [q * _QUARTER_MIN for q, _ in keys.offsets(first // _QUARTER_MIN,
                                                         last // _QUARTER_MIN + 2)]  # fmt: skip
    changes[0] = first
    offsets = [(m, _offset_minutes(keys, m)) for m in changes]
    return local_day_sql("minute", offsets, _MINUTES_PER_DAY)


def _query(
    history: HistoryStore,
    table: str,
    dims: tuple[str, ...],
    figures: str,
    *,
    start_ns: int,
    end_ns: int,
    keys: PeriodKeys | None,
) -> list[tuple[Any, ...]]:
    """(host, user, each of ``dims``' values, *figures) per group, in host, user, group order."""
    bounds = (start_ns // NS_PER_MINUTE, -(-end_ns // NS_PER_MINUTE))
    day = "0"
    if keys is not None:
        extent = history.execute(
            f"SELECT min(minute), max(minute) FROM {table} WHERE minute >= ? AND minute < ?",
            bounds,
        )
        if not extent or extent[0][0] is None:
            return []
        day = _local_day(keys, int(extent[0][0]), int(extent[0][1]))  # type: ignore[call-overload]
    cols = [day if d in PERIODS else _COLUMN[d] for d in dims]
    groups = ", ".join(str(i + 1) for i in range(3 + len(cols)))
    return history.execute(
        f"SELECT host, user, {', '.join(['0', *cols])}, {figures} FROM {table} "
        f"WHERE minute >= ? AND minute < ? GROUP BY {groups} ORDER BY {groups}",
        bounds,
    )


def _keys(row: tuple[Any, ...], dims: tuple[str, ...], keys: PeriodKeys | None) -> tuple[str, ...]:
    values = row[3 : 3 + len(dims)]
    return tuple(
        keys.of_day(int(v)) if keys is not None and d in PERIODS else str(v or "")
        for d, v in zip(dims, values, strict=True)
    )


def view_rows(
    history: HistoryStore,
    dims: tuple[str, ...],
    start_ns: int,
    end_ns: int,
    keys: PeriodKeys | None = None,
) -> list[ViewRow] | None:
    """The minutes (hexai's bytes, cburn's and ctm's increases) grouped by ``dims`` over
    ``[start, end)``, periods by ``keys`` (the viewer's zone); None for a dimension this does
    not know."""
    if not all(d in _COLUMN or d in PERIODS for d in dims):
        return None
    if any(d in PERIODS for d in dims) and keys is None:
        return None
    history.require((HUB_MINUTES, HUB_COUNTERS))
    out: list[ViewRow] = []
    n = 3 + len(dims)
    # hexai: tokens from bytes, a host's rounded once (see the module's docstring)
    byte_rows = _query(
        history, "hub_minutes", dims,
        "sum(reqs), sum(sent) + sum(recv), total(cost), "
        "sum(CASE WHEN cost IS NULL THEN reqs ELSE 0 END), group_concat(DISTINCT model)",
        start_ns=start_ns, end_ns=end_ns, keys=keys,
    )  # fmt: skip
    for _origin, rows in itertools.groupby(byte_rows, key=lambda r: (r[0], r[1])):
        running = 0
        for r in rows:
            reqs, nbytes, cost, unpriced, models = r[n:]
            before, running = running, running + int(nbytes)
            out.append(
                ViewRow(_keys(r, dims, keys), int(reqs), 0, 0, 0, 0, float(cost), int(unpriced),
                        models=tuple(str(models).split(",")) if models else (),
                        estimated_tokens=estimated_tokens(running) - estimated_tokens(before))
            )  # fmt: skip
    # cburn, ctm: the increases as their machines counted them, at their upstream's cost;
    # tokens not split into input and output (cburn's) go with those of no known kind
    for r in _query(
        history, "hub_counter_minutes", dims,
        "sum(reqs), sum(input), sum(output), sum(tokens), total(cost), "
        "group_concat(DISTINCT model)",
        start_ns=start_ns, end_ns=end_ns, keys=keys,
    ):  # fmt: skip
        reqs, inp, outp, tokens, cost, models = r[n:]
        out.append(
            ViewRow(_keys(r, dims, keys), int(reqs), int(inp), int(outp), 0, 0, float(cost), 0,
                    models=tuple(str(models).split(",")) if models else (),
                    estimated_tokens=int(tokens) - int(inp) - int(outp))
        )  # fmt: skip
    return out
