"""Reading another tool's SQLite database without ever disturbing it.

The rules, and why:

- Read-only always (``mode=ro``): burntray never writes, migrates or locks for writing.
- Never create files in their folder. A ``mode=ro`` connection to a WAL-mode database creates
  the ``-wal`` and ``-shm`` files when they are absent (and cannot remove them again), so when a
  WAL database has no ``-wal``/``-shm`` (no writer has it open) it is opened ``immutable=1``:
  nothing is created, no lock is taken. Such a read is only valid while nobody writes, so the
  change signature (``signature``) includes those files: a writer that starts creates them,
  the signature changes, and the next read uses ``mode=ro`` with the writer's own files.
- Never hold a read transaction between polls (it would stop the writer's checkpoints): each
  refresh opens a connection, reads inside one short transaction and closes it.
- Never wait long: a busy timeout of a few milliseconds, so a locked rollback-journal database
  becomes a status ("locked by a writer"), not a stuck thread.
- Only regular files (``bounded_read.check_regular_file``): a directory, FIFO or device where
  the database should be is a named problem, not an exception.
- A WAL database whose ``-wal`` holds commits but has no ``-shm`` is held by a writer in
  ``locking_mode=EXCLUSIVE`` (its WAL index lives in that writer's memory; or such a writer
  crashed): those commits cannot be read without creating files or waiting for the writer,
  and the ``immutable=1`` read sees only what was checkpointed into the database. The figures
  are then shown as stale with that reason (``held_exclusively``), never as current.

``InPlaceSource`` is the half that every source reading such a database shares (roder, ctm).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from burntray.io.bounded_read import UnsafeFileError, check_regular_file, open_regular_file
from burntray.model.snapshot import SourceStatus

if TYPE_CHECKING:
    from burntray.store.history import HistoryStore

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 0.05
# A store in error is read again after this long even when nothing about its files changed
# (a lock can be released without a write).
RETRY_NS = 5 * 1_000_000_000

_NS_PER_MS = 1_000_000

# (st_ino, st_size, st_mtime_ns) of the db, -wal, -shm, -journal (None where absent)
Signature = tuple[tuple[int, ...] | None, ...]


class StoreProblem(Exception):
    """Why a store cannot be read now. ``state`` is "empty" (not there yet) or "error"."""

    def __init__(self, state: str, detail: str) -> None:
        super().__init__(detail)
        self.state = state
        self.detail = detail


def _stat_key(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def sidecar(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def signature(path: Path) -> Signature:
    """What changes whenever the database's content may have: four ``stat`` calls, no open.

    A commit appends to ``-wal`` (size and mtime change); a checkpoint rewrites the db; a
    writer that opens or closes the database creates or removes ``-wal``/``-shm``. Of ``-shm``
    only its identity counts: every reader, burntray included, writes its read marks there.
    """
    real = Path(os.path.realpath(path))  # SQLite keeps its -wal beside the link's target
    db, wal, shm, journal = (_stat_key(p) for p in (real, *(sidecar(real, s) for s in _SIDECARS)))
    return (db, wal, shm[:1] if shm else None, journal)


_SIDECARS = ("-wal", "-shm", "-journal")


EXCLUSIVE_NOTE = "database is held exclusively by its writer; figures may be old"
_WAL_HEADER_BYTES = 32  # a -wal longer than its header holds frames (commits)


def held_exclusively(path: Path) -> bool:
    """Whether ``path`` is a WAL database with commits in its ``-wal`` and no ``-shm`` (see the
    module rules): what an ``immutable=1`` read shows is then older than what was written."""
    real = Path(os.path.realpath(path))
    wal = _stat_key(sidecar(real, "-wal"))
    if wal is None or wal[1] <= _WAL_HEADER_BYTES or _stat_key(sidecar(real, "-shm")):
        return False
    try:
        with open_regular_file(real, None) as fh:
            header = fh.read(20)
    except UnsafeFileError:
        return False
    return header.startswith(SQLITE_MAGIC) and header[18:20] == b"\x02\x02"


def replaced(old: Signature | None, new: Signature) -> bool:
    """Whether another database file is at the path now (its inode changed)."""
    if old is None or old[0] is None or new[0] is None:
        return False
    return old[0][0] != new[0][0]


def open_readonly(path: Path, what: str) -> sqlite3.Connection:
    """A read-only connection to ``path`` (see the module rules). Raises ``StoreProblem``.

    ``what`` names the store for messages ("roder analytics database").
    """
    try:
        check_regular_file(path)
        with open_regular_file(path, None) as fh:
            header = fh.read(100)
    except UnsafeFileError as exc:
        if exc.missing:
            raise StoreProblem("empty", f"no {what} yet: {path} does not exist") from None
        raise StoreProblem("error", f"{what} {exc}") from None
    if len(header) == 0:
        raise StoreProblem("empty", f"{what} {path} is empty (not written yet)")
    if not header.startswith(SQLITE_MAGIC) or len(header) < 100:
        raise StoreProblem("error", f"{what} {path} is not a SQLite database (corrupt?)")
    wal_mode = header[18] == 2 and header[19] == 2
    real = Path(os.path.realpath(path))  # SQLite keeps its -wal beside the link's target
    has_wal = sidecar(real, "-wal").exists() and sidecar(real, "-shm").exists()
    query = "immutable=1" if wal_mode and not has_wal else "mode=ro"
    uri = "file:" + urllib.parse.quote(str(real)) + "?" + query
    try:
        conn = sqlite3.connect(
            uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise StoreProblem("error", describe_error(exc, path, what)) from None
    return conn


def describe_error(exc: sqlite3.Error, path: Path, what: str) -> str:
    """A message a user can act on for an SQLite error while reading ``path``."""
    text = str(exc)
    low = text.lower()
    if "locked" in low or "busy" in low:
        return f"{what} {path} is locked by a writer; will read again shortly"
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return f"{what} {path} is corrupt ({text})"
    if "no such table" in low or "no such column" in low:
        return f"{what} {path} does not have the expected tables ({text}); not a known version"
    if "readonly" in low or "read-only" in low:
        return f"{what} {path} needs recovery by the tool that owns it ({text})"
    if "unable to open" in low:
        return f"{what} {path} cannot be opened ({text})"
    return f"{what} {path}: {text}"


def ceil_ms(ns: int) -> int:
    """The first whole ms at or after ``ns``: a row stamped at ms ``t`` is at or after ``ns``
    exactly when ``t >= ceil_ms(ns)``, so windows over a ms-stamped store are exact to the ms in
    both directions."""
    return -((-ns) // _NS_PER_MS)


def table_names(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


class _Cache(Protocol):
    lo_ms: int | None  # the oldest ms loaded; None: nothing loaded yet


CacheT = TypeVar("CacheT", bound=_Cache)


class InPlaceSource(Generic[CacheT]):
    """The shared half of a source that reads another tool's database in place: nothing is
    copied into burntray's history (the database keeps every row), a change is noticed with four
    ``stat`` calls, each refresh is one short read transaction, and a problem becomes the status
    while the last good figures stay, marked stale. One monitor thread calls ``poll`` and
    ``snapshot``.

    A subclass sets ``name``, ``label``, ``capabilities``, ``what`` (the store in messages:
    "ctm cost database") and ``kind`` ("cost database"), and gives its cache (``_new_cache``,
    ``_update``), its schema check, its status detail and its Snapshots."""

    name: str
    label: str
    what: str
    kind: str

    def __init__(self, db_path: Path, clock_ns: Callable[[], int] = time.time_ns) -> None:
        self.db_path = db_path
        self._clock_ns = clock_ns
        self.cache = self._new_cache()
        self._signature: Signature | None = None
        self._status = SourceStatus("starting", "not read yet")
        self._last_ok_ns: int | None = None
        self._last_try_ns = 0

    # --- for subclasses ---------------------------------------------------------------------
    def _new_cache(self) -> CacheT:
        raise NotImplementedError

    def _update(self, conn: sqlite3.Connection, lo_ms: int, now: int) -> None:
        """Bring the cache up to date from ``lo_ms`` (inside the refresh's transaction)."""
        raise NotImplementedError

    def _check_schema(self, conn: sqlite3.Connection) -> str:
        """Raise ``StoreProblem`` when this is not the expected store; a note for the status
        (a newer schema, say) or ""."""
        raise NotImplementedError

    def _loaded_detail(self) -> str:
        """The status detail once a range is loaded ("1,234 turns loaded")."""
        raise NotImplementedError

    def _due(self) -> bool:
        """Whether to read an unchanged database all the same: a problem (a lock, say) is
        looked at again now and then even if nothing moved."""
        return self._status.state == "error" and self._clock_ns() - self._last_try_ns >= RETRY_NS

    # --- the Source protocol ---------------------------------------------------------------
    @property
    def status(self) -> SourceStatus:
        return self._status

    def availability(self) -> tuple[bool, str]:
        if self.db_path.is_file():
            return True, f"{self.name}: {self.db_path}"
        return False, f"{self.name}: no {self.kind} at {self.db_path}"

    def start(self, wake: Callable[[], None]) -> None:
        """Nothing runs in the background: ``poll`` notices changes with four ``stat`` calls."""

    def needs_history(self, window_ns: int, now_ns: int) -> bool:
        return False  # the upstream keeps everything itself

    def attach_history(self, history: HistoryStore) -> None:
        """Nothing to record: the upstream's database is the history."""

    def close(self) -> None:
        """Nothing is held open between polls."""

    def poll(self) -> bool:
        """Re-read only when the database (or its WAL) changed, or a re-read is due. True when
        figures may differ."""
        sig = signature(self.db_path)
        if sig == self._signature and self._status.state != "starting" and not self._due():
            return False
        if replaced(self._signature, sig):
            self.cache = self._new_cache()  # another database file at the path: read it afresh
        self._signature = sig
        self._refresh(self.cache.lo_ms)
        return True

    def _refresh(self, lo_ms: int | None) -> None:
        """Open, check the schema, update the cache (if a range is loaded), close."""
        now = self._clock_ns()
        self._last_try_ns = now
        try:
            conn = open_readonly(self.db_path, self.what)
        except StoreProblem as exc:
            self._problem(exc.state, exc.detail, now)
            return
        try:
            conn.execute("BEGIN")
            note = self._check_schema(conn)
            if lo_ms is not None:
                self._update(conn, lo_ms, now)
            conn.execute("COMMIT")
        except StoreProblem as exc:
            self._problem(exc.state, exc.detail, now)
            return
        except sqlite3.Error as exc:
            self._problem("error", describe_error(exc, self.db_path, self.what), now)
            return
        finally:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        self._last_ok_ns = now
        detail = self._loaded_detail() if self.cache.lo_ms is not None else "ok"
        if held_exclusively(self.db_path):  # read, but only up to the last checkpoint
            held = f"{self.what} {self.db_path}: {EXCLUSIVE_NOTE}"
            self._status = SourceStatus("ok", held, stale=True, last_ok_ns=now)
            return
        self._status = SourceStatus("ok", note or detail, last_ok_ns=now)

    def _problem(self, state: str, detail: str, now: int) -> None:
        if state == "empty":
            self.cache = self._new_cache()
            self._status = SourceStatus("empty", detail, False, now)
        else:
            self._status = SourceStatus("error", detail, stale=True, last_ok_ns=self._last_ok_ns)

    def _cover(self, start_ms: int) -> bool:
        """Make the cache reach back to ``start_ms`` (loading if needed); False when it cannot."""
        readable = self._status.healthy or self._status.state == "starting"
        if readable and (self.cache.lo_ms is None or start_ms < self.cache.lo_ms):
            self._signature = signature(self.db_path)
            self._refresh(start_ms)
        return self.cache.lo_ms is not None and start_ms >= self.cache.lo_ms
