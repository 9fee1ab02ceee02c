"""Wake the monitor the moment a log file in any of many folders is written.

Coding agents append to files spread over a tree of folders (a folder per project, one per
session for subagents), and create folders as they go. The source tells the watcher which
folders exist after each read (``sync``); a write, a new file or a new folder in a watched
folder calls ``on_change`` from the watcher's thread, the source then reads (and ``sync`` adds
the new folder). Linux: inotify; macOS and Windows: watchdog's observer, one watch per folder
(``burntray.io.watch_portable``). Purely an accelerator: where neither can watch (no watchdog,
some network filesystems) or inotify's watch limit is reached, the monitor's periodic poll
still finds every change; only the head start is lost. Idle, the thread blocks on the OS's
events and costs nothing.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from burntray.io.watch import (
    IN_CLOEXEC,
    IN_CLOSE_WRITE,
    IN_CREATE,
    IN_DELETE,
    IN_DELETE_SELF,
    IN_MOVE_SELF,
    IN_MOVED_TO,
    IN_NONBLOCK,
    INOTIFY,
    WATCHDOG,
    default_backend,
    inotify_events,
    load_libc,
    portable_watch,
    read_events,
)
from burntray.lazylog import get_logger

if TYPE_CHECKING:
    from burntray.io.watch_portable import ObserverWatch

log = get_logger(__name__)

_IN_MODIFY = 0x002
_IN_ISDIR = 0x40000000
_MASK = (
    _IN_MODIFY
    | IN_CLOSE_WRITE
    | IN_MOVED_TO
    | IN_CREATE
    | IN_DELETE
    | IN_DELETE_SELF
    | IN_MOVE_SELF
)


class TreeWatcher:
    """Calls ``on_change`` when a ``suffix`` file or a folder changes in a watched folder.

    ``backend`` is ``inotify`` or ``watchdog`` (default: ``default_backend()``)."""

    def __init__(
        self,
        on_change: Callable[[], None],
        suffix: str | tuple[str, ...] = ".jsonl",
        backend: str | None = None,
    ) -> None:
        self.on_change = on_change
        suffixes = (suffix,) if isinstance(suffix, str) else suffix
        self.suffix = tuple(os.fsencode(s) for s in suffixes)
        self.backend = backend or default_backend()
        self._portable: ObserverWatch | None = None
        self._covered = 0  # folders under the portable backend's recursive watches
        self._fd = -1
        self._stop_r = self._stop_w = -1
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._watches: dict[str, int] = {}  # folder -> watch descriptor
        self.problem = ""

    @property
    def active(self) -> bool:
        if self._portable is not None:
            return self._portable.active
        return self._thread is not None and self._thread.is_alive()

    @property
    def watched(self) -> int:
        """How many folders a change is seen in."""
        if self._portable is not None:
            return self._covered
        return len(self._watches)

    def start(self) -> bool:
        """Start the watcher thread; False (nothing running) where it cannot watch here."""
        if self.active:
            return True
        if self.backend == WATCHDOG:
            suffixes = tuple(os.fsdecode(s) for s in self.suffix)

            def on_event(kind: str, path: str, is_dir: bool) -> None:  # the observer's thread
                if is_dir or path.endswith(suffixes):
                    self.on_change()

            self._portable = portable_watch(on_event, "burntray-tree-watch")
            return self._portable is not None
        if self.backend != INOTIFY or not sys.platform.startswith("linux"):
            return False
        try:
            fd = load_libc().inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        except (OSError, AttributeError) as exc:
            log.debug("no inotify: %s", exc)
            return False
        if fd < 0:
            return False
        self._fd = fd
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="burntray-tree-watch", daemon=True)
        self._thread.start()
        return True

    def sync(self, folders: Iterable[str]) -> int:
        """Watch exactly the folders that exist now (cheap when nothing changed); returns how
        many were added (a file written in one before its watch existed raised no event)."""
        if not self.active:
            return 0
        if self._portable is not None:
            return self._sync_portable(self._portable, set(folders))
        added = 0
        wanted = set(folders)
        with self._lock:
            libc = load_libc()
            for folder in [f for f in self._watches if f not in wanted]:
                libc.inotify_rm_watch(self._fd, self._watches.pop(folder))
            for folder in wanted:
                if folder in self._watches:
                    continue
                wd = libc.inotify_add_watch(self._fd, os.fsencode(folder), _MASK)
                if wd < 0:
                    err = os.strerror(ctypes_errno())
                    self.problem = f"cannot watch {folder}: {err}; polling instead"
                    continue
                self._watches[folder] = wd
                added += 1
        return added

    def _sync_portable(self, watch: ObserverWatch, wanted: set[str]) -> int:
        """One recursive watch per tree: on each listed folder no other listed folder holds."""
        self._covered = len(wanted)
        tops = {f for f in wanted if not any(_inside(f, other) for other in wanted)}
        added = 0
        for folder in [f for f in watch.folders if f not in tops]:
            watch.remove(folder)
        for folder in tops - set(watch.folders):
            problem = watch.add(folder, recursive=True)
            if problem:
                self.problem = f"cannot watch {folder}: {problem}; polling instead"
            else:
                added += 1
        return added

    def _handle(self, data: bytes) -> bool:
        if self._relevant(data):
            self.on_change()
        return False  # a tree watch ends only when stopped

    def _run(self) -> None:
        try:
            read_events(self._fd, self._stop_r, self._handle)
        except OSError as exc:
            log.debug("tree watcher stopped: %s", exc)
        finally:
            with self._lock:
                os.close(self._fd)
                os.close(self._stop_r)
                self._watches.clear()

    def _relevant(self, data: bytes) -> bool:
        return any(
            mask & (_IN_ISDIR | IN_DELETE_SELF | IN_MOVE_SELF) or name.endswith(self.suffix)
            for mask, name in inotify_events(data)
        )

    def stop(self, timeout: float = 2.0) -> None:
        if self._portable is not None:
            self._portable.stop(timeout)
            self._portable = None
        if self._thread is None:
            return
        with contextlib.suppress(OSError):
            os.write(self._stop_w, b"x")
        self._thread.join(timeout)
        os.close(self._stop_w)
        self._thread = None


def ctypes_errno() -> int:
    import ctypes  # noqa: PLC0415

    return ctypes.get_errno()


def _inside(folder: str, other: str) -> bool:
    """``folder`` is a proper subfolder of ``other``."""
    return folder != other and folder.startswith(other.rstrip(os.sep) + os.sep)
