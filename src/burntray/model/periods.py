"""Per-request records grouped by day, by session, and into Claude's 5-hour usage blocks.

Claude plans are metered in 5-hour blocks: a block starts at the first request after the last
block ended, floored to the hour, and lasts 5 hours; a gap of 5 hours without requests also ends
it. That is how Anthropic's plans and ccusage (``blocks``) count them, so the current block's
start, spend, burn rate and projection here match what users see there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from burntray.model.timefmt import NS_PER_HOUR
from burntray.model.usage import UsageRecord

BLOCK_NS = 5 * NS_PER_HOUR


@dataclass(frozen=True, slots=True)
class PeriodRow:
    """Usage of one day or one session."""

    key: str  # "2026-11-20" or the session id
    reqs: int
    input_tokens: int  # uncached
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float  # of the priced requests
    unpriced_reqs: int
    first_ns: int
    last_ns: int
    project: str = ""
    models: tuple[str, ...] = ()

    @property
    def tokens(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_read_tokens
            + self.cache_write_tokens
        )


class _Acc:
    __slots__ = ("cost", "first", "inp", "last", "models", "out", "project", "read", "reqs",
                 "unpriced", "write")  # fmt: skip

    def __init__(self, first: UsageRecord) -> None:
        self.reqs = self.inp = self.out = self.read = self.write = self.unpriced = 0
        self.cost = 0.0
        self.first = self.last = first.ts_ns
        self.project = first.project
        self.models: set[str] = set()

    def add(self, r: UsageRecord) -> None:
        self.reqs += 1
        self.inp += r.input_tokens
        self.out += r.output_tokens
        self.read += r.cache_read_tokens
        self.write += r.cache_write_tokens
        if r.cost_usd is None:
            self.unpriced += 1
        else:
            self.cost += r.cost_usd
        self.first = min(self.first, r.ts_ns)
        self.last = max(self.last, r.ts_ns)
        if r.model:
            self.models.add(r.model)

    def row(self, key: str) -> PeriodRow:
        return PeriodRow(key, self.reqs, self.inp, self.out, self.read, self.write, self.cost,
                         self.unpriced, self.first, self.last, self.project,
                         tuple(sorted(self.models)))  # fmt: skip


def _group(records: Iterable[UsageRecord], key_of: Callable[[UsageRecord], str]) -> list[PeriodRow]:
    acc: dict[str, _Acc] = {}
    for r in records:
        key = key_of(r)
        if key not in acc:
            acc[key] = _Acc(r)
        acc[key].add(r)
    return [a.row(k) for k, a in acc.items()]


def by_day(records: Iterable[UsageRecord], tz: dt.tzinfo | None = None) -> list[PeriodRow]:
    """Usage per calendar day in ``tz`` (default: the machine's zone), oldest first."""

    def day(r: UsageRecord) -> str:
        return dt.datetime.fromtimestamp(r.ts_ns / 1e9, tz).strftime("%Y-%m-%d")

    return sorted(_group(records, day), key=lambda row: row.key)


def by_session(records: Iterable[UsageRecord]) -> list[PeriodRow]:
    """Usage per session, the most recently active first."""
    rows = _group(records, lambda r: r.session or "(no session)")
    return sorted(rows, key=lambda row: row.last_ns, reverse=True)


@dataclass(frozen=True, slots=True)
class UsageBlock:
    """One 5-hour block; ``active`` when ``now`` is inside it and it has not gone idle."""

    start_ns: int
    end_ns: int
    first_ns: int
    last_ns: int
    reqs: int
    tokens: int
    cost_usd: float
    unpriced_reqs: int
    active: bool
    burn_usd_per_hour: float | None  # spend over the span of its requests (None: one instant)
    projected_cost_usd: float | None  # active blocks: spend if the burn rate holds to the end


def usage_blocks_records(records: Iterable[UsageRecord]) -> list[list[UsageRecord]]:
    """The requests of each 5-hour block of ``records`` (sorted by time), oldest first. A block
    starts on the hour of its first request and ends when a request comes more than 5 hours
    after that hour or after the previous request (ccusage's rule, strictly more)."""
    blocks: list[list[UsageRecord]] = []
    current: list[UsageRecord] = []
    start = 0
    for r in records:
        if current and (r.ts_ns - start > BLOCK_NS or r.ts_ns - current[-1].ts_ns > BLOCK_NS):
            blocks.append(current)
            current = []
        if not current:
            start = r.ts_ns - r.ts_ns % NS_PER_HOUR
        current.append(r)
    if current:
        blocks.append(current)
    return blocks


def usage_blocks(records: Iterable[UsageRecord], now_ns: int) -> list[UsageBlock]:
    """The 5-hour blocks of ``records`` (sorted by time), oldest first."""
    return [_block(recs, now_ns) for recs in usage_blocks_records(records)]


def current_block(records: Iterable[UsageRecord], now_ns: int) -> UsageBlock | None:
    """The active block at ``now_ns``, or None (no request in the last 5 hours)."""
    blocks = usage_blocks(records, now_ns)
    return blocks[-1] if blocks and blocks[-1].active else None


def _block(recs: list[UsageRecord], now_ns: int) -> UsageBlock:
    first = recs[0].ts_ns
    return block_of(
        start_ns=first - first % NS_PER_HOUR,
        first_ns=first,
        last_ns=recs[-1].ts_ns,
        reqs=len(recs),
        tokens=sum(r.tokens for r in recs),
        cost_usd=sum(r.cost_usd for r in recs if r.cost_usd is not None),
        unpriced_reqs=sum(1 for r in recs if r.cost_usd is None),
        now_ns=now_ns,
    )


def block_of(
    *,
    start_ns: int,
    first_ns: int,
    last_ns: int,
    reqs: int,
    tokens: int,
    cost_usd: float,
    unpriced_reqs: int,
    now_ns: int,
) -> UsageBlock:
    """The block with these sums as seen at ``now_ns``: whether it is active, its burn rate
    (spend over the span of its requests) and, while active, the spend it heads for."""
    end = start_ns + BLOCK_NS
    active = now_ns < end and now_ns - last_ns < BLOCK_NS
    span_h = (last_ns - first_ns) / NS_PER_HOUR
    burn = cost_usd / span_h if span_h > 0 else None
    projected = None
    if active and burn is not None:
        projected = cost_usd + burn * max(0, end - now_ns) / NS_PER_HOUR
    return UsageBlock(
        start_ns=start_ns,
        end_ns=end,
        first_ns=first_ns,
        last_ns=last_ns,
        reqs=reqs,
        tokens=tokens,
        cost_usd=cost_usd,
        unpriced_reqs=unpriced_reqs,
        active=active,
        burn_usd_per_hour=burn,
        projected_cost_usd=projected,
    )
