"""Usage over time for the report's charts: per-minute history rows -> clock-aligned buckets.

Pure: rows in, buckets out; prices and the window are parameters. Buckets are aligned to
multiples of their length since the epoch (so hour buckets are clock hours); the first and last
may be cut by the window. hexai minutes are priced on their summed bytes (cost is linear in
tokens, so this equals summing per-event costs), as ``aggregate.summarise_bytes`` does.
"""

from __future__ import annotations

from collections.abc import Iterable

from msgspec import Struct

from burntray.model.aggregate import BYTES_PER_TOKEN
from burntray.model.pricing import Price, PriceTable
from burntray.model.timefmt import NS_PER_MINUTE

# Bucket lengths in minutes, from which the smallest that keeps a chart readable is chosen.
BUCKET_LADDER_MIN = (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440)
MAX_RATE_BUCKETS = 240  # requests-per-minute chart and cumulative cost line
MAX_COST_BUCKETS = 24  # cost-per-hour chart below 24 h windows; hourly bars from 24 h on

MinuteRow = tuple[int, str, str, int, int, int]  # minute, provider, model, reqs, sent, recv


class Bucket(Struct, frozen=True):
    start_ns: int
    end_ns: int  # exclusive; the nominal end even when the window ends inside the bucket
    reqs: int
    cost_usd: float  # priced requests only
    unpriced_reqs: int
    peak_minute_reqs: int  # the busiest single minute inside the bucket

    @property
    def minutes(self) -> float:
        return (self.end_ns - self.start_ns) / NS_PER_MINUTE

    @property
    def rpm(self) -> float:
        """Average requests per minute over the bucket's nominal length."""
        return self.reqs / self.minutes

    @property
    def cost_per_hour(self) -> float:
        return self.cost_usd * 60 / self.minutes


class Timeline(Struct, frozen=True):
    """Buckets covering ``[start_ns, end_ns)``; ``partial`` buckets are cut by the window."""

    start_ns: int
    end_ns: int
    bucket_minutes: int
    buckets: tuple[Bucket, ...]

    @property
    def reqs(self) -> int:
        return sum(b.reqs for b in self.buckets)

    @property
    def cost_usd(self) -> float:
        return sum(b.cost_usd for b in self.buckets)

    @property
    def unpriced_reqs(self) -> int:
        return sum(b.unpriced_reqs for b in self.buckets)

    def is_partial(self, bucket: Bucket) -> bool:
        return bucket.start_ns < self.start_ns or bucket.end_ns > self.end_ns

    def cumulative_cost(self) -> list[tuple[int, float]]:
        """(instant, cost so far) from the window start, at the end of every bucket."""
        points = [(self.start_ns, 0.0)]
        total = 0.0
        for bucket in self.buckets:
            total += bucket.cost_usd
            points.append((min(bucket.end_ns, self.end_ns), total))
        return points


def pick_bucket_minutes(window_ns: int, max_buckets: int) -> int:
    """The smallest ladder length giving at most ``max_buckets`` buckets over the window."""
    minutes = window_ns / NS_PER_MINUTE
    for length in BUCKET_LADDER_MIN:
        if minutes / length <= max_buckets:
            return length
    return BUCKET_LADDER_MIN[-1]


def cost_bucket_minutes(window_ns: int) -> int:
    """Clock hours for windows of a day or more; finer for short windows so bars still show."""
    hourly = window_ns >= 24 * 60 * NS_PER_MINUTE
    if hourly:
        return max(60, pick_bucket_minutes(window_ns, MAX_RATE_BUCKETS))
    return pick_bucket_minutes(window_ns, MAX_COST_BUCKETS)


PricedMinute = tuple[int, int, float, int]  # minute, reqs, cost_usd (priced), unpriced reqs


def price_minute_rows(rows: Iterable[MinuteRow], prices: PriceTable) -> list[PricedMinute]:
    """Price per-minute byte counters (tokens estimated as bytes/4, as the headline does)."""
    cache: dict[tuple[str, str], Price | None] = {}
    out: list[PricedMinute] = []
    for minute, provider, model, reqs, sent, recv in rows:
        key = (provider, model)
        if key in cache:
            price = cache[key]
        else:
            price = cache[key] = prices.lookup(provider, model)
        if price is None:
            out.append((minute, reqs, 0.0, reqs))
        else:
            cost = price.cost(sent / BYTES_PER_TOKEN, recv / BYTES_PER_TOKEN)
            out.append((minute, reqs, cost, 0))
    return out


def build_timeline(
    minutes: Iterable[PricedMinute],
    start_ns: int,
    end_ns: int,
    bucket_minutes: int,
) -> Timeline:
    """Group priced minutes (minute = ``ts_ns // NS_PER_MINUTE``) into clock-aligned buckets.

    Minutes outside the buckets spanning the window are ignored; the caller decides which
    events the minutes hold (the report passes exactly the window's events, see ``data``).
    """
    bucket_ns = bucket_minutes * NS_PER_MINUTE
    first = start_ns // bucket_ns
    count = max(1, -(-end_ns // bucket_ns) - first)
    reqs = [0] * count
    unpriced = [0] * count
    cost = [0.0] * count
    per_minute: dict[int, int] = {}
    for minute, n, minute_cost, minute_unpriced in minutes:
        index = minute // bucket_minutes - first
        if not 0 <= index < count:
            continue
        reqs[index] += n
        cost[index] += minute_cost
        unpriced[index] += minute_unpriced
        per_minute[minute] = per_minute.get(minute, 0) + n
    peaks = [0] * count
    for minute, n in per_minute.items():
        index = minute // bucket_minutes - first
        peaks[index] = max(peaks[index], n)
    buckets = tuple(
        Bucket(
            start_ns=(first + i) * bucket_ns,
            end_ns=(first + i + 1) * bucket_ns,
            reqs=reqs[i],
            cost_usd=cost[i],
            unpriced_reqs=unpriced[i],
            peak_minute_reqs=peaks[i],
        )
        for i in range(count)
    )
    return Timeline(start_ns, end_ns, bucket_minutes, buckets)
