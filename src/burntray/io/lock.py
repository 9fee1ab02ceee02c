"""hexai's advisory lock on ``stats.lock``, taken the way hexai's writers take it.

POSIX: BSD ``flock(LOCK_EX|LOCK_NB)`` (not fcntl/lockf: on Linux those do not conflict with
flock). Windows: an exclusive, fail-immediately lock on 1 byte at offset 0 (what hexai's
``LockFileEx`` call locks). Like hexai we retry every 5 ms, but only until a deadline: hexai's
writers wait forever while the lock is held, so we must hold it briefly and give up cleanly.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from burntray.errors import LockTimeoutError

RETRY_INTERVAL_S = 0.005

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EDEADLK):  # ERROR_LOCK_VIOLATION
                return False
            raise
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return False
            raise
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def exclusive_lock(lock_path: Path, timeout_s: float) -> Iterator[None]:
    """Hold hexai's lock for the block, or raise ``LockTimeoutError`` after ``timeout_s``.

    The lock file is created 0600 if missing (as hexai does) and never deleted.
    """
    fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        deadline = time.monotonic() + timeout_s
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise LockTimeoutError(
                    f"another process has held {lock_path} for over {timeout_s:g} s "
                    "(a hexai writer is mid-update or stuck); nothing was changed, try again"
                )
            time.sleep(RETRY_INTERVAL_S)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)
