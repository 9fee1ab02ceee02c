"""History: what burntray has seen, kept in SQLite so windows can outlast the upstreams.

Upstreams prune their own stores (hexai after 1 h by default); the history keeps what burntray
saw for ``retention_days`` (default 90), so 6 h, 24 h and 7 d windows work. This module holds
only what every source shares: the connection, transactions, the meta table (resume states,
the clear counter), clearing and pruning. The tables themselves are declared in
``store.schema`` (burntray's own) and in each source's ``SourceSpec.history_tables`` (its own),
and are built and migrated there.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from burntray.io.atomic import UnsafePathError, check_replaceable
from burntray.io.bounded_read import UnsafeFileError
from burntray.paths import ensure_dir, ensure_private_file, tighten
from burntray.store.schema import GENERIC_TABLES, SCHEMA_VERSION, HistoryError, TableSchema, migrate

__all__ = ["CLEARED_KEY", "RESUME_STATE_PREFIX", "HistoryError", "HistoryStore"]

PRUNE_BATCH = 5000

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

    def __init__(self, path: Path, tables: Iterable[TableSchema] = ()) -> None:
        """Open (creating) the database at ``path`` and bring burntray's tables and ``tables``
        (the sources' declared ones) up to date in one transaction."""
        self.path = path
        self._tables: dict[str, TableSchema] = {}
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
                    f"written by a newer burntray (schema {version}, this one reads "
                    f"{SCHEMA_VERSION}); upgrade burntray or clear the history"
                )
            self.require((*GENERIC_TABLES, *tables), user_version=SCHEMA_VERSION)
        except HistoryError as exc:  # of a newer burntray: nothing was changed
            self._conn.close()
            raise HistoryError(f"{path}: {exc}") from exc
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

    def require(self, tables: Iterable[TableSchema], user_version: int | None = None) -> None:
        """Make sure ``tables`` exist at their declared version (a cheap no-op for tables this
        store already brought up to date). Raises ``HistoryError`` for a newer table."""
        with self._lock:
            missing = [t for t in tables if self._tables.get(t.name) != t]
            if not missing and user_version is None:
                return
            with self.transaction() as conn:
                migrate(conn, missing)
                if user_version is not None:
                    conn.execute(f"PRAGMA user_version={int(user_version)}")
            self._tables.update((t.name, t) for t in missing)

    @property
    def tables(self) -> tuple[TableSchema, ...]:
        """The tables this store has brought up to date."""
        with self._lock:
            return tuple(self._tables.values())

    def execute(self, sql: str, params: Iterable[object] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchall()

    def prune(self, before_ns: int, batch: int = PRUNE_BATCH) -> int:
        """Drop at most ``batch`` of the oldest rows before ``before_ns`` from every table that
        declares how (``TableSchema.prune``); returns how many went.

        Called a little at a time from the monitor so pruning never stalls it.
        """
        pruners = [t.prune for t in self.tables if t.prune is not None]
        if not pruners:
            return 0
        with self.transaction() as conn:
            return sum(prune(conn, before_ns, batch) for prune in pruners)

    def clear_usage(self) -> dict[str, int]:
        """Remove all usage history (every table declared ``usage`` that this store brought up:
        burntray's and the sources' it was opened with or asked for); returns rows removed per
        table. Alert state and other state tables are kept; the sources' resume states are
        dropped and ``CLEARED_KEY`` counts the clear, so every source reads its upstream anew."""
        removed: dict[str, int] = {}
        with self.transaction() as conn:
            for table in [t.name for t in self._tables.values() if t.usage]:
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
