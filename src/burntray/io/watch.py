"""Wake the monitor the moment a file in a folder is replaced.

Linux: inotify, read here directly. macOS and Windows: watchdog's observer (FSEvents,
ReadDirectoryChangesW; ``burntray.io.watch_portable``), when it is installed. Purely an
accelerator: the monitor's poll still finds every change, so where neither can watch (no
watchdog, some network filesystems) or the folder does not exist yet, burntray only loses the
head start, never a change. Idle, the watcher thread blocks on the OS's events and costs
nothing; hexai's atomic rename of ``stats.json`` is one ``IN_MOVED_TO`` event.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import select
import struct
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from burntray.lazylog import get_logger

if TYPE_CHECKING:
    from burntray.io.watch_portable import ObserverWatch

log = get_logger(__name__)

INOTIFY, WATCHDOG = "inotify", "watchdog"

IN_CLOSE_WRITE = 0x008
IN_MOVED_TO = 0x080
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_IGNORED = 0x8000  # the watch is gone (folder deleted or moved)
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
WATCH_MASK = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len (then len bytes of name)
_GONE = IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED
_libc: ctypes.CDLL | None = None


def load_libc() -> ctypes.CDLL:
    global _libc  # noqa: PLW0603 - loaded once, on first use
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    return _libc


def read_events(fd: int, stop_r: int, handle: Callable[[bytes], bool]) -> None:
    """Read inotify events from ``fd`` until ``stop_r`` is readable or ``handle(data)`` returns
    True. Blocks in ``select`` between events, so an idle watcher costs nothing. OSError (the
    fd closed under us) propagates to the caller, which owns the descriptors."""
    while True:
        ready, _, _ = select.select([fd, stop_r], [], [])
        if stop_r in ready:
            return
        try:
            data = os.read(fd, 64 * 1024)
        except BlockingIOError:
            continue
        if handle(data):
            return


def inotify_events(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(mask, name) of each inotify event in ``data``, what one read of the inotify fd gave
    (each event: wd, mask, cookie, len, then len bytes of name padded with NULs)."""
    offset = 0
    while offset + _EVENT.size <= len(data):
        _wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
        yield mask, data[offset + _EVENT.size : offset + _EVENT.size + length].rstrip(b"\0")
        offset += _EVENT.size + length


def default_backend() -> str:
    """inotify on Linux (no dependency, no thread but the reader's), watchdog elsewhere."""
    return INOTIFY if sys.platform.startswith("linux") else WATCHDOG


def portable_watch(on_event: Callable[[str, str, bool], None], name: str) -> ObserverWatch | None:
    """A started watchdog observer, or None where watchdog is not installed (then: polling)."""
    try:
        from burntray.io.watch_portable import ObserverWatch  # noqa: PLC0415 - only off Linux
    except ImportError as exc:
        log.debug("no watchdog, polling: %s", exc)
        return None
    watch = ObserverWatch(on_event, name)
    watch.start()
    return watch


class FolderWatcher:
    """Calls ``on_change`` (from its own thread) when one of ``names`` in ``folder`` changes,
    or any file whose name ends with one of ``suffixes``.

    ``backend`` is ``inotify`` or ``watchdog`` (default: ``default_backend()``)."""

    def __init__(
        self,
        folder: Path,
        names: frozenset[str],
        on_change: Callable[[], None],
        backend: str | None = None,
        suffixes: tuple[str, ...] = (),
    ) -> None:
        self.folder = folder
        self.names = frozenset(os.fsencode(n) for n in names)
        self.suffixes = tuple(os.fsencode(x) for x in suffixes)
        self.on_change = on_change
        self.backend = backend or default_backend()
        self._fd = -1
        self._stop_r = self._stop_w = -1
        self._thread: threading.Thread | None = None
        self._portable: ObserverWatch | None = None
        self._gone = False  # the watched folder went away (watchdog backend)

    @property
    def active(self) -> bool:
        if self._portable is not None:
            return self._portable.active and not self._gone
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> bool:
        """Start watching; False (and nothing running) when it cannot watch here."""
        if self.active:
            return True
        self.stop()  # release what an ended watch (folder deleted) left behind
        if not self.folder.is_dir():
            return False
        if self.backend == WATCHDOG:
            return self._start_portable()
        if self.backend != INOTIFY or not sys.platform.startswith("linux"):
            return False
        try:
            libc = load_libc()
            fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
            if fd < 0:
                return False
            if libc.inotify_add_watch(fd, os.fsencode(self.folder), WATCH_MASK) < 0:
                os.close(fd)
                return False
        except (OSError, AttributeError) as exc:
            log.debug("no inotify for %s: %s", self.folder, exc)
            return False
        self._fd = fd
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="burntray-watch", daemon=True)
        self._thread.start()
        return True

    def _run(self) -> None:
        try:
            read_events(self._fd, self._stop_r, self._handle)
        except OSError as exc:  # the folder went away, or the fd was closed under us
            log.debug("watcher for %s stopped: %s", self.folder, exc)
        finally:
            os.close(self._fd)
            os.close(self._stop_r)

    def _handle(self, data: bytes) -> bool:
        changed, gone = self.scan(data)
        if changed or gone:
            self.on_change()
        return gone  # the folder itself went away: the next poll starts a new watch

    def scan(self, data: bytes) -> tuple[bool, bool]:
        """(one of our names changed, the watched folder is gone)."""
        changed = gone = False
        for mask, name in inotify_events(data):
            gone = gone or bool(mask & _GONE)
            changed = changed or self.ours(name)
        return changed, gone

    def ours(self, name: bytes) -> bool:
        """Whether a change to the file ``name`` (in the folder) is one to tell."""
        return name in self.names or (bool(self.suffixes) and name.endswith(self.suffixes))

    def _start_portable(self) -> bool:
        def on_event(kind: str, path: str, is_dir: bool) -> None:  # the observer's thread
            changed, gone = self.portable_change(kind, path, is_dir)
            if gone:
                self._gone = True  # inactive now: the next poll starts a new watch
            if changed or gone:
                self.on_change()

        watch = portable_watch(on_event, "burntray-watch")
        if watch is None:
            return False
        self._portable, self._gone = watch, False
        problem = watch.add(os.fsdecode(os.path.abspath(self.folder)))
        if problem:
            log.debug("cannot watch %s: %s", self.folder, problem)
            self.stop()
            return False
        return True

    def portable_change(self, kind: str, path: str, is_dir: bool) -> tuple[bool, bool]:
        """(one of our names changed, the watched folder is gone) for one watchdog event."""
        folder = os.path.abspath(self.folder)
        # FSEvents names paths with their links resolved (macOS's /var is /private/var)
        ours = path in (folder, os.path.realpath(folder))
        gone = is_dir and ours and kind in ("deleted", "moved")
        return self.ours(os.fsencode(os.path.basename(path))), gone

    def stop(self, timeout: float = 2.0) -> None:
        if self._portable is not None:
            self._portable.stop(timeout)
            self._portable = None
        if self._thread is None:
            return
        with contextlib.suppress(OSError):  # the thread may have ended already
            os.write(self._stop_w, b"x")
        self._thread.join(timeout)
        os.close(self._stop_w)
        self._thread = None
