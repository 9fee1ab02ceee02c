"""The watch backend where there is no inotify: watchdog's observer (FSEvents on macOS,
ReadDirectoryChangesW on Windows; on Linux it runs on inotify, which is how the tests run it).

``FolderWatcher`` and ``TreeWatcher`` use it with a filter of their own deciding which events are
a change: one watch on hexai's folder; one recursive watch per tree of agent logs (the OS's own
recursive watch where it has one: watchdog starts a thread per watch, and a tree of Claude Code
projects holds hundreds of folders).
Chosen over watchfiles for an idle tray: its threads block on the OS's events (no wake-ups when
nothing changes), it has no dependencies and small wheels, and a change reaches the callback in
about a millisecond (the measured comparison is in docs/maintainers/watching.md). Purely an
accelerator, like inotify: without watchdog (importing this module then fails, and the callers
poll), or where a folder cannot be watched, the monitor's poll still finds every change.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

from burntray.lazylog import get_logger

log = get_logger(__name__)

# (kind, path, is_dir): kind is watchdog's event type ("created", "modified", "moved",
# "deleted", "closed", ...); a move is reported twice, as its source and its destination path.
EventSink = Callable[[str, str, bool], None]


class ObserverWatch:
    """A watchdog observer and its folder watches; ``on_event`` runs on the observer's thread."""

    def __init__(self, on_event: EventSink, name: str = "burntray-watchdog") -> None:
        self.on_event = on_event
        self.name = name
        self._observer: BaseObserver | None = None
        self._watches: dict[str, ObservedWatch] = {}
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return self._observer is not None and self._observer.is_alive()

    @property
    def folders(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._watches)

    def start(self) -> None:
        """Start the observer's thread (folders are added with ``add``)."""
        if self.active:
            return
        observer = Observer()
        observer.name = self.name
        observer.daemon = True
        observer.start()
        self._observer = observer

    def add(self, folder: str, recursive: bool = False) -> str:
        """Watch ``folder`` (and, ``recursive``, every folder under it); "" when watched, else
        why not."""
        observer = self._observer
        if observer is None:
            return "not started"
        with self._lock:
            if folder in self._watches:
                return ""
            try:
                self._watches[folder] = observer.schedule(
                    _Handler(self.on_event), folder, recursive=recursive
                )
            except OSError as exc:  # gone meanwhile, no permission, out of watches
                return exc.strerror or str(exc)
        return ""

    def remove(self, folder: str) -> None:
        observer = self._observer
        with self._lock:
            watch = self._watches.pop(folder, None)
        if observer is not None and watch is not None:
            with contextlib.suppress(KeyError, OSError):  # its emitter may have ended already
                observer.unschedule(watch)

    def stop(self, timeout: float = 2.0) -> None:
        observer, self._observer = self._observer, None
        with self._lock:
            self._watches.clear()
        if observer is not None:
            observer.stop()
            observer.join(timeout)


class _Handler(FileSystemEventHandler):
    """Each event's kind, each of its paths and whether it is a folder, to ``on_event``. Never
    raises into the observer's thread."""

    def __init__(self, on_event: EventSink) -> None:
        self.on_event = on_event

    def dispatch(self, event: FileSystemEvent) -> None:
        try:
            for path in (event.src_path, event.dest_path):
                if path:
                    self.on_event(event.event_type, os.fsdecode(path), event.is_directory)
        except Exception:
            log.exception("watch callback failed")
