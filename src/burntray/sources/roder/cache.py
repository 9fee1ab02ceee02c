"""roder's token_usage rows as per-minute sums per model, kept current incrementally.

Why minutes: loading a million rows one by one into Python costs seconds; SQLite sums them per
minute in a fraction of that. A window is then exact to the millisecond by combining

- the whole minutes inside it, from per-model prefix sums (two bisections per model), and
- the rows of the partial minute at each edge, read from the database on demand (an index
  range of one minute) and kept for the next snapshots (the start edge stays in one minute for
  a minute; the end edge is usually the current minute, which new rows are added to).

Rows of a partial minute are read only up to the highest rowid the cache has taken, so a row
committed meanwhile is counted once: when ``update`` takes it, in its minute and in any kept
partial minute.

``update`` reads only rows with a rowid above the highest taken (roder inserts new turns at the
end), then checks the cache still matches the database with index-only reads: on every change
the count and time sum of rows in the last two hours, and (when asked, at most once a minute by
the source) the row count of the whole range. A failed check reloads the range.
"""

from __future__ import annotations

import bisect
import itertools
import sqlite3
from array import array
from collections.abc import Callable, Iterable

from msgspec import Struct, field

MS_PER_MINUTE = 60_000
RECENT_CHECK_MS = 2 * 3_600_000
_KEPT_MINUTES = 8  # partial minutes kept (edges of a few windows)

_JOIN = """
FROM token_usage u
LEFT JOIN turns tu ON tu.thread_id = u.thread_id AND tu.turn_id = u.turn_id
"""
_MINUTES_SQL = (
    "SELECT u.recorded_at_ms / 60000 AS m, tu.provider, tu.model, COUNT(*),"
    " SUM(u.prompt_tokens), SUM(u.completion_tokens), SUM(u.total_tokens),"
    " SUM(u.cached_prompt_tokens), SUM(u.recorded_at_ms)"
    + _JOIN
    + "WHERE u.recorded_at_ms >= ? GROUP BY m, tu.provider, tu.model"
)
_ROWS_SQL = (
    "SELECT u.rowid, u.recorded_at_ms, tu.provider, tu.model, u.prompt_tokens,"
    " u.completion_tokens, u.total_tokens, u.cached_prompt_tokens" + _JOIN
)
_NEW_SQL = _ROWS_SQL + "WHERE u.rowid > ? ORDER BY u.rowid"
MINUTE_ROWS_SQL = (
    _ROWS_SQL + "WHERE u.recorded_at_ms >= ? AND u.recorded_at_ms < ? AND u.rowid <= ?"
)
_COUNT_SQL = "SELECT COUNT(*) FROM token_usage WHERE recorded_at_ms >= ?"
_RECENT_SQL = (
    "SELECT COUNT(*), COALESCE(SUM(recorded_at_ms), 0) FROM token_usage WHERE recorded_at_ms >= ?"
)

Key = tuple[str, str]  # provider, model ("" where roder has NULL)
# rowid, recorded_at_ms, provider, model, prompt, completion, total, cached
Row = tuple[int, int, str | None, str | None, int, int, int, int]
# requests, prompt, completion, total, cached
Figures = tuple[int, int, int, int, int]
_COLUMNS = 6  # requests, prompt, completion, total, cached, sum of row times


def _has(minutes: array[int], minute: int) -> bool:
    at = bisect.bisect_left(minutes, minute)
    return at < len(minutes) and minutes[at] == minute


def _key(provider: str | None, model: str | None) -> Key:
    return (provider or "", model or "")


class MinuteSeries(Struct):
    """One provider/model: minutes ascending, their sums, and prefix sums over them."""

    minutes: array[int] = field(default_factory=lambda: array("q"))
    values: list[array[int]] = field(default_factory=lambda: [array("q") for _ in range(6)])
    prefix: list[array[int]] = field(default_factory=lambda: [array("q", [0]) for _ in range(6)])

    def add(self, minute: int, vals: tuple[int, ...]) -> None:
        """Add to a minute's sums; appending at the end is O(1), elsewhere O(minutes)."""
        if self.minutes and minute == self.minutes[-1]:
            for i in range(_COLUMNS):
                self.values[i][-1] += vals[i]
                self.prefix[i][-1] += vals[i]
            return
        if not self.minutes or minute > self.minutes[-1]:
            self.minutes.append(minute)
            for i in range(_COLUMNS):
                self.values[i].append(vals[i])
                self.prefix[i].append(self.prefix[i][-1] + vals[i])
            return
        at = bisect.bisect_left(self.minutes, minute)
        if self.minutes[at] != minute:
            self.minutes.insert(at, minute)
            for i in range(_COLUMNS):
                self.values[i].insert(at, 0)
        for i in range(_COLUMNS):
            self.values[i][at] += vals[i]
        self.prefix = [array("q", itertools.accumulate(v, initial=0)) for v in self.values]

    def span(self, first: int, end: int) -> tuple[int, ...]:
        """Sums of minutes ``first <= m < end``."""
        lo = bisect.bisect_left(self.minutes, first)
        hi = bisect.bisect_left(self.minutes, end)
        return tuple(col[hi] - col[lo] for col in self.prefix)


class RoderCache:
    """Per-minute sums of every row with ``recorded_at_ms >= lo_ms`` (``lo_ms`` a minute start)."""

    def __init__(self) -> None:
        self.lo_ms: int | None = None
        self.series: dict[Key, MinuteSeries] = {}
        self.max_rowid = 0
        self.count = 0
        self.loads = 0  # full (re)loads, for tests and the benchmark
        self.last_ms: int | None = None
        # partial-minute rows read on demand: minute -> rows (rowid <= max_rowid when read)
        self.kept: dict[int, list[Row]] = {}

    def load(self, conn: sqlite3.Connection, lo_ms: int) -> None:
        """(Re)load the sums of every row from the minute of ``lo_ms`` on."""
        lo = lo_ms - lo_ms % MS_PER_MINUTE
        (max_rowid,) = conn.execute("SELECT MAX(rowid) FROM token_usage").fetchone()
        groups: dict[Key, list[tuple[int, ...]]] = {}
        for minute, provider, model, *vals in conn.execute(_MINUTES_SQL, (lo,)):
            groups.setdefault(_key(provider, model), []).append((minute, *vals))
        self.lo_ms = lo
        self.max_rowid = max_rowid or 0
        self.series = {}
        self.kept = {}
        self.count = 0
        self.last_ms = None
        for key, rows in groups.items():
            rows.sort()
            columns = list(zip(*rows, strict=True))
            series = MinuteSeries(minutes=array("q", columns[0]))
            series.values = [array("q", col) for col in columns[1:]]
            series.prefix = [array("q", itertools.accumulate(c, initial=0)) for c in columns[1:]]
            self.series[key] = series
            self.count += sum(columns[1])
        if self.count:
            (self.last_ms,) = conn.execute(
                "SELECT MAX(recorded_at_ms) FROM token_usage WHERE recorded_at_ms >= ?", (lo,)
            ).fetchone()
        self.loads += 1

    def _take(self, rows: Iterable[Row]) -> None:
        lo = self.lo_ms if self.lo_ms is not None else 0
        for row in rows:
            rowid, ts, provider, model, prompt, completion, total, cached = row
            self.max_rowid = max(self.max_rowid, rowid)
            if ts < lo:
                continue
            minute = ts // MS_PER_MINUTE
            key = _key(provider, model)
            series = self.series.get(key)
            if series is None:
                series = self.series[key] = MinuteSeries()
            series.add(minute, (1, prompt, completion, total, cached, ts))
            kept = self.kept.get(minute)
            if kept is not None:
                kept.append(row)
            self.count += 1
            if self.last_ms is None or ts > self.last_ms:
                self.last_ms = ts

    def update(self, conn: sqlite3.Connection, lo_ms: int, *, full_check: bool = True) -> None:
        """Bring the sums up to date, reading only new rows when the checks allow."""
        if self.lo_ms is None or lo_ms < self.lo_ms:
            self.load(conn, lo_ms)
            return
        (max_rowid,) = conn.execute("SELECT MAX(rowid) FROM token_usage").fetchone()
        max_rowid = max_rowid or 0
        if max_rowid < self.max_rowid:
            self.load(conn, self.lo_ms)
            return
        if max_rowid > self.max_rowid:
            self._take(conn.execute(_NEW_SQL, (self.max_rowid,)).fetchall())
        if not self._recent_matches(conn) or (full_check and not self._count_matches(conn)):
            self.load(conn, self.lo_ms)

    def _count_matches(self, conn: sqlite3.Connection) -> bool:
        (count,) = conn.execute(_COUNT_SQL, (self.lo_ms,)).fetchone()
        return bool(count == self.count)

    def _recent_matches(self, conn: sqlite3.Connection) -> bool:
        """Count and time sum of the rows from a minute two hours before the newest row equal
        the cache's (an index-only read of those rows)."""
        assert self.lo_ms is not None
        newest = self.last_ms if self.last_ms is not None else self.lo_ms
        cut = max(self.lo_ms, newest - RECENT_CHECK_MS)
        cut -= cut % MS_PER_MINUTE
        recent = conn.execute(_RECENT_SQL, (cut,)).fetchone()
        expected = [0, 0]
        first = cut // MS_PER_MINUTE
        for series in self.series.values():
            sums = series.span(first, 2**62)
            expected[0] += sums[0]
            expected[1] += sums[5]
        return tuple(recent) == tuple(expected)

    def window(
        self, start_ms: int, end_ms: int, minute_rows: Callable[[int], list[Row]]
    ) -> dict[Key, Figures]:
        """Per model: (requests, prompt, completion, total, cached) for start <= ts < end.

        ``minute_rows(m)`` reads the rows of minute ``m`` with rowid <= ``max_rowid`` (used for
        partial minutes at the edges; may raise, e.g. ``StoreProblem``)."""
        out: dict[Key, list[int]] = {}
        first = -(-start_ms // MS_PER_MINUTE)  # first whole minute inside
        end = end_ms // MS_PER_MINUTE  # minutes before this one end by end_ms
        if first <= end:  # whole minutes [first, end) (maybe none), a partial one each side
            for key, series in self.series.items():
                sums = series.span(first, end)
                if sums[0]:
                    out[key] = list(sums[:5])
            edges = [(start_ms, first * MS_PER_MINUTE), (end * MS_PER_MINUTE, end_ms)]
        else:  # inside one minute
            edges = [(start_ms, end_ms)]
        for a, b in edges:
            if a >= b:
                continue
            for _rowid, ts, provider, model, *tokens in self._minute(
                a // MS_PER_MINUTE, minute_rows
            ):
                if a <= ts < b:
                    acc = out.setdefault(_key(provider, model), [0, 0, 0, 0, 0])
                    acc[0] += 1
                    for i, value in enumerate(tokens):
                        acc[i + 1] += value
        return {k: (v[0], v[1], v[2], v[3], v[4]) for k, v in out.items() if v[0]}

    def _minute(self, minute: int, minute_rows: Callable[[int], list[Row]]) -> list[Row]:
        rows = self.kept.get(minute)
        if rows is None:
            if not any(_has(s.minutes, minute) for s in self.series.values()):
                return []  # no row in that minute at all: nothing to read
            rows = minute_rows(minute)
            if len(self.kept) >= _KEPT_MINUTES:
                self.kept.pop(next(iter(self.kept)))
            self.kept[minute] = rows
        return rows

    def minutes(self, start_ms: int, end_ms: int) -> dict[int, dict[Key, tuple[int, ...]]]:
        """Per minute with rows in ``[start, end)`` (whole minutes): per model, its sums."""
        first, end = start_ms // MS_PER_MINUTE, -(-end_ms // MS_PER_MINUTE)
        out: dict[int, dict[Key, tuple[int, ...]]] = {}
        for key, series in self.series.items():
            lo = bisect.bisect_left(series.minutes, first)
            hi = bisect.bisect_left(series.minutes, end)
            for i in range(lo, hi):
                vals = tuple(series.values[c][i] for c in range(5))
                out.setdefault(series.minutes[i], {})[key] = vals
        return out
