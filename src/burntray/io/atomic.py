"""Replacing a file atomically: a temp file in the same folder, fsync, rename over the target.

Readers see the old content or the new, never half of either, and a crash or a full disk leaves
the old file as it was. The temp file is created 0600 and removed on any failure; ``OSError``
propagates so each caller can say what it was writing.

A rename replaces whatever has the target's name, so it is only ever done over a regular file
(or nothing): renaming over ``/dev/null`` as root once replaced the machine's null device with
a private regular file. Anything else there (a device, a FIFO, a directory, a socket, and a
symbolic link unless the caller asks for links to be followed) is refused with
``UnsafePathError``, an ``OSError`` whose ``strerror`` says what is there.

``write_output`` is for a path the user named (``report --out``): a regular file is replaced
atomically, a character device or FIFO is written to directly (``/dev/null``, ``/dev/stdout``,
a named pipe), anything else is refused.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path


class UnsafePathError(OSError):
    """A path burntray will not write through: not a regular file where one is replaced, or
    a link or someone else's folder where burntray keeps its own files. ``strerror`` says
    what is there and ``filename`` names it, so ``cannot write X: <strerror>`` reads well."""

    def __init__(self, path: Path, what: str) -> None:
        super().__init__(errno.EINVAL, what, str(path))
        self.path = path


def kind_of(mode: int) -> str:
    """What a file of this ``st_mode`` is, in words (``"a FIFO (named pipe)"``)."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISREG(mode):
        return "a regular file"
    return "not a regular file"


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def check_replaceable(path: Path, *, follow_symlinks: bool = False) -> Path:
    """The path to rename over: ``path`` itself when it is missing or a regular file, or
    (``follow_symlinks``) the regular file a link points to. Raises ``UnsafePathError``."""
    info = _lstat(path)
    if info is None or stat.S_ISREG(info.st_mode):
        return path
    if stat.S_ISLNK(info.st_mode) and follow_symlinks:
        target = Path(os.path.realpath(path))
        real = _lstat(target)
        if real is None:
            raise UnsafePathError(path, f"is a symbolic link to {target}, which does not exist")
        if not stat.S_ISREG(real.st_mode):
            raise UnsafePathError(
                path, f"is a symbolic link to {kind_of(real.st_mode)}; only a file is replaced"
            )
        return target
    raise UnsafePathError(
        path, f"is {kind_of(info.st_mode)}, not a regular file; burntray only replaces files"
    )


def atomic_write(
    path: Path,
    data: bytes,
    *,
    temp_prefix: str | None = None,
    mode: int | None = None,
    follow_symlinks: bool = False,
    durable: bool = True,
) -> None:
    """Replace ``path`` with ``data``. ``temp_prefix`` names the temp file (default
    ``.<name>.``, hidden); ``mode`` sets the final permissions (default 0600);
    ``follow_symlinks`` replaces the file a symbolic link points to (the link stays) instead
    of refusing the link. ``durable=False`` skips the fsync, for a file that is rewritten on
    every run and whose reader passes over a bad one (a cache): readers still see the old
    content or the new, but a power cut may leave the file empty. Raises ``UnsafePathError``
    when ``path`` is not a regular file."""
    path = check_replaceable(path, follow_symlinks=follow_symlinks)
    prefix = temp_prefix if temp_prefix is not None else f".{path.name}."
    fd, tmp = _new_temp_file(path.parent, prefix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if mode is not None and hasattr(os, "fchmod"):  # the descriptor, not the name
                os.fchmod(fh.fileno(), mode)
            elif mode is not None:
                os.chmod(tmp, mode)
            if durable:
                os.fsync(fh.fileno())
        check_replaceable(path)  # again just before the rename: the shortest window we can
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


_TEMP_FLAGS = (
    os.O_RDWR
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def _new_temp_file(folder: Path, prefix: str) -> tuple[int, str]:
    """A new file in ``folder``, 0600, opened exclusively (what ``tempfile.mkstemp`` does;
    importing tempfile, with its shutil and random, cost a status line 3 ms per run)."""
    for _ in range(100):
        name = os.path.join(folder, prefix + os.urandom(6).hex())
        try:
            return os.open(name, _TEMP_FLAGS, 0o600), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(folder))


STDOUT = "-"


def write_output(path: Path, data: bytes) -> None:
    """Write ``data`` to a path the user named: a regular file (or a link to one) is replaced
    atomically (0600), a character device or FIFO is written to as it is, anything else is
    refused with ``UnsafePathError``. Other failures raise ``OSError``."""
    try:
        info = os.stat(path)  # follow links: /dev/stdout is one
    except FileNotFoundError:
        if os.path.islink(path):
            raise UnsafePathError(
                path, f"is a symbolic link to {os.path.realpath(path)}, which does not exist"
            ) from None
        atomic_write(path, data)
        return
    if stat.S_ISREG(info.st_mode):
        atomic_write(path, data, follow_symlinks=True)
        return
    if not (stat.S_ISCHR(info.st_mode) or stat.S_ISFIFO(info.st_mode)):
        raise UnsafePathError(
            path, f"is {kind_of(info.st_mode)}; give a file name, '-' or a device such as a pipe"
        )
    # No O_CREAT (nothing is made) and no O_TRUNC; a FIFO blocks until a reader opens it, as a
    # shell's ``>`` does.
    fd = os.open(path, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        opened = os.fstat(fd)
        if not (stat.S_ISCHR(opened.st_mode) or stat.S_ISFIFO(opened.st_mode)):
            raise UnsafePathError(path, f"changed to {kind_of(opened.st_mode)} while opened")
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
