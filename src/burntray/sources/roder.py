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
  upserts insert new turns at the end), then a fingerprint of the loaded range (row count and
  sum of ``recorded_at_ms``, from the covering index) must match what was loaded plus those
  rows. Anything else - rows deleted by retention, a ``stats backfill --rebuild``, a turn
  re-recorded at another time - fails the check and the range is loaded afresh.

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
from burntray.model.pricing import Price, PriceTable
from burntray.model.snapshot import Snapshot, SourceStatus, Totals, UsageRow
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
_MS = 1_000_000

_ROWS_SQL = """
SELECT u.rowid, u.recorded_at_ms, tu.provider, tu.model, u.prompt_tokens,
       u.completion_tokens, u.total_tokens, u.cached_prompt_tokens
FROM token_usage u
LEFT JOIN turns tu ON tu.thread_id = u.thread_id AND tu.turn_id = u.turn_id
"""
_RANGE_SQL = _ROWS_SQL + "WHERE u.recorded_at_ms >= ? ORDER BY u.recorded_at_ms"
_NEW_SQL = _ROWS_SQL + "WHERE u.rowid > ? ORDER BY u.rowid"
_FINGERPRINT_SQL = (
    "SELECT COUNT(*), COALESCE(SUM(recorded_at_ms), 0) FROM token_usage WHERE recorded_at_ms >= ?"
)

Row = tuple[int, int, str | None, str | None, int, int, int, int]


def ceil_ms(ns: int) -> int:
    """The first whole ms at or after ``ns``: a row at ms ``t`` is at or after ``ns`` exactly
    when ``t >= ceil_ms(ns)``, so windows are exact to the ms in both directions."""
    return -((-ns) // _MS)


@dataclass
class _Series:
    """One provider/model: times ascending and prefix sums, so a window is two bisections."""

    ts: array[int] = field(default_factory=lambda: array("q"))
    # prefix sums: prompt, completion, total, cached (index i = sum of the first i rows)
    sums: tuple[array[int], ...] = field(
        default_factory=lambda: tuple(array("q", [0]) for _ in "pctk")
    )

    def add(self, ts_ms: int, values: tuple[int, int, int, int]) -> None:
        self.ts.append(ts_ms)
        for column, value in zip(self.sums, values, strict=True):
            column.append(column[-1] + value)

    def window(self, start_ms: int, end_ms: int) -> tuple[int, int, int, int, int]:
        lo = bisect.bisect_left(self.ts, start_ms)
        hi = bisect.bisect_left(self.ts, end_ms)
        p, c, t, k = (col[hi] - col[lo] for col in self.sums)
        return hi - lo, p, c, t, k

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
        self.sum_ts = 0
        self.loads = 0  # full (re)loads, for tests and the benchmark
        self.last_ms: int | None = None

    def _reset(self, lo_ms: int) -> None:
        self.lo_ms = lo_ms
        self.series = {}
        self.count = self.sum_ts = 0

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
            self.sum_ts += ts
            if self.last_ms is None or ts > self.last_ms:
                self.last_ms = ts
        for key in late:  # a row older than its model's newest: re-sort that model only
            self._resort(key)

    def _resort(self, key: Key) -> None:
        old = self.series[key]
        rows = sorted(
            (old.ts[i], *(old.sums[j][i + 1] - old.sums[j][i] for j in range(4)))
            for i in range(len(old.ts))
        )
        fresh = _Series()
        for ts, *values in rows:
            fresh.add(ts, (values[0], values[1], values[2], values[3]))
        self.series[key] = fresh

    def load(self, conn: sqlite3.Connection, lo_ms: int) -> None:
        """(Re)load every row from ``lo_ms`` on."""
        self._reset(lo_ms)
        self.last_ms = None
        (max_rowid,) = conn.execute("SELECT MAX(rowid) FROM token_usage").fetchone()
        self.max_rowid = max_rowid or 0
        self._take(conn.execute(_RANGE_SQL, (lo_ms,)))
        self.loads += 1

    def update(self, conn: sqlite3.Connection, lo_ms: int) -> None:
        """Bring the cache up to date, reading only new rows when the check allows."""
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
        count, sum_ts = conn.execute(_FINGERPRINT_SQL, (self.lo_ms,)).fetchone()
        if (count, sum_ts) != (self.count, self.sum_ts):
            self.load(conn, self.lo_ms)

    def window(self, start_ms: int, end_ms: int) -> dict[Key, tuple[int, int, int, int, int]]:
        """Per model: (requests, prompt, completion, total, cached) for start <= ts < end."""
        out = {}
        for key, series in self.series.items():
            figures = series.window(start_ms, end_ms)
            if figures[0]:
                out[key] = figures
        return out


def roder_cost(price: Price, prompt: int, completion: int, cached: int) -> float:
    """Uncached input at the input rate, cached input at the cache-read rate (the input rate
    where the table has none), completion at the output rate. USD."""
    cache_rate = price.cache_read if price.cache_read is not None else price.input
    return ((prompt - cached) * price.input + cached * cache_rate + completion * price.output) / (
        1_000_000
    )


def summarise(
    figures: dict[Key, tuple[int, int, int, int, int]], window_ns: int, prices: PriceTable
) -> tuple[Totals, tuple[UsageRow, ...]]:
    rows: list[UsageRow] = []
    reqs_total = tokens_total = unpriced = 0
    cost_total = 0.0
    for (provider, model), (reqs, prompt, completion, total, cached) in figures.items():
        price = prices.lookup(provider, model) if model else None
        cost = roder_cost(price, prompt, completion, cached) if price is not None else None
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
            )
        )
        reqs_total += reqs
        tokens_total += total
    rows.sort(key=lambda r: (-(r.cost_usd or 0.0), -r.reqs, r.provider, r.model))
    totals = Totals(
        reqs=reqs_total,
        rpm=rpm(reqs_total, window_ns),
        tokens=tokens_total,
        cost_usd=cost_total,
        unpriced_reqs=unpriced,
    )
    return totals, tuple(rows)


class RoderSource:
    """Follows roder's analytics database. One monitor thread calls ``poll`` and ``snapshot``."""

    name = SOURCE_NAME
    label = LABEL

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
                self.cache.update(conn, lo_ms)
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
        )

    def close(self) -> None:
        """Nothing is held open between polls."""
