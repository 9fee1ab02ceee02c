"""History: every event burntray has seen, kept in SQLite so windows can outlast upstream.

hexai prunes its file after its own window (default 1 h); the history keeps what burntray saw
for ``retention_days`` (default 90), so 6 h, 24 h and 7 d windows work. Ingest is idempotent:
each event is keyed by its full content plus an ordinal among identical events, so re-reading
the same file never double counts. Per-minute rollups, maintained at ingest for new rows only,
keep a 7-day query over a million rows in milliseconds: full minutes come from the rollup, the
partial minutes at either edge from the events themselves, so results stay exact.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from burntray.io.atomic import UnsafePathError, check_replaceable
from burntray.io.bounded_read import UnsafeFileError
from burntray.paths import ensure_dir, ensure_private_file, tighten

NS_PER_MINUTE = 60_000_000_000
SCHEMA_VERSION = 1
PRUNE_BATCH = 5000

Counter = tuple[str, str, int, int, int]  # provider, model, reqs, sent, recv


class HexaiEvent(NamedTuple):
    ts_ns: int
    provider: str
    model: str
    sent: int
    recv: int
    dup: int = 0  # 0, 1, 2... among events identical in every other field


class HistoryError(Exception):
    """The history database cannot be used; the message says which file and why."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hexai_events (
    ts_ns INTEGER NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    sent INTEGER NOT NULL,
    recv INTEGER NOT NULL,
    dup INTEGER NOT NULL,
    PRIMARY KEY (ts_ns, provider, model, sent, recv, dup)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hexai_minutes (
    minute INTEGER NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    reqs INTEGER NOT NULL,
    sent INTEGER NOT NULL,
    recv INTEGER NOT NULL,
    PRIMARY KEY (minute, provider, model)
) WITHOUT ROWID;
"""

# Tables that hold usage history (cleared by "clear history"); state tables such as meta or
# alert state are kept. Sources that add tables register them here.
USAGE_TABLES: list[str] = ["hexai_events", "hexai_minutes"]
# Meta keys of a source's resume state (file offsets): cleared with the usage, so the source
# reads its upstream from the start again instead of resuming past records that are gone.
RESUME_STATE_PREFIX = "source_state:"
# Meta key counting the clears: a running source that sees it change starts reading anew.
CLEARED_KEY = "usage_cleared"


# SQLite's companion files: the WAL and its shared-memory index hold recent rows too.
_COMPANIONS = ("-wal", "-shm", "-journal")


class HistoryStore:
    """One SQLite database (WAL). Safe to share between threads: calls are serialised.

    The database and its companion files are private (0600, in a 0700 dir): they list every
    request made and its cost. The file is created 0600 before SQLite opens it, and SQLite
    gives the WAL and shared-memory files the database's mode; files an older version left
    readable by others are tightened here.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self.generation = 0  # bumped on every change, so readers can cache query results
        try:
            if str(path) != ":memory:":
                ensure_dir(path.parent)
                ensure_private_file(path)
                for suffix in _COMPANIONS:  # SQLite would follow a link put there
                    companion = path.with_name(path.name + suffix)
                    check_replaceable(companion)
                    tighten(companion)
            self._conn = sqlite3.connect(
                path, timeout=5.0, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise HistoryError(
                    f"{path} was written by a newer burntray (schema {version}, this one "
                    f"reads {SCHEMA_VERSION}); upgrade burntray or clear the history"
                )
            self._conn.executescript(_SCHEMA)
            self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"history database {path} is unusable: {exc}") from exc
        except UnsafePathError as exc:  # names the file it is about: may be the -wal
            raise HistoryError(f"cannot open history: {exc.filename} {exc.strerror}") from exc
        except OSError as exc:
            raise HistoryError(f"cannot open history at {path}: {exc.strerror or exc}") from exc
        except UnsafeFileError as exc:
            raise HistoryError(f"cannot open history: {exc}") from exc

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            self.generation += 1

    def execute(self, sql: str, params: Iterable[object] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchall()

    def ingest_hexai(self, events: Iterable[HexaiEvent]) -> int:
        """Add events not seen before; returns how many were new. Replays add nothing."""
        rows = [ev for ev in events if ev.ts_ns >= 0]  # Go zero times never fall in a window
        if not rows:
            return 0
        with self.transaction() as conn:
            conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS staging (ts_ns INTEGER, provider TEXT, "
                "model TEXT, sent INTEGER, recv INTEGER, dup INTEGER, "
                "PRIMARY KEY (ts_ns, provider, model, sent, recv, dup)) WITHOUT ROWID"
            )
            conn.execute("DELETE FROM temp.staging")
            conn.executemany("INSERT OR IGNORE INTO temp.staging VALUES (?,?,?,?,?,?)", rows)
            conn.execute(
                "DELETE FROM temp.staging WHERE EXISTS (SELECT 1 FROM hexai_events e WHERE "
                "e.ts_ns = staging.ts_ns AND e.provider = staging.provider AND "
                "e.model = staging.model AND e.sent = staging.sent AND "
                "e.recv = staging.recv AND e.dup = staging.dup)"
            )
            new = conn.execute("INSERT INTO hexai_events SELECT * FROM temp.staging").rowcount
            conn.execute(
                "INSERT INTO hexai_minutes SELECT ts_ns / ?, provider, model, "
                "count(*), sum(sent), sum(recv) FROM temp.staging WHERE true "
                "GROUP BY 1, 2, 3 ON CONFLICT (minute, provider, model) DO UPDATE SET "
                "reqs = reqs + excluded.reqs, sent = sent + excluded.sent, "
                "recv = recv + excluded.recv",
                (NS_PER_MINUTE,),
            )
            conn.execute("DELETE FROM temp.staging")
        return int(new)

    def hexai_raw_counters(self, start_ns: int, end_ns: int) -> list[Counter]:
        """Counters from the events themselves, for ``start <= ts < end``."""
        if end_ns <= start_ns:
            return []
        with self._lock:
            rows = self._conn.execute(
                "SELECT provider, model, count(*), sum(sent), sum(recv) FROM hexai_events "
                "WHERE ts_ns >= ? AND ts_ns < ? GROUP BY provider, model",
                (start_ns, end_ns),
            ).fetchall()
        return [tuple(r) for r in rows]

    def hexai_minute_counters(self, first_minute: int, end_minute: int) -> list[Counter]:
        """Counters from the rollup, for whole minutes ``first <= minute < end``."""
        if end_minute <= first_minute:
            return []
        with self._lock:
            rows = self._conn.execute(
                "SELECT provider, model, sum(reqs), sum(sent), sum(recv) FROM hexai_minutes "
                "WHERE minute >= ? AND minute < ? GROUP BY provider, model",
                (first_minute, end_minute),
            ).fetchall()
        return [tuple(r) for r in rows]

    def hexai_counters(self, start_ns: int, end_ns: int) -> list[Counter]:
        """Exact counters for ``start <= ts < end``: rollup minutes plus raw edges."""
        first_minute = -(-start_ns // NS_PER_MINUTE)  # ceil
        end_minute = end_ns // NS_PER_MINUTE
        if end_minute <= first_minute:
            return self.hexai_raw_counters(start_ns, end_ns)
        return [
            *self.hexai_raw_counters(start_ns, first_minute * NS_PER_MINUTE),
            *self.hexai_minute_counters(first_minute, end_minute),
            *self.hexai_raw_counters(end_minute * NS_PER_MINUTE, end_ns),
        ]

    def hexai_minute_series(
        self, start_ns: int, end_ns: int
    ) -> list[tuple[int, str, str, int, int, int]]:
        """Per-minute rows ``(minute, provider, model, reqs, sent, recv)`` for charts."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT minute, provider, model, reqs, sent, recv FROM hexai_minutes "
                "WHERE minute >= ? AND minute < ? ORDER BY minute",
                (start_ns // NS_PER_MINUTE, -(-end_ns // NS_PER_MINUTE)),
            ).fetchall()
        return [tuple(r) for r in rows]

    def count_hexai_events(self) -> int:
        with self._lock:
            row = self._conn.execute("SELECT count(*) FROM hexai_events").fetchone()
        return int(row[0])

    def prune(self, before_ns: int, batch: int = PRUNE_BATCH) -> int:
        """Delete at most ``batch`` of the oldest events before ``before_ns`` (whole minutes).

        Called a little at a time from the monitor so pruning never stalls it.
        """
        cutoff_minute = before_ns // NS_PER_MINUTE
        bound = cutoff_minute * NS_PER_MINUTE
        with self.transaction() as conn:
            nth = conn.execute(
                "SELECT ts_ns FROM hexai_events ORDER BY ts_ns LIMIT 1 OFFSET ?", (batch,)
            ).fetchone()
            if nth is not None and nth[0] < bound:
                bound = (nth[0] // NS_PER_MINUTE) * NS_PER_MINUTE
            removed = conn.execute("DELETE FROM hexai_events WHERE ts_ns < ?", (bound,)).rowcount
            conn.execute("DELETE FROM hexai_minutes WHERE minute < ?", (bound // NS_PER_MINUTE,))
        return int(removed)

    def clear_usage(self, tables: Iterable[str] = ()) -> dict[str, int]:
        """Remove all usage history (``USAGE_TABLES`` and ``tables``); returns rows removed per
        table. Alert state and other state tables are kept; the sources' resume states are
        dropped and ``CLEARED_KEY`` counts the clear, so every source reads its upstream anew."""
        removed: dict[str, int] = {}
        with self.transaction() as conn:
            for table in dict.fromkeys([*USAGE_TABLES, *tables]):
                # tables registered by sources are created on first use: skip absent ones
                if conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
                ).fetchone():
                    removed[table] = conn.execute(f"DELETE FROM {table}").rowcount  # noqa: S608
            # the resume states go with the records they point past, in the same transaction
            conn.execute(
                "DELETE FROM meta WHERE substr(key, 1, ?) = ?",
                (len(RESUME_STATE_PREFIX), RESUME_STATE_PREFIX),
            )
            conn.execute(
                "INSERT INTO meta VALUES (?, '1') ON CONFLICT (key) DO UPDATE SET "
                "value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)",
                (CLEARED_KEY,),
            )
        return removed

    def get_meta(self, key: str) -> str | None:
        rows = self.execute("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = "
                "excluded.value",
                (key, value),
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class HistoryWindow:
    """Repeated window queries at a sliding cutoff, cheap: the whole-minute middle is cached.

    The monitor asks every poll for ``[now - window, coverage)``; only the partial minutes at
    the edges are re-queried (a short index range), the middle only when a minute boundary is
    crossed or the history changed.
    """

    def __init__(self, store: HistoryStore, source: str) -> None:
        self.store = store
        self.source = source
        self._key: tuple[int, int, int] | None = None
        self._middle: list[Counter] = []

    def counters(self, start_ns: int, end_ns: int) -> list[Counter]:
        first_minute = -(-start_ns // NS_PER_MINUTE)
        end_minute = end_ns // NS_PER_MINUTE
        if end_minute <= first_minute:
            return self.store.hexai_raw_counters(start_ns, end_ns)
        key = (first_minute, end_minute, self.store.generation)
        if key != self._key:
            self._middle = self.store.hexai_minute_counters(first_minute, end_minute)
            self._key = key
        return [
            *self.store.hexai_raw_counters(start_ns, first_minute * NS_PER_MINUTE),
            *self._middle,
            *self.store.hexai_raw_counters(end_minute * NS_PER_MINUTE, end_ns),
        ]
