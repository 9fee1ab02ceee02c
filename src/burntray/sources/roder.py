"""roder's usage analytics database (``<data-dir>/analytics/usage.sqlite3``), read in place.

roder keeps every turn's usage itself, so nothing is copied into burntray's history: each
window is answered from the database, exactly as roder's own ``stats tokens --group model``
answers it (``since <= recorded_at_ms < until``, provider/model joined from ``turns`` because
roder writes them NULL in ``token_usage``; failed turns count when they carry usage).

How it stays cheap on a database of a million rows:

- ``poll`` costs four ``stat`` calls (``_sqlite_ro.signature``) when nothing changed.
- Rows from the oldest window start asked for so far onwards are loaded once (index range on
  ``recorded_at_ms``) into per-model prefix sums, so any window inside is a few bisections,
  ms-exact, with no query at all.
- When the database changed, only rows with a rowid above the highest seen are read (roder's
  upserts insert new turns at the end), then the cache is checked against the database with
  index-only reads: on every change the count and time sum of the last two hours' rows, and at
  most once a minute the row count of the whole loaded range (on a million-row range that scan
  alone takes tens of ms). A turn re-recorded at a new time, rows deleted (retention) or a
  ``stats backfill --rebuild`` fail a check and the range is loaded afresh: at once for recent
  rows and a rebuild (the highest rowid drops), within a minute for deletions of older rows. A
  turn re-recorded with other numbers at the same millisecond is not noticed until the next
  full load; roder does not do that (a replayed terminal event carries its original time and
  numbers).

roder stores ``cached_prompt_tokens`` as a subset of ``prompt_tokens`` and no cache-creation
count: burntray's uncached input is ``prompt - cached`` and ``cache_read`` is ``cached``.
There is no cost column; cost comes from burntray's price table (unknown models unpriced).
"""

from __future__ import annotations

import bisect
import contextlib
import sqlite3
import time
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from burntray.model.aggregate import rpm
from burntray.model.pricing import PriceTable
from burntray.model.snapshot import (
    Capabilities,
    Snapshot,
    SourceStatus,
    Totals,
    UpstreamFact,
    UsageRow,
)
from burntray.sources._sqlite_ro import (
    Signature,
    StoreProblem,
    describe_error,
    open_readonly,
    signature,
    table_names,
)
from burntray.store.history import HistoryStore

SOURCE_NAME = "roder"
LABEL = "roder analytics"
WHAT = "roder analytics database"
KNOWN_SCHEMA_VERSION = 1  # roder-usage-analytics' migrations this reader was written against
_REQUIRED_TABLES = frozenset({"token_usage", "turns"})
RODER_CAPABILITIES = Capabilities(real_tokens=True, per_model=True)
NS_PER_MINUTE = 60 * 1_000_000_000
_MS = 1_000_000

_ROWS_SQL = """
SELECT u.rowid, u.recorded_at_ms, tu.provider, tu.model, u.prompt_tokens,
       u.completion_tokens, u.total_tokens, u.cached_prompt_tokens
FROM token_usage u
LEFT JOIN turns tu ON tu.thread_id = u.thread_id AND tu.turn_id = u.turn_id
"""
_RANGE_SQL = _ROWS_SQL + "WHERE u.recorded_at_ms >= ? ORDER BY u.recorded_at_ms"
_NEW_SQL = _ROWS_SQL + "WHERE u.rowid > ? ORDER BY u.rowid"
_COUNT_SQL = "SELECT COUNT(*) FROM token_usage WHERE recorded_at_ms >= ?"
_RECENT_SQL = (
    "SELECT COUNT(*), COALESCE(SUM(recorded_at_ms), 0) FROM token_usage WHERE recorded_at_ms >= ?"
)
# The span before the newest row in which row times are also summed by the check: where a turn
# re-recorded at another time would land. Older rows are checked by count (cheaper per row).
RECENT_CHECK_MS = 2 * 3_600_000
# How often the whole loaded range is counted (on a change): rows deleted from older parts
# (retention) are noticed within this time.
FULL_CHECK_INTERVAL_NS = 60 * 1_000_000_000

Row = tuple[int, int, str | None, str | None, int, int, int, int]


def ceil_ms(ns: int) -> int:
    """The first whole ms at or after ``ns``: a row at ms ``t`` is at or after ``ns`` exactly
    when ``t >= ceil_ms(ns)``, so windows are exact to the ms in both directions."""
    return -((-ns) // _MS)


@dataclass
class _Series:
    """One provider/model: times ascending and prefix sums, so a window is two bisections."""

    ts: array[int] = field(default_factory=lambda: array("q"))
    # prefix sums (index i = sum of the first i rows): prompt, completion, total, cached, and
    # the row times themselves (for the change check)
    sums: tuple[array[int], ...] = field(
        default_factory=lambda: tuple(array("q", [0]) for _ in range(5))
    )

    def add(self, ts_ms: int, values: tuple[int, int, int, int]) -> None:
        self.ts.append(ts_ms)
        for column, value in zip(self.sums, (*values, ts_ms), strict=True):
            column.append(column[-1] + value)

    def window(self, start_ms: int, end_ms: int) -> tuple[int, int, int, int, int]:
        lo = bisect.bisect_left(self.ts, start_ms)
        hi = bisect.bisect_left(self.ts, end_ms)
        p, c, t, k = (col[hi] - col[lo] for col in self.sums[:4])
        return hi - lo, p, c, t, k

    def since(self, cut_ms: int) -> tuple[int, int]:
        """(rows, sum of their times) at or after ``cut_ms``."""
        lo = bisect.bisect_left(self.ts, cut_ms)
        return len(self.ts) - lo, self.sums[4][-1] - self.sums[4][lo]

    def rows(self) -> list[tuple[int, ...]]:
        return [
            (self.ts[i], *(col[i + 1] - col[i] for col in self.sums[:4]))
            for i in range(len(self.ts))
        ]

    @property
    def last_ms(self) -> int:
        return self.ts[-1] if self.ts else -(2**62)


Key = tuple[str, str]  # provider, model ("" where roder has NULL)


class RoderCache:
    """Rows with ``recorded_at_ms >= lo_ms`` as per-model prefix sums, and how to keep them
    current. Pure over a connection: every method reads inside the caller's transaction."""

    def __init__(self) -> None:
        self.lo_ms: int | None = None
        self.series: dict[Key, _Series] = {}
        self.max_rowid = 0
        self.count = 0
        self.loads = 0  # full (re)loads, for tests and the benchmark
        self.last_ms: int | None = None

    def _reset(self, lo_ms: int) -> None:
        self.lo_ms = lo_ms
        self.series = {}
        self.count = 0

    def _take(self, rows: Iterable[Row]) -> None:
        """Add rows (any order) to the series; rows before ``lo_ms`` only move ``max_rowid``."""
        lo = self.lo_ms if self.lo_ms is not None else 0
        late: set[Key] = set()
        for rowid, ts, provider, model, prompt, completion, total, cached in rows:
            self.max_rowid = max(self.max_rowid, rowid)
            if ts < lo:
                continue
            key = (provider or "", model or "")
            series = self.series.get(key)
            if series is None:
                series = self.series[key] = _Series()
            if ts < series.last_ms:
                late.add(key)
            series.add(ts, (prompt, completion, total, cached))
            self.count += 1
            if self.last_ms is None or ts > self.last_ms:
                self.last_ms = ts
        for key in late:  # a row older than its model's newest: re-sort that model only
            self._resort(key)

    def _resort(self, key: Key) -> None:
        fresh = _Series()
        for ts, prompt, completion, total, cached in sorted(self.series[key].rows()):
            fresh.add(ts, (prompt, completion, total, cached))
        self.series[key] = fresh

    def load(self, conn: sqlite3.Connection, lo_ms: int) -> None:
        """(Re)load every row from ``lo_ms`` on."""
        self._reset(lo_ms)
        self.last_ms = None
        (max_rowid,) = conn.execute("SELECT MAX(rowid) FROM token_usage").fetchone()
        self.max_rowid = max_rowid or 0
        self._take(conn.execute(_RANGE_SQL, (lo_ms,)))
        self.loads += 1

    def update(self, conn: sqlite3.Connection, lo_ms: int, *, full_check: bool = True) -> None:
        """Bring the cache up to date, reading only new rows when the checks allow.

        The recent span is always checked; the row count of the whole range (a scan of the
        range's index entries) only with ``full_check``."""
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
        """Count and time sum of the rows of the last two hours (before the newest row) in
        the database equal the cache's (an index-only read of those rows)."""
        assert self.lo_ms is not None
        cut = max(self.lo_ms, (self.last_ms or self.lo_ms) - RECENT_CHECK_MS)
        recent = conn.execute(_RECENT_SQL, (cut,)).fetchone()
        expected = [0, 0]
        for series in self.series.values():
            n, total = series.since(cut)
            expected[0] += n
            expected[1] += total
        return tuple(recent) == tuple(expected)

    def window(self, start_ms: int, end_ms: int) -> dict[Key, tuple[int, int, int, int, int]]:
        """Per model: (requests, prompt, completion, total, cached) for start <= ts < end."""
        out = {}
        for key, series in self.series.items():
            figures = series.window(start_ms, end_ms)
            if figures[0]:
                out[key] = figures
        return out


def summarise(
    figures: dict[Key, tuple[int, int, int, int, int]], window_ns: int, prices: PriceTable
) -> tuple[Totals, tuple[UsageRow, ...]]:
    """Totals and per-model rows. roder's cached prompt tokens are a subset of its prompt
    tokens: input (uncached) = prompt - cached, cache reads = cached; cache writes unknown.
    ``tokens`` is roder's own total. Cost is linear in tokens, so pricing a model's sums equals
    pricing each turn."""
    rows: list[UsageRow] = []
    sums = [0, 0, 0, 0, 0]  # reqs, input, output, cache read, total
    unpriced = 0
    cost_total = 0.0
    for (provider, model), (reqs, prompt, completion, total, cached) in figures.items():
        price = prices.lookup(provider, model) if model else None
        uncached = prompt - cached
        cost = price.cost_tokens(uncached, completion, cached, 0) if price is not None else None
        if cost is None:
            unpriced += reqs
        else:
            cost_total += cost
        rows.append(
            UsageRow(
                provider=provider,
                model=model,
                reqs=reqs,
                sent=0,
                recv=0,
                tokens=total,
                cost_usd=cost,
                unpriced_reqs=0 if cost is not None else reqs,
                price_key=price.key if price is not None else "",
                input_tokens=uncached,
                output_tokens=completion,
                cache_read_tokens=cached,
                cache_write_tokens=None,
            )
        )
        for i, value in enumerate((reqs, uncached, completion, cached, total)):
            sums[i] += value
    rows.sort(key=lambda r: (-(r.cost_usd or 0.0), -r.reqs, r.provider, r.model))
    reqs, uncached, completion, cached, total = sums
    totals = Totals(
        reqs=reqs,
        rpm=rpm(reqs, window_ns),
        tokens=total,
        cost_usd=cost_total,
        unpriced_reqs=unpriced,
        input_tokens=uncached,
        output_tokens=completion,
        cache_read_tokens=cached,
        cache_write_tokens=None,
    )
    return totals, tuple(rows)


class RoderSource:
    """Follows roder's analytics database. One monitor thread calls ``poll`` and ``snapshot``."""

    name = SOURCE_NAME
    label = LABEL
    capabilities = RODER_CAPABILITIES

    def __init__(
        self,
        db_path: Path,
        prices: PriceTable,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.db_path = db_path
        self.prices = prices
        self._clock_ns = clock_ns
        self.cache = RoderCache()
        self._signature: Signature | None = None
        self._status = SourceStatus("starting", "not read yet")
        self._last_ok_ns: int | None = None
        self._last_full_check_ns: int | None = None
        self._count_pending = False  # changes were read since the last whole-range count
        self.schema_version: int | None = None

    @property
    def status(self) -> SourceStatus:
        return self._status

    def availability(self) -> tuple[bool, str]:
        if self.db_path.is_file():
            return True, f"roder: {self.db_path}"
        return False, f"roder: no analytics database at {self.db_path}"

    def start(self, wake: Callable[[], None]) -> None:
        """Nothing runs in the background: ``poll`` notices changes with four ``stat`` calls."""

    def needs_history(self, window_ns: int, now_ns: int) -> bool:
        return False  # roder keeps everything itself

    def attach_history(self, history: HistoryStore) -> None:
        """Nothing to record: roder's database is the history."""

    def poll(self) -> bool:
        """Re-read only when the database (or its WAL) changed. True when figures may differ."""
        sig = signature(self.db_path)
        if sig == self._signature and self._status.state != "starting":
            # unchanged; but changes read without the whole-range count get it once due
            due = self._last_full_check_ns is not None and (
                self._clock_ns() - self._last_full_check_ns >= FULL_CHECK_INTERVAL_NS
            )
            if not (self._count_pending and due):
                return False
        self._signature = sig
        self._refresh(self.cache.lo_ms)
        return True

    def _refresh(self, lo_ms: int | None) -> None:
        """Open, check the schema, update the cache (if a range is loaded), close."""
        now = self._clock_ns()
        try:
            conn = open_readonly(self.db_path, WHAT)
        except StoreProblem as exc:
            self._problem(exc.state, exc.detail, now)
            return
        try:
            conn.execute("BEGIN")
            note = self._check_schema(conn)
            if lo_ms is not None:
                last = self._last_full_check_ns
                full = last is None or now - last >= FULL_CHECK_INTERVAL_NS
                self.cache.update(conn, lo_ms, full_check=full)
                self._count_pending = not full
                if full:
                    self._last_full_check_ns = now
            conn.execute("COMMIT")
        except StoreProblem as exc:
            self._problem(exc.state, exc.detail, now)
            return
        except sqlite3.Error as exc:
            self._problem("error", describe_error(exc, self.db_path, WHAT), now)
            return
        finally:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        self._last_ok_ns = now
        detail = f"{self.cache.count:,} turns loaded" if self.cache.lo_ms is not None else "ok"
        self._status = SourceStatus("ok", note or detail, last_ok_ns=now)

    def _check_schema(self, conn: sqlite3.Connection) -> str:
        tables = table_names(conn)
        missing = _REQUIRED_TABLES - tables
        if missing:
            raise StoreProblem(
                "error",
                f"{WHAT} {self.db_path} has no {', '.join(sorted(missing))} table:"
                " not a roder analytics store, or an unknown version",
            )
        version = None
        if "analytics_schema_migrations" in tables:
            (version,) = conn.execute(
                "SELECT MAX(version) FROM analytics_schema_migrations"
            ).fetchone()
        self.schema_version = version
        if isinstance(version, int) and version > KNOWN_SCHEMA_VERSION:
            return (
                f"schema version {version} is newer than this burntray knows"
                f" ({KNOWN_SCHEMA_VERSION}); figures read from the known columns"
            )
        return ""

    def _problem(self, state: str, detail: str, now: int) -> None:
        if state == "empty":
            self.cache = RoderCache()
            self._status = SourceStatus("empty", detail, False, now)
        else:
            self._status = SourceStatus("error", detail, stale=True, last_ok_ns=self._last_ok_ns)

    def snapshot(self, window_ns: int, now_ns: int | None = None) -> Snapshot:
        """Usage in ``[now - window, now)``, ms-exact; loads older rows first if needed."""
        now = self._clock_ns() if now_ns is None else now_ns
        start_ms, end_ms = ceil_ms(now - window_ns), ceil_ms(now)
        readable = self._status.healthy or self._status.state == "starting"
        if readable and (self.cache.lo_ms is None or start_ms < self.cache.lo_ms):
            self._signature = signature(self.db_path)
            self._refresh(start_ms)
        figures = self.cache.window(start_ms, end_ms) if self.cache.lo_ms is not None else {}
        totals, rows = summarise(figures, window_ns, self.prices)
        last = self.cache.last_ms
        return Snapshot(
            source=SOURCE_NAME,
            window_ns=window_ns,
            as_of_ns=now,
            status=self._status,
            totals=totals,
            by_model=rows,
            data_updated_ns=last * _MS if last is not None else None,
            capabilities=RODER_CAPABILITIES,
            facts=self.facts(),
        )

    def facts(self) -> tuple[UpstreamFact, ...]:
        facts = [UpstreamFact("database", str(self.db_path))]
        if self.schema_version is not None:
            facts.append(UpstreamFact("schema version", str(self.schema_version)))
        return tuple(facts)

    def minute_series(self, start_ns: int, end_ns: int) -> list[tuple[int, int, float, int]] | None:
        """(minute, requests, priced cost, unpriced requests) per minute with requests in
        ``[start, end)`` (minute = epoch ns // 1 min), for the report's charts; None when the
        database cannot be read."""
        start_ms, end_ms = ceil_ms(start_ns), ceil_ms(end_ns)
        readable = self._status.healthy or self._status.state == "starting"
        if readable and (self.cache.lo_ms is None or start_ms < self.cache.lo_ms):
            self._signature = signature(self.db_path)
            self._refresh(start_ms)
        if self.cache.lo_ms is None or start_ms < self.cache.lo_ms:
            return None
        minutes: dict[int, list[float]] = {}
        for (provider, model), series in self.cache.series.items():
            price = self.prices.lookup(provider, model) if model else None
            lo = bisect.bisect_left(series.ts, start_ms)
            hi = bisect.bisect_left(series.ts, end_ms)
            for i in range(lo, hi):
                prompt, completion, _total, cached = (
                    col[i + 1] - col[i] for col in series.sums[:4]
                )
                acc = minutes.setdefault(series.ts[i] * _MS // NS_PER_MINUTE, [0, 0.0, 0])
                acc[0] += 1
                if price is None:
                    acc[2] += 1
                else:
                    acc[1] += price.cost_tokens(prompt - cached, completion, cached, 0)
        return [(m, int(r), float(c), int(u)) for m, (r, c, u) in sorted(minutes.items())]

    def close(self) -> None:
        """Nothing is held open between polls."""
