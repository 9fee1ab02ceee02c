"""History: what burntray has seen, kept in SQLite so windows can outlast the upstreams.

Upstreams prune their own stores (hexai after 1 h by default); the history keeps what burntray
saw for ``retention_days`` (default 90), so 6 h, 24 h and 7 d windows work. This module holds
only what every source shares: the connection, transactions, the meta table (resume states,
the clear counter), clearing and pruning. The tables themselves are declared in
``store.schema`` (burntray's own) and in each source's ``SourceSpec.history_tables`` (its own),
and are built and migrated there.

WAL checkpoints: SQLite copies the WAL back into the database inside the commit that crosses
``wal_autocheckpoint`` (1,000 pages: 16 MB of a new history's 16 KiB pages), so one commit waits
for it (20-40 ms at 4 MB) - the slow tail of the OTLP receiver's request -> snapshot latency. A
long-running process (the tray, the terminal view, ``serve``) calls ``start_checkpointer``: the
writer stops checkpointing and a thread with a connection of its own does it beside the writes (a
PASSIVE checkpoint after commits, which never blocks the writer), truncates the WAL once the writes
pause, and bounds it: past ``wal_hard_bytes`` the thread copies the rest with the writer held off,
and past twice that (the thread starved) the writer truncates it itself. Short commands
(``status``) start no thread and keep SQLite's own checkpoints.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from burntray.io.atomic import UnsafePathError, check_replaceable
from burntray.io.bounded_read import UnsafeFileError
from burntray.lazylog import get_logger
from burntray.paths import ensure_dir, ensure_private_file, tighten
from burntray.store.schema import (
    GENERIC_TABLES,
    SCHEMA_VERSION,
    HistoryError,
    TableSchema,
    migrate,
)

__all__ = ["CLEARED_KEY", "RESUME_STATE_PREFIX", "HistoryError", "HistoryStore"]

log = get_logger(__name__)

PRUNE_BATCH = 5000

# The background checkpointer (see the module's docstring). Its thread wakes every TICK: after
# commits it runs a PASSIVE checkpoint; once no commit came for IDLE it truncates the WAL. Past
# HARD bytes of WAL it copies what is left with the writer held off (the writer waits for that
# one), and the writer itself truncates past twice HARD, so the WAL cannot grow without bound
# while the thread is starved. After a reset the writer cuts the WAL file back to SIZE_LIMIT.
CHECKPOINT_TICK_S = 0.2
CHECKPOINT_IDLE_S = 1.0
WAL_HARD_BYTES = 16 * 1024 * 1024
WAL_SIZE_LIMIT = 8 * 1024 * 1024
# How long a TRUNCATE waits for readers and the writer before it settles for what it could copy:
# short when idle (it is tried again), longer past twice the bound and at close.
IDLE_WAIT_MS = HARD_WAIT_MS = 50
WRITER_WAIT_MS = 5000  # the writer's own busy timeout (another process's write)
# A PASSIVE checkpoint beside a busy writer never quite catches up (it commits meanwhile), and
# SQLite starts the WAL over only once every frame is copied. So once the WAL reaches
# WAL_SIZE_LIMIT, the last few frames (at most CATCH_UP_FRAMES pages) are copied with the writer
# held off: a few milliseconds (the copy's fsync) that one commit in hundreds waits, where the
# forced TRUNCATE at the hard bound would stall it longer.
CATCH_UP_FRAMES = 256
CHECKPOINTER_THREAD = "burntray-history-checkpoint"

# Meta keys of a source's resume state (file offsets): cleared with the usage, so the source
# reads its upstream from the start again instead of resuming past records that are gone.
RESUME_STATE_PREFIX = "source_state:"
# Meta key counting the clears: a running source that sees it change starts reading anew.
CLEARED_KEY = "usage_cleared"
SET_META = "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"

# A new history's page size (an existing one keeps its own: WAL cannot change it). With 4 KiB a
# first scan's 240,000 records split and committed four times the pages: 1.11 s of CPU, not 0.93.
PAGE_SIZE = 16384
# The changed pages a transaction keeps in memory before writing them to the WAL ahead of its
# commit. At the cache's 2 MiB a first scan's batch of random keys (Claude Code's message ids)
# wrote the key index's pages out and read them back over and over: 2.8 s of CPU for 240,000
# records, 1.4 s of it system time; with room for a batch, 1.6 s (0.23 s), ~18 MB more at peak.
SPILL_BYTES = 32 * 1024 * 1024


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
        self._checkpointer: _Checkpointer | None = None
        self._wal = path.with_name(path.name + "-wal")
        try:
            if str(path) != ":memory:":
                ensure_dir(path.parent)
                ensure_private_file(path)
                for suffix in _COMPANIONS:  # SQLite would follow a link put there
                    companion = path.with_name(path.name + suffix)
                    check_replaceable(companion)
                    tighten(companion)
            self._conn = sqlite3.connect(
                path, timeout=WRITER_WAIT_MS / 1000, isolation_level=None, check_same_thread=False
            )
            self._conn.execute(f"PRAGMA page_size={PAGE_SIZE}")  # a new file's only
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            page = int(self._conn.execute("PRAGMA page_size").fetchone()[0])
            # N - 1: SQLite also reads N as a boolean by its low byte (2048 would turn spilling,
            # and with it any bound, off)
            self._conn.execute(f"PRAGMA cache_spill={SPILL_BYTES // page - 1}")
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
            why = f"unusable: {exc}"
            if getattr(exc, "sqlite_errorname", "") == "SQLITE_BUSY":  # e.g. a big upgrade, once
                why = "busy: another burntray process held it for over 5 s; try again"
            raise HistoryError(f"history database {path} is {why}") from exc
        except UnsafePathError as exc:  # names the file it is about: may be the -wal
            raise HistoryError(f"cannot open history: {exc.filename} {exc.strerror}") from exc
        except OSError as exc:
            raise HistoryError(f"cannot open history at {path}: {exc.strerror or exc}") from exc
        except UnsafeFileError as exc:
            raise HistoryError(f"cannot open history: {exc}") from exc

    @contextlib.contextmanager
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
            if self._checkpointer is not None:
                self._checkpointer.after_commit(self._conn)

    def changed_elsewhere(self) -> None:
        """Another connection (a writing process) changed it: caches by generation are stale."""
        with self._lock:
            self.generation += 1

    def require(self, tables: Iterable[TableSchema], user_version: int | None = None) -> None:
        """Make sure ``tables`` exist at their declared version and ``user_version`` is set (only
        when it changes: a write costs 4 disk syncs). Raises ``HistoryError`` for a newer table."""
        with self._lock:
            missing = [t for t in tables if self._tables.get(t.name) != t]
            if not missing and user_version is None:
                return
            with self.transaction() as conn:
                migrate(conn, missing)
                if user_version not in (None, conn.execute("PRAGMA user_version").fetchone()[0]):
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
        self.set_metas([(key, value)])

    def set_metas(self, items: list[tuple[str, str]]) -> None:
        """Meta keys set in one transaction (a resume state's 64 parts: one commit, not 64)."""
        with self.transaction() as conn:
            conn.executemany(SET_META, items)

    def start_checkpointer(
        self,
        tick_s: float = CHECKPOINT_TICK_S,
        idle_s: float = CHECKPOINT_IDLE_S,
        wal_hard_bytes: int = WAL_HARD_BYTES,
    ) -> bool:
        """Move WAL checkpoints off the writer onto a thread of their own (see the module's
        docstring), for a long-running process; True if it was started now (False: started
        already, an in-memory store, or it could not be set up - then said in the log and
        SQLite checkpoints as usual). Stopped by ``close``, which runs a last checkpoint."""
        with self._lock:
            if self._checkpointer is not None or str(self.path) == ":memory:":
                return False
            conn = sqlite3.connect(
                self.path, timeout=IDLE_WAIT_MS / 1000, isolation_level=None,
                check_same_thread=False,
            )  # fmt: skip
            try:
                conn.execute("PRAGMA synchronous=NORMAL")  # as the writer: the syncs it does
                page = int(conn.execute("PRAGMA page_size").fetchall()[0][0])
                self._conn.execute("PRAGMA wal_autocheckpoint=0")
                self._conn.execute(f"PRAGMA journal_size_limit={int(WAL_SIZE_LIMIT)}")
            except sqlite3.Error as exc:  # the writes go on, checkpointed as SQLite does
                conn.close()
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("PRAGMA wal_autocheckpoint=1000")
                log.warning("history: no background checkpoints: %s", exc)
                return False
            self._checkpointer = _Checkpointer(
                self, conn, page, tick_s=tick_s, idle_s=idle_s, hard_bytes=wal_hard_bytes
            )
        self._checkpointer.start()
        return True

    def hand_back_checkpoints(self) -> None:
        """The checkpointer gave up: the writer checkpoints as SQLite does by default again."""
        with self._lock:
            self._checkpointer = None
            with contextlib.suppress(sqlite3.Error):  # closed meanwhile: nothing to do
                self._conn.execute("PRAGMA wal_autocheckpoint=1000")

    @property
    def checkpointer_running(self) -> bool:
        cp = self._checkpointer
        return cp is not None and cp.is_alive()

    def close(self) -> None:
        """Stop the checkpointer (its last checkpoint empties the WAL), then the writer."""
        with self._lock:
            checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:  # outside the lock: its thread may need it to finish
            checkpointer.stop()
        with self._lock:
            self._conn.close()


class _Checkpointer(threading.Thread):
    """The thread and connection that checkpoint a ``HistoryStore``'s WAL beside its writer:
    it notices commits (its own and other processes') by ``PRAGMA data_version`` on its own
    connection, so it needs nothing from the writer but the hard bound's nudge."""

    def __init__(
        self,
        store: HistoryStore,
        conn: sqlite3.Connection,
        page_size: int,
        *,
        tick_s: float,
        idle_s: float,
        hard_bytes: int,
    ) -> None:
        super().__init__(name=CHECKPOINTER_THREAD, daemon=True)
        self._store = store
        self._conn = conn
        self._page = page_size
        self._tick_s = tick_s
        self._idle_s = idle_s
        self._hard = hard_bytes
        self._wal = store._wal
        self._stop_event = threading.Event()
        self._wake = threading.Event()  # the writer saw the WAL past the hard bound
        self._running = threading.Lock()  # one checkpoint at a time: the thread's or the writer's
        self._catch_up = min(WAL_SIZE_LIMIT, hard_bytes // 2)
        self._inline_at = 2 * hard_bytes  # WAL size at which the writer checkpoints itself
        self.rounds = 0  # checkpoints run, for tests and the log

    def after_commit(self, writer: sqlite3.Connection) -> None:
        """Called by the writer after each commit, holding the store's lock: a stat, and a
        checkpoint only when the thread is not keeping up (the WAL past twice the bound). A
        reader holding the WAL can keep it from being reset: the next try then waits until
        the WAL has doubled again, so the writer is not stalled on every commit."""
        try:
            size = os.stat(self._wal).st_size
        except OSError:
            return
        if size >= self._inline_at:
            log.debug("history: WAL at %d bytes, truncated by the writer", size)
            try:  # after the thread's checkpoint, if one runs: SQLite would refuse a second
                with self._running:
                    writer.execute(f"PRAGMA busy_timeout={HARD_WAIT_MS}")
                    busy = writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()[0][0]
                    writer.execute(f"PRAGMA busy_timeout={WRITER_WAIT_MS}")
            except sqlite3.Error as exc:  # the commit is in; the thread tries again
                log.debug("history: writer's checkpoint failed: %s", exc)
                busy = 1
            self._inline_at = 2 * size if busy else 2 * self._hard
        elif size >= self._hard:
            self._wake.set()

    def run(self) -> None:
        version = self._data_version()
        quiet_since, settled = time.monotonic(), False
        try:
            while not self._stop_event.is_set():
                hard = self._wake.wait(self._tick_s)
                if self._stop_event.is_set():
                    break
                self._wake.clear()
                now, seen = time.monotonic(), self._data_version()
                if seen != version:  # commits since the last round: copy them back
                    version, quiet_since, settled = seen, now, False
                    _busy, frames, done = self._checkpoint("PASSIVE")
                    size, left = frames * self._page, frames - done
                    hard = hard or size >= self._hard
                    if left > 0 and (hard or (size >= self._catch_up and left <= CATCH_UP_FRAMES)):
                        # the writer came in meanwhile: the rest with it held off, so its next
                        # write starts the WAL from the top again (a reader is never waited for)
                        with self._store._lock:
                            self._checkpoint("PASSIVE")
                elif not settled and now - quiet_since >= self._idle_s:
                    settled = self._checkpoint("TRUNCATE", IDLE_WAIT_MS)[0] == 0
                    quiet_since = now  # held by a reader: not again at once
        except sqlite3.Error as exc:  # a broken connection: SQLite's own checkpoints again
            log.warning("history: background checkpoints stopped (%s); the writer does them", exc)
            self._store.hand_back_checkpoints()
            self._conn.close()

    def _data_version(self) -> int:
        return int(self._conn.execute("PRAGMA data_version").fetchall()[0][0])

    def _checkpoint(self, mode: str, wait_ms: int = 0) -> tuple[int, int, int]:
        """(busy, frames in the WAL, frames copied) of one checkpoint in ``mode``."""
        with self._running:
            if wait_ms:
                self._conn.execute(f"PRAGMA busy_timeout={int(wait_ms)}")
            sql = f"PRAGMA wal_checkpoint({mode})"
            busy, frames, done = self._conn.execute(sql).fetchall()[0]
        self.rounds += 1
        return int(busy), int(frames), int(done)

    def stop(self, timeout: float = 5.0) -> None:
        """End the thread, run the last checkpoint (the WAL emptied unless a reader holds it)
        and close the connection. Bounded: a checkpoint waits at most HARD_WAIT_MS."""
        self._stop_event.set()
        self._wake.set()
        self.join(timeout)
        if self.is_alive():  # still in a checkpoint: its connection is its own to close
            log.warning("history: the checkpointer did not stop within %.0f s", timeout)
            return
        try:
            self._checkpoint("TRUNCATE", HARD_WAIT_MS)
        except sqlite3.Error as exc:  # the run already closed it, or the disk went away
            log.debug("history: last checkpoint skipped: %s", exc)
        finally:
            self._conn.close()
