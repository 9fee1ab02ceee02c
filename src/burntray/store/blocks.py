"""Claude's 5-hour blocks, worked out from the history without loading its records.

A block starts on the hour of its first request and holds every request up to 5 hours after
that hour; the first request past it starts the next block. (A gap of more than 5 hours after
the last request ends a block too, but that request is then past the 5 hours as well: the one
rule says both.) So the next block's first request is one seek of the index over record times,
a block per seek, and a block's figures are the minute rollup's sums with exact edges
(``UsageEvents.rows``): the cost of an answer does not grow with the requests in it.
"""

from __future__ import annotations

from typing import NamedTuple

from burntray.model.blocks import BLOCK_NS
from burntray.model.timefmt import NS_PER_HOUR, NS_PER_QUARTER_HOUR
from burntray.store.pending import pending_from_ns
from burntray.store.schema import EVENTS, QUARTERS
from burntray.store.usage_events import UsageEvents

# Hours looked at per query while searching back for a night (a day and a half: one query on
# most days; a source in use around the clock is searched back further, a page at a time).
_QUARTERS_PER_PAGE = 144
_NS_PER_QUARTER = NS_PER_QUARTER_HOUR
_QUARTERS_PER_BLOCK = 20  # 5 hours


class BlockSums(NamedTuple):
    """One block's requests summed (``model.blocks.block_of`` makes the UsageBlock)."""

    start_ns: int  # the hour it starts on
    first_ns: int
    last_ns: int
    reqs: int
    tokens: int
    cost_usd: float
    unpriced_reqs: int


def chain_start(events: UsageEvents, source: str, end_ns: int) -> int:
    """Where the chain of blocks before ``end`` can be followed from: the start of the quarter
    hour after the last five whole hours (20 quarters) without a request (the first request
    from there comes more than 5 hours after the one before it, so it starts a block), or 0
    (the first request).

    Read from the quarter-hour rollup, newest first: a night is found in the first page."""
    before = -(-end_ns // _NS_PER_QUARTER)  # quarters that can hold requests before ``end``
    later: int | None = None
    cut = pending_from_ns(events.history, source)
    while True:
        rows = _quarters_before(events, source, before, cut)
        for (quarter,) in rows:
            assert isinstance(quarter, int)
            # twenty whole empty quarters between: the request before ends < (quarter + 1)
            # and the one after starts >= later, more than 5 hours apart
            if later is not None and later - quarter > _QUARTERS_PER_BLOCK:
                return later * _NS_PER_QUARTER
            later = quarter
        if len(rows) < _QUARTERS_PER_PAGE or later is None:
            return 0
        before = later


def _quarters_before(
    events: UsageEvents, source: str, before: int, cut: int | None
) -> list[tuple[object, ...]]:
    """A page of the quarter hours before ``before`` that hold requests, newest first: from
    the quarter rollup, and from the records (a covering index's entries) from a long read's
    pending mark ``cut`` (ns) on, where the rollup is not summed yet (``store.pending``)."""
    rows: list[tuple[object, ...]] = []
    if cut is not None and before > cut // _NS_PER_QUARTER:
        rows = events.history.execute(
            f"SELECT DISTINCT ts_ns / {_NS_PER_QUARTER} FROM {EVENTS} WHERE source = ? "  # noqa: S608
            "AND ts_ns >= ? AND ts_ns < ? ORDER BY 1 DESC LIMIT ?",
            (source, cut, before * _NS_PER_QUARTER, _QUARTERS_PER_PAGE),
        )
        if len(rows) == _QUARTERS_PER_PAGE:
            return rows
        before = cut // _NS_PER_QUARTER
    return rows + events.history.execute(
        f"SELECT DISTINCT quarter FROM {QUARTERS} WHERE source = ? AND quarter < ? "  # noqa: S608
        "ORDER BY quarter DESC LIMIT ?",
        (source, before, _QUARTERS_PER_PAGE - len(rows)),
    )


def block_firsts(events: UsageEvents, source: str, start_ns: int, end_ns: int) -> list[int]:
    """The first request time of each block of the requests in ``[start, end)``, oldest first;
    the first block starts at the first request at or after ``start``."""
    firsts: list[int] = []
    first = events.first_at(source, start_ns, end_ns)
    while first is not None:
        firsts.append(first)
        hour = first - first % NS_PER_HOUR
        first = events.first_at(source, hour + BLOCK_NS + 1, end_ns)  # strictly past 5 h
    return firsts


def block_sums(events: UsageEvents, source: str, first_ns: int, end_ns: int) -> BlockSums | None:
    """The block whose first request is at ``first_ns``, with its requests before ``end_ns``
    (the next block's first request, or the end of the history looked at)."""
    extent = events.extent(source, first_ns, end_ns)
    if extent is None:
        return None
    reqs = tokens = unpriced = 0
    cost = 0.0
    for g in events.rows(source, first_ns, end_ns):
        reqs += g.reqs
        tokens += g.input_tokens + g.output_tokens + g.cache_read_tokens + g.cache_write_tokens
        cost += g.cost_usd
        unpriced += g.unpriced_reqs
    first, last = extent
    return BlockSums(first - first % NS_PER_HOUR, first, last, reqs, tokens, cost, unpriced)


def all_block_sums(events: UsageEvents, source: str, start_ns: int, end_ns: int) -> list[BlockSums]:
    """Every block of the requests in ``[start, end)``, oldest first."""
    firsts = block_firsts(events, source, start_ns, end_ns)
    bounds = [*firsts[1:], end_ns]
    found = (block_sums(events, source, lo, hi) for lo, hi in zip(firsts, bounds, strict=True))
    return [b for b in found if b is not None]


def last_block_sums(
    events: UsageEvents, source: str, start_ns: int, end_ns: int
) -> BlockSums | None:
    """The last block of the requests in ``[start, end)`` (the only one figures are read for)."""
    firsts = block_firsts(events, source, start_ns, end_ns)
    return block_sums(events, source, firsts[-1], end_ns) if firsts else None
