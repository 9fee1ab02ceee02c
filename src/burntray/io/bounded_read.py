"""Reading other tools' files safely: regular files only, never blocking, never unbounded.

Every file burntray reads comes from a path a user or another tool controls. A symlink to
``/dev/zero`` must not fill memory, a FIFO must not hang a thread, a directory where a file
should be must not raise an unexpected error. So every read here:

- resolves symlinks and accepts only a regular file (checked on the opened descriptor, so a
  swap between the check and the open cannot slip a device in);
- opens with ``O_NONBLOCK`` where the OS has it (a FIFO opened for reading would otherwise block
  until a writer appears; for regular files the flag changes nothing);
- refuses a file larger than the caller's cap, and stops reading at the cap even if the file grows
  while it is read.

Errors are ``UnsafeFileError`` with a message that names the path and the reason.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from burntray.errors import BurntrayError
from burntray.io.atomic import kind_of

MiB = 1024 * 1024
# The largest stats.json, price file or other whole file burntray reads at once. hexai's 100k
# events are ~11 MB, a LiteLLM price file ~1.5 MB: 512 MiB leaves room and still bounds memory.
MAX_WHOLE_FILE_BYTES = 512 * MiB
_READ_CHUNK = 4 * MiB
_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


class UnsafeFileError(BurntrayError):
    """A file cannot be read safely; ``reason`` is short, ``str()`` names the path too."""

    def __init__(self, path: Path | str, reason: str, *, missing: bool = False) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
        self.missing = missing


def _describe_os_error(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "does not exist"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.ELOOP:
        return "too many levels of symbolic links"
    if exc.errno == errno.ENOTDIR:
        return "a parent of it is not a directory"
    return exc.strerror or str(exc)


def _open_fd(path: Path | str, max_bytes: int | None) -> tuple[int, int]:
    """A descriptor of ``path`` opened for reading if it is (or links to) a regular file
    within the cap, and the file's size then. Raises ``UnsafeFileError``."""
    try:
        fd = os.open(path, _FLAGS)
    except OSError as exc:
        if exc.errno == errno.EISDIR:  # Windows refuses to open directories this way
            raise UnsafeFileError(path, "is a directory, not a file") from None
        raise UnsafeFileError(
            path, _describe_os_error(exc), missing=exc.errno == errno.ENOENT
        ) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFileError(path, f"is {kind_of(info.st_mode)}, not a regular file")
        if max_bytes is not None and info.st_size > max_bytes:
            raise UnsafeFileError(
                path,
                f"is {info.st_size:,} bytes, over the {max_bytes:,}-byte limit for this file",
            )
    except BaseException:
        os.close(fd)
        raise
    return fd, info.st_size


def open_regular_file(path: Path, max_bytes: int | None = MAX_WHOLE_FILE_BYTES) -> BinaryIO:
    """Open ``path`` for binary reading if it is (or links to) a regular file within the cap.

    ``max_bytes=None`` means no size cap (for append-only logs read incrementally, where the
    caller bounds each read). Raises ``UnsafeFileError``.
    """
    fd, _size = _open_fd(path, max_bytes)
    try:
        return os.fdopen(fd, "rb", buffering=0)
    except BaseException:
        os.close(fd)
        raise


def read_regular_file(path: Path | str, max_bytes: int = MAX_WHOLE_FILE_BYTES) -> bytes:
    """The whole content of a regular file of at most ``max_bytes``. Raises ``UnsafeFileError``.

    Read on the bare descriptor, the size ``fstat`` gave and one byte more asked for at once:
    a read that returns less, and all of that size, has met the end, so a file that did not
    grow takes one read. Agents that keep a file per session have a first scan read 20,000 of them,
    where a file object and a second read per file cost more than the reading."""
    fd, size = _open_fd(path, max_bytes)
    try:
        chunks: list[bytes] = []
        total = 0
        want = min(size + 1, _READ_CHUNK)
        while True:
            asked = min(want, max_bytes + 1 - total)
            try:
                chunk = os.read(fd, asked)
            except OSError as exc:
                raise UnsafeFileError(path, f"read failed: {_describe_os_error(exc)}") from None
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:  # it grew past the cap while we read
                raise UnsafeFileError(path, f"grew past the {max_bytes:,}-byte limit while read")
            if len(chunk) < asked and total == size:
                break  # the size fstat gave, and less than asked for: the end
            want = _READ_CHUNK
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    finally:
        os.close(fd)


def check_regular_file(path: Path) -> os.stat_result:
    """``stat`` of ``path`` (symlinks followed) if it is a regular file, for files opened by
    another library (SQLite). Raises ``UnsafeFileError``."""
    try:
        info = path.stat()
    except OSError as exc:
        raise UnsafeFileError(
            path, _describe_os_error(exc), missing=exc.errno == errno.ENOENT
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise UnsafeFileError(path, f"is {kind_of(info.st_mode)}, not a regular file")
    return info
