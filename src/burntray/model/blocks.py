"""Claude's 5-hour usage blocks, from per-request records or from their sums.

Claude plans are metered in 5-hour blocks: a block starts at the first request after the last
block ended, floored to the hour, and lasts 5 hours; a gap of 5 hours without requests also ends
it. That is how Anthropic's plans and ccusage (``blocks``) count them, so the current block's
start, spend, burn rate and projection here match what users see there. Apart from
``model.periods`` (the views by day, session, ...) so that a warm ``status``, which needs the
current block only, does not build the views' classes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from msgspec import Struct

from burntray.model.timefmt import NS_PER_HOUR

if TYPE_CHECKING:
    from burntray.model.usage import UsageRecord

BLOCK_NS = 5 * NS_PER_HOUR


class UsageBlock(Struct, frozen=True):
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
