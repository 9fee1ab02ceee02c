"""roder's usage analytics database (``<data-dir>/analytics/usage.sqlite3``), read in place.

roder keeps every turn's usage itself, so nothing is copied into burntray's history: each
window is answered from the database, exactly as roder's own ``stats tokens --group model``
answers it (``since <= recorded_at_ms < until``, provider/model joined from ``turns`` because
roder writes them NULL in ``token_usage``; failed turns count when they carry usage).

How it stays cheap on a database of a million rows:

- ``poll`` costs four ``stat`` calls (``_sqlite_ro.signature``) when nothing changed.
- From the oldest window start asked for so far, SQLite sums the rows per minute and model
  once; any window is then those sums plus the rows of its two partial edge minutes (see
  ``roder.cache``), exact to the millisecond.
- When the database changed, only new rows are read and the cache is checked against the
  database (``roder.cache``); the whole-range row count, the one check whose cost grows with
  the range, runs at most once a minute (``FULL_CHECK_INTERVAL_NS``), so rows deleted from
  older parts (retention) are noticed within a minute. Everything else - a new turn, a turn
  re-recorded at a new time, a ``stats backfill --rebuild`` - is seen at the next poll. A turn
  re-recorded with other numbers at the same millisecond is not noticed until the next full
  load; roder does not do that (a replayed terminal event carries its original time and
  numbers).

roder stores ``cached_prompt_tokens`` as a subset of ``prompt_tokens`` and no cache-creation
count: burntray's uncached input is ``prompt - cached`` and ``cache_read`` is ``cached``.
There is no cost column; cost comes from burntray's price table (unknown models unpriced).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from burntray.io.sqlite_ro import (
    RETRY_NS,
    InPlaceSource,
    StoreProblem,
    ceil_ms,
    describe_error,
    open_readonly,
    table_names,
)
from burntray.model.aggregate import rpm
from burntray.model.pricing import PriceTable
from burntray.model.snapshot import (
    Capabilities,
    Snapshot,
    Totals,
    UpstreamFact,
    UsageRow,
)
from burntray.sources.roder.cache import (
    MINUTE_ROWS_SQL,
    MS_PER_MINUTE,
    Figures,
    Key,
    RoderCache,
    Row,
)

SOURCE_NAME = "roder"
LABEL = "roder analytics"
WHAT = "roder analytics database"
KNOWN_SCHEMA_VERSION = 1  # roder-usage-analytics' migrations this reader was written against
_REQUIRED_TABLES = frozenset({"token_usage", "turns"})
RODER_CAPABILITIES = Capabilities(real_tokens=True, per_model=True)
_MS = 1_000_000
# How often the whole loaded range is counted (on a change): rows deleted from older parts
# (retention) are noticed within this time.
FULL_CHECK_INTERVAL_NS = 60 * 1_000_000_000


def summarise(
    figures: dict[Key, Figures], window_ns: int, prices: PriceTable
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


class RoderSource(InPlaceSource[RoderCache]):
    """Follows roder's analytics database. One monitor thread calls ``poll`` and ``snapshot``."""

    name = SOURCE_NAME
    label = LABEL
    capabilities = RODER_CAPABILITIES
    what = WHAT
    kind = "analytics database"

    def __init__(
        self,
        db_path: Path,
        prices: PriceTable,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        super().__init__(db_path, clock_ns)
        self.prices = prices
        self._last_full_check_ns: int | None = None
        self._count_pending = False  # changes were read since the last whole-range count
        self.schema_version: int | None = None

    def _new_cache(self) -> RoderCache:
        return RoderCache()

    def _due(self) -> bool:
        """Besides a problem looked at again now and then, changes read without the
        whole-range count get it once it is due."""
        now = self._clock_ns()
        due = self._last_full_check_ns is not None and (
            now - self._last_full_check_ns >= FULL_CHECK_INTERVAL_NS
        )
        retry = self._status.state == "error" and now - self._last_try_ns >= RETRY_NS
        return (self._count_pending and due) or retry

    def _update(self, conn: sqlite3.Connection, lo_ms: int, now: int) -> None:
        last = self._last_full_check_ns
        full = last is None or now - last >= FULL_CHECK_INTERVAL_NS
        self.cache.update(conn, lo_ms, full_check=full)
        self._count_pending = not full
        if full:
            self._last_full_check_ns = now

    def _loaded_detail(self) -> str:
        return f"{self.cache.count:,} turns loaded"

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

    def _minute_rows(self, minute: int) -> list[Row]:
        """The rows of one minute the cache has taken (rowid <= its highest), for the partial
        minutes at a window's edges."""
        conn = open_readonly(self.db_path, WHAT)
        try:
            conn.execute("BEGIN")
            rows = conn.execute(
                MINUTE_ROWS_SQL,
                (minute * MS_PER_MINUTE, (minute + 1) * MS_PER_MINUTE, self.cache.max_rowid),
            ).fetchall()
            conn.execute("COMMIT")
            return rows
        finally:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def _window(self, start_ms: int, end_ms: int) -> dict[Key, Figures]:
        if not self._cover(start_ms):
            return {}
        try:
            return self.cache.window(start_ms, end_ms, self._minute_rows)
        except StoreProblem as exc:
            self._problem(exc.state, exc.detail, self._clock_ns())
        except sqlite3.Error as exc:
            self._problem("error", describe_error(exc, self.db_path, WHAT), self._clock_ns())
        return {}

    def snapshot(self, window_ns: int, now_ns: int | None = None) -> Snapshot:
        """Usage in ``[now - window, now)``, ms-exact; loads older rows first if needed."""
        now = self._clock_ns() if now_ns is None else now_ns
        figures = self._window(ceil_ms(now - window_ns), ceil_ms(now))
        totals, rows = summarise(figures, window_ns, self.prices)
        last = self.cache.last_ms
        return Snapshot(
            source=SOURCE_NAME,
            window_ns=window_ns,
            as_of_ns=now,
            status=self._status,
            totals=totals,
            by_model=rows,
            cost_estimated=True,  # roder states no cost: burntray's price table prices its tokens
            data_updated_ns=last * _MS if last is not None else None,
            capabilities=RODER_CAPABILITIES,
            facts=self.facts(),
        )

    def window_figures(self, start_ms: int, end_ms: int) -> dict[Key, Figures]:
        """Per model (requests, prompt, completion, total, cached) for start <= ts < end, as
        roder counts them (for tests and the benchmark)."""
        return self._window(start_ms, end_ms)

    def facts(self) -> tuple[UpstreamFact, ...]:
        facts = [UpstreamFact("database", str(self.db_path))]
        if self.schema_version is not None:
            facts.append(UpstreamFact("schema version", str(self.schema_version)))
        return tuple(facts)

    def minute_series(self, start_ns: int, end_ns: int) -> list[tuple[int, int, float, int]] | None:
        """(minute, requests, priced cost, unpriced requests) per minute (epoch ns // 1 min)
        in ``[start, end)``, whole minutes (a chart's resolution), for the report; None when
        the database cannot be read."""
        start_ms, end_ms = ceil_ms(start_ns), ceil_ms(end_ns)
        if not self._cover(start_ms - start_ms % MS_PER_MINUTE):
            return None
        out = []
        for minute, per_model in sorted(self.cache.minutes(start_ms, end_ms).items()):
            reqs = unpriced = 0
            cost = 0.0
            for (provider, model), (n, prompt, completion, _total, cached) in per_model.items():
                reqs += n
                price = self.prices.lookup(provider, model) if model else None
                if price is None:
                    unpriced += n
                else:
                    cost += price.cost_tokens(prompt - cached, completion, cached, 0)
            out.append((minute, reqs, cost, unpriced))
        return out
