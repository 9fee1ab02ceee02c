"""Per-request records grouped by day and by session, and the views' dimensions (day, week,
month, session, project, branch, model, tool). Claude's 5-hour blocks are ``model.blocks``.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from typing import Any

from msgspec import Struct

from burntray.model.timefmt import NS_PER_QUARTER_HOUR
from burntray.model.usage import UsageRecord


class PeriodRow(Struct, frozen=True):
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
    # tokens estimated from bytes (a byte-counting source's usage, hexai's at a hub)
    estimated_tokens: int = 0

    @property
    def tokens(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_read_tokens
            + self.cache_write_tokens
            + self.estimated_tokens
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


# --- views: usage grouped by period, session, project, branch, model, tool ----------------------

PERIODS = ("day", "week", "month")
# host and user: the machine and person a hub's records came from (a team, ``[team] hub``)
DIMENSIONS = (*PERIODS, "session", "project", "branch", "model", "tool", "host", "user")
UNKNOWN = "(unknown)"  # a request whose project, branch or model was not recorded
# Every zone's offset and every daylight-saving change falls on a quarter hour, so usage summed
# per quarter hour (UTC) can be put into local days exactly, whatever the zone.
SLOT_NS = NS_PER_QUARTER_HOUR
_EPOCH_DAY = dt.date(1970, 1, 1)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_by(text: str) -> tuple[str, ...]:
    """``day``, ``day,model``, ``project,branch``: the dimensions to group by, in that order.

    At most one period (a request is in one day, one week and one month: grouping by two would
    only repeat the finer one); each dimension once. Raises ``ValueError`` saying what is allowed.
    """
    dims = tuple(part.strip().lower() for part in text.split(","))
    allowed = ", ".join(DIMENSIONS)
    for dim in dims:
        if dim not in DIMENSIONS:
            raise ValueError(f"--by {text!r}: {dim!r} is not one of {allowed} (comma-separated)")
    if len(set(dims)) != len(dims):
        raise ValueError(f"--by {text!r}: each of {allowed} at most once")
    if sum(dim in PERIODS for dim in dims) > 1:
        raise ValueError(f"--by {text!r}: one of day, week, month at a time")
    return dims


def parse_date(text: str, option: str) -> dt.date:
    """A calendar day written ``YYYY-MM-DD`` or ``YYYYMMDD`` (as ccusage takes them), in the
    years 1971 to 9998 (no record is older; local midnights before 1970 are not every
    platform's to give, and the day after 9999-12-31 is no date)."""
    value = text.strip()
    fmt = "%Y%m%d" if len(value) == 8 and value.isdigit() else "%Y-%m-%d"
    try:
        day = dt.datetime.strptime(value, fmt).date()
    except ValueError:
        raise ValueError(f"{option} {text!r}: a date as YYYY-MM-DD or YYYYMMDD") from None
    if not 1971 <= day.year <= 9998:
        raise ValueError(f"{option} {text!r}: a date in the years 1971 to 9998")
    return day


def day_start_ns(day: dt.date, tz: dt.tzinfo | None) -> int:
    """The first instant of ``day`` in ``tz`` (None: the machine's zone)."""
    start = dt.datetime.combine(day, dt.time())
    aware = start.replace(tzinfo=tz) if tz is not None else start.astimezone()
    return int(aware.timestamp()) * 10**9


class PeriodKeys:
    """The period (``2026-11-20``, the week's first day, ``2026-11``) a quarter-hour slot is in,
    in one zone; each slot is worked out once (a year of history has 35,040 of them)."""

    def __init__(self, unit: str, tz: dt.tzinfo | None, week_start: int = 6) -> None:
        self.unit = unit
        self.tz = tz
        self.week_start = week_start  # 0 = Monday ... 6 = Sunday (ccusage's default)
        self._cache: dict[int, str] = {}

    def date_of(self, ts_ns: int) -> dt.date:
        return dt.datetime.fromtimestamp(ts_ns // 10**9, self.tz).date()

    def key(self, day: dt.date) -> str:
        if self.unit == "month":
            return day.strftime("%Y-%m")
        if self.unit == "week":
            day -= dt.timedelta(days=(day.weekday() - self.week_start) % 7)
        return day.isoformat()

    def of_slot(self, slot: int) -> str:
        key = self._cache.get(slot)
        if key is None:
            key = self._cache[slot] = self.key(self.date_of(slot * SLOT_NS))
        return key

    def of_day(self, day: int) -> str:
        """The period of local day number ``day`` (days since 1970-01-01 in the zone)."""
        return self.key(_EPOCH_DAY + dt.timedelta(days=day))

    def _offset_quarters(self, slot: int) -> int:
        """The zone's UTC offset at quarter hour ``slot``, in quarter hours."""
        seconds = slot * (SLOT_NS // 10**9)
        if self.tz is None:
            offset = time.localtime(seconds).tm_gmtoff
        else:
            delta = dt.datetime.fromtimestamp(seconds, self.tz).utcoffset()
            offset = int(delta.total_seconds()) if delta is not None else 0
        return offset // (SLOT_NS // 10**9)

    def offsets(self, first: int, end: int) -> list[tuple[int, int]]:
        """The zone's offsets over quarter hours ``[first, end)``: ``[(from, offset), ...]`` in
        quarter hours, the first from ``first``. Looked at once a day, and where it changed,
        found to the quarter hour (a zone changes its offset at most twice a year)."""
        found = [(first, self._offset_quarters(first))]
        day = 96
        at = first
        while at < end - 1:
            nxt = min(at + day, end - 1)
            if self._offset_quarters(nxt) != found[-1][1]:
                lo, hi = at, nxt  # the offset of lo is the old one, of hi the new one
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    if self._offset_quarters(mid) == found[-1][1]:
                        lo = mid
                    else:
                        hi = mid
                found.append((hi, self._offset_quarters(hi)))
            at = nxt
        return found


class ViewRow(Struct, frozen=True):
    """Usage of one group: ``keys`` holds its value of each dimension grouped by, in order."""

    keys: tuple[str, ...]
    reqs: int
    input_tokens: int  # uncached
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float  # of the priced requests
    unpriced_reqs: int
    last_ns: int = 0  # the newest request (0 where not asked: only sessions show it)
    project: str = ""  # a session's project
    models: tuple[str, ...] = ()
    # tokens estimated from bytes (a byte-counting source's usage, hexai's at a hub)
    estimated_tokens: int = 0

    @property
    def tokens(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_read_tokens
            + self.cache_write_tokens
            + self.estimated_tokens
        )


def merge_rows(parts: Iterable[ViewRow], dims: tuple[str, ...]) -> list[ViewRow]:
    """Rows with the same keys added up (parts may be negative: a share left out), in the
    order people read them: periods oldest first, else the most expensive first; a session
    view the most recently active first. Groups that add up to no request go."""
    acc: dict[tuple[str, ...], list[Any]] = {}
    for p in parts:
        a = acc.get(p.keys)
        if a is None:
            acc[p.keys] = [p.reqs, p.input_tokens, p.output_tokens, p.cache_read_tokens,
                           p.cache_write_tokens, p.cost_usd, p.unpriced_reqs, p.last_ns,
                           p.project, set(p.models), p.estimated_tokens]  # fmt: skip
            continue
        a[10] += p.estimated_tokens
        for i, v in enumerate((p.reqs, p.input_tokens, p.output_tokens, p.cache_read_tokens,
                               p.cache_write_tokens, p.cost_usd, p.unpriced_reqs)):  # fmt: skip
            a[i] += v
        if p.last_ns > a[7]:
            a[7], a[8] = p.last_ns, p.project or a[8]
        if p.reqs > 0:  # a share left out names no model of the group's
            a[9].update(p.models)
    rows = [ViewRow(k, *a[:9], tuple(sorted(a[9])), a[10]) for k, a in acc.items() if a[0] > 0]  # type: ignore[call-arg]
    rows.sort(key=lambda r: (-r.cost_usd, -r.reqs, r.keys))
    if "session" in dims and not any(d in PERIODS for d in dims):
        rows.sort(key=lambda r: -r.last_ns)
    period = next((i for i, d in enumerate(dims) if d in PERIODS), None)
    if period is not None:
        rows.sort(key=lambda r: r.keys[period])  # stable: within a period, the dearest first
    return rows
