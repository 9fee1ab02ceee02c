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
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from pathlib import Path

from burntray.bounded_read import UnsafeFileError, check_regular_file, open_regular_file

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 0.05
# A store in error is read again after this long even when nothing about its files changed
# (a lock can be released without a write).
RETRY_NS = 5 * 1_000_000_000

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


def table_names(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
