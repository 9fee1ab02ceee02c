"""ctm's legacy cost store (``~/.config/ctm/ctm.db``, table ``cost_points``), read in place.

ctm (up to v0.1.21) appends a row on every changed statusline update of a named session:
``input_tokens``/``output_tokens`` are the session's running totals, ``cache_tokens`` is the
current turn's cache (not a total) and ``cost_usd_micros`` is ctm's ``ComputeCostMicros`` of
that row: ``(input*3e6 + output*15e6 + cache*3e5) / 1e6`` in integer micros, Sonnet 4.5 rates
for every model. ctm's own total (``Totals``) takes the latest row per session.

So a window's usage is, per session, the increase of those running figures since the last row
before the window: each row contributes its increase over the previous row of its session. A
row whose input or output is lower than the previous row's is a reused session name starting
over, and contributes its own figures (a new baseline; nothing is counted twice). The increases
telescope: over all time they add up to the latest row of each run of a session, which is
exactly ctm's ``Totals(0)`` for input, output and cost when no name was reused. Because the
cache part of ctm's cost is per turn, a window's cost can move down slightly when a turn with
less cache follows one with more: ctm's own figure does the same.

``cache_tokens`` cannot be summed (it is per turn, repeated across updates), so burntray does
not report cache tokens for ctm; the cost still includes ctm's cache term. A "request" here is
an update whose input or output grew (ctm records statusline updates, not requests).

From the oldest window start asked for so far, each session's rows are loaded once, with its
last row before that start as the baseline: index seeks on ``(session, ts)`` only (the session
names by a skip-scan of that index), never the whole table. Afterwards only rows with a rowid
above the highest seen are read (ctm only ever inserts); a lower highest rowid or another file
at the path means another database, read afresh.
"""

from __future__ import annotations

import bisect
import sqlite3
import time
from array import array
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec import Struct, field

from burntray.io.sqlite_ro import InPlaceSource, StoreProblem, ceil_ms, table_names
from burntray.lazylog import get_logger
from burntray.model.aggregate import rpm
from burntray.model.snapshot import (
    Capabilities,
    Snapshot,
    Totals,
    UpstreamFact,
    UsageRow,
)
from burntray.model.timefmt import NS_PER_MINUTE

if TYPE_CHECKING:
    from burntray.store.history import HistoryStore

log = get_logger(__name__)

SOURCE_NAME = "ctm"
LABEL = "ctm cost store"
WHAT = "ctm cost database"
KNOWN_SCHEMA_VERSION = "2"
PRICING_NOTE = "ctm prices every model at Sonnet 4.5 rates"
PRICING_DETAIL = PRICING_NOTE + " ($3 input, $15 output, $0.30 cache, per million tokens)"
PROVIDER, MODEL = "anthropic", "(ctm: every model)"
PRICE_KEY = "ctm ComputeCostMicros (Sonnet 4.5 rates)"
CTM_CAPABILITIES = Capabilities(real_tokens=True, per_model=False, upstream_cost=True)
_MS = 1_000_000

_ROWS_SQL = (
    "SELECT rowid, ts, session, input_tokens, output_tokens, cost_usd_micros FROM cost_points "
)
_NEW_SQL = _ROWS_SQL + "WHERE rowid > ? ORDER BY rowid"
# Every session name, one index seek each (a skip-scan of the (session, ts) index).
_SESSIONS_SQL = """
WITH RECURSIVE s(name) AS (
  SELECT MIN(session) FROM cost_points
  UNION ALL
  SELECT (SELECT MIN(session) FROM cost_points WHERE session > s.name) FROM s
  WHERE s.name IS NOT NULL
)
SELECT name FROM s WHERE name IS NOT NULL
"""
# A session's last row before the range (its baseline) and its rows in the range: index seeks.
_BASELINE_SQL = _ROWS_SQL + "WHERE session = ? AND ts < ? ORDER BY ts DESC, rowid DESC LIMIT 1"
_RANGE_SQL = _ROWS_SQL + "WHERE session = ? AND ts >= ? ORDER BY ts, rowid"

Row = tuple[int, int, str, int, int, int]


def cost_micros(input_tokens: int, output_tokens: int, cache_tokens: int) -> int:
    """ctm's ComputeCostMicros (Go int64 division truncates toward zero)."""
    total = input_tokens * 3_000_000 + output_tokens * 15_000_000 + cache_tokens * 300_000
    return total // 1_000_000 if total >= 0 else -((-total) // 1_000_000)


class _Session(Struct):
    """One session name's rows: times ascending and prefix sums of each row's increase."""

    ts: array[int] = field(default_factory=lambda: array("q"))
    # prefix sums of increases: input, output, cost micros, updates that grew the counters
    sums: tuple[array[int], ...] = field(
        default_factory=lambda: tuple(array("q", [0]) for _ in range(4))
    )
    last: tuple[int, int, int] | None = None  # the latest row's (input, output, cost)

    def add(self, ts_ms: int, inp: int, out: int, cost: int) -> None:
        prev = self.last
        if prev is None or inp < prev[0] or out < prev[1]:
            d_in, d_out, d_cost = inp, out, cost  # first row, or the name reused: from zero
        else:
            d_in, d_out, d_cost = inp - prev[0], out - prev[1], cost - prev[2]
        grew = 1 if (d_in > 0 or d_out > 0) else 0
        self.ts.append(ts_ms)
        for column, value in zip(self.sums, (d_in, d_out, d_cost, grew), strict=True):
            column.append(column[-1] + value)
        self.last = (inp, out, cost)

    def window(self, start_ms: int, end_ms: int) -> tuple[int, int, int, int]:
        lo = bisect.bisect_left(self.ts, start_ms)
        hi = bisect.bisect_left(self.ts, end_ms)
        d_in, d_out, d_cost, grew = (col[hi] - col[lo] for col in self.sums)
        return grew, d_in, d_out, d_cost


class CtmCache:
    """Rows of ``cost_points`` from ``lo_ms`` on, per session, as prefix sums of increases over
    each session's previous row (the last one before ``lo_ms`` included, as the baseline)."""

    def __init__(self) -> None:
        self.lo_ms: int | None = None
        self.sessions: dict[str, _Session] = {}
        self.max_rowid = 0
        self.count = 0
        self.loads = 0
        self.last_ms: int | None = None
        # the oldest row read since the team's hub was last written for (``ctm.team``)
        self.dirty_from_ms: int | None = None

    @property
    def loaded(self) -> bool:
        return self.lo_ms is not None

    def load(self, conn: sqlite3.Connection, lo_ms: int) -> None:
        """(Re)load from ``lo_ms``: per session its baseline and its rows (index seeks only)."""
        (max_rowid,) = conn.execute("SELECT MAX(rowid) FROM cost_points").fetchone()
        self.lo_ms = lo_ms
        self.sessions = {}
        self.max_rowid = max_rowid or 0
        self.count = 0
        self.last_ms = None
        self.dirty_from_ms = lo_ms
        for (name,) in conn.execute(_SESSIONS_SQL).fetchall():
            series = _Session()
            base = conn.execute(_BASELINE_SQL, (name, lo_ms)).fetchone()
            if base is not None:
                series.last = (base[3], base[4], base[5])
                self.last_ms = base[1] if self.last_ms is None else max(self.last_ms, base[1])
            self.sessions[name] = series
            for _rowid, ts, _session, inp, out, cost in conn.execute(_RANGE_SQL, (name, lo_ms)):
                series.add(ts, inp, out, cost)
                self.count += 1
                if self.last_ms is None or ts > self.last_ms:
                    self.last_ms = ts
        self.loads += 1

    def _take(self, rows: Iterable[Row]) -> bool:
        """Append new rows; False when one lands before the range or before its session's latest
        row (a clock that went back): then the range is reloaded."""
        lo = self.lo_ms if self.lo_ms is not None else 0
        for rowid, ts, session, inp, out, cost in rows:
            series = self.sessions.get(session)
            if series is None:
                series = self.sessions[session] = _Session()
            if ts < lo or (series.ts and ts < series.ts[-1]):
                return False
            series.add(ts, inp, out, cost)
            if self.dirty_from_ms is None or ts < self.dirty_from_ms:
                self.dirty_from_ms = ts
            self.max_rowid = max(self.max_rowid, rowid)
            self.count += 1
            if self.last_ms is None or ts > self.last_ms:
                self.last_ms = ts
        return True

    def update(self, conn: sqlite3.Connection, lo_ms: int) -> None:
        """Up to date from ``lo_ms`` (or the loaded start, if earlier). ctm only inserts, so new
        rows are those above the highest rowid; a lower highest rowid means another database."""
        if self.lo_ms is None or lo_ms < self.lo_ms:
            self.load(conn, lo_ms)
            return
        (max_rowid,) = conn.execute("SELECT MAX(rowid) FROM cost_points").fetchone()
        max_rowid = max_rowid or 0
        if max_rowid < self.max_rowid or (
            max_rowid > self.max_rowid
            and not self._take(conn.execute(_NEW_SQL, (self.max_rowid,)).fetchall())
        ):
            self.load(conn, self.lo_ms)

    def window(self, start_ms: int, end_ms: int) -> tuple[int, int, int, int]:
        """(updates that grew, input, output, cost micros) for ``start <= ts < end``."""
        grew = d_in = d_out = d_cost = 0
        for series in self.sessions.values():
            g, i, o, c = series.window(start_ms, end_ms)
            grew += g
            d_in += i
            d_out += o
            d_cost += c
        return grew, d_in, d_out, d_cost


class CtmSource(InPlaceSource[CtmCache]):
    """Follows ctm's cost store. One monitor thread calls ``poll`` and ``snapshot``."""

    name = SOURCE_NAME
    label = LABEL
    capabilities = CTM_CAPABILITIES
    what = WHAT
    kind = "cost database"

    def __init__(
        self,
        db_path: Path,
        clock_ns: Callable[[], int] = time.time_ns,
        *,
        team: HistoryStore | None = None,
        retention_days: int = 90,
    ) -> None:
        super().__init__(db_path, clock_ns)
        # [team] hub set: the minutes' increases are written to this history for the hub
        # (``ctm.team``), by a long-running burntray only (``start``), back to the retention
        self._team = team
        self._team_on = False
        self._retention_ms = retention_days * 86_400_000

    def _new_cache(self) -> CtmCache:
        return CtmCache()

    def start(self, wake: Callable[[], None]) -> None:
        self._team_on = self._team is not None

    def poll(self) -> bool:
        changed = super().poll()
        if self._team_on and self._team is not None:
            try:
                self._write_team(self._team)
            except Exception:  # the hub's copy waits; the figures here are unaffected
                log.exception("ctm: writing the minutes for the team's hub failed")
        return changed

    def _write_team(self, history: HistoryStore) -> None:
        from burntray.sources.ctm import team  # noqa: PLC0415
        from burntray.sources.team_counters import reporting  # noqa: PLC0415

        if not reporting(history):
            return
        horizon = self._clock_ns() // _MS - self._retention_ms
        if not self._cover(horizon - horizon % 60_000):  # whole minutes from the horizon on
            return
        team.write(history, self.cache, PROVIDER, MODEL)

    def _update(self, conn: sqlite3.Connection, lo_ms: int, now: int) -> None:
        self.cache.update(conn, lo_ms)

    def _loaded_detail(self) -> str:
        return f"{self.cache.count:,} rows, {len(self.cache.sessions)} sessions"

    def _check_schema(self, conn: sqlite3.Connection) -> str:
        tables = table_names(conn)
        if "cost_points" not in tables:
            raise StoreProblem(
                "error",
                f"{WHAT} {self.db_path} has no cost_points table: ctm after v0.1.21 no longer"
                " keeps costs, or this is not ctm's database",
            )
        version = None
        if "schema_meta" in tables:
            row = conn.execute("SELECT value FROM schema_meta WHERE key = 'version'").fetchone()
            version = row[0] if row else None
        if version is not None and str(version) != KNOWN_SCHEMA_VERSION:
            return (
                f"schema version {version} is newer than this burntray knows"
                f" ({KNOWN_SCHEMA_VERSION}); figures read from the known columns"
            )
        return ""

    def snapshot(self, window_ns: int, now_ns: int | None = None) -> Snapshot:
        now = self._clock_ns() if now_ns is None else now_ns
        start_ms = ceil_ms(now - window_ns)
        grew = d_in = d_out = d_cost = 0
        if self._cover(start_ms):
            grew, d_in, d_out, d_cost = self.cache.window(start_ms, ceil_ms(now))
        cost = d_cost / 1e6
        rows: tuple[UsageRow, ...] = ()
        if grew or d_in or d_out or d_cost:
            rows = (
                UsageRow(
                    provider=PROVIDER,
                    model=MODEL,
                    reqs=grew,
                    sent=0,
                    recv=0,
                    tokens=d_in + d_out,
                    cost_usd=cost,
                    unpriced_reqs=0,
                    price_key=PRICE_KEY,
                    input_tokens=d_in,
                    output_tokens=d_out,
                ),
            )
        totals = Totals(
            reqs=grew,
            rpm=rpm(grew, window_ns),
            tokens=d_in + d_out,
            cost_usd=cost,
            input_tokens=d_in,
            output_tokens=d_out,
        )
        last = self.cache.last_ms
        return Snapshot(
            source=SOURCE_NAME,
            window_ns=window_ns,
            as_of_ns=now,
            status=self._status,
            totals=totals,
            by_model=rows,
            cost_estimated=True,
            data_updated_ns=last * _MS if last is not None else None,
            note=PRICING_NOTE,
            capabilities=CTM_CAPABILITIES,
            facts=self.facts(),
        )

    def facts(self) -> tuple[UpstreamFact, ...]:
        return (
            UpstreamFact("pricing", PRICING_DETAIL),
            UpstreamFact("database", str(self.db_path)),
            UpstreamFact(
                "sessions", f"{len(self.cache.sessions):,} ({self.cache.count:,} updates)"
            ),
        )

    def minute_series(self, start_ns: int, end_ns: int) -> list[tuple[int, int, float, int]] | None:
        """(minute, updates that grew, ctm's cost, 0) per minute in ``[start, end)`` for the
        report's charts; None when the database could not be read."""
        start_ms, end_ms = ceil_ms(start_ns), ceil_ms(end_ns)
        if not self._cover(start_ms):
            return None
        minutes: dict[int, list[float]] = {}
        for series in self.cache.sessions.values():
            lo = bisect.bisect_left(series.ts, start_ms)
            hi = bisect.bisect_left(series.ts, end_ms)
            for i in range(lo, hi):
                d_cost = series.sums[2][i + 1] - series.sums[2][i]
                grew = series.sums[3][i + 1] - series.sums[3][i]
                acc = minutes.setdefault(series.ts[i] * _MS // NS_PER_MINUTE, [0, 0.0, 0])
                acc[0] += grew
                acc[1] += d_cost / 1e6
        return [(m, int(r), float(c), int(u)) for m, (r, c, u) in sorted(minutes.items())]
