"""The tray's side of a long read: while the monitor's source reads a GB of logs (its first
scan; one poll that lasts seconds to minutes, with no new figures meanwhile), the menu and the
tooltip say how far it has got, "reading Claude Code logs: 41 % (2.1 of 5.2 GB)".

A thread of its own asks the source (``ReportsProgress``, through ``all`` too) every
``EVERY_S`` and hands the controller what changed; the monitor thread, busy reading, is never
asked for anything.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from burntray.lazylog import get_logger
from burntray.model.progress import ScanProgress
from burntray.sources.base import Source, scan_progress

log = get_logger(__name__)

EVERY_S = 0.5


class ProgressWatch:
    """``show`` gets the long reads under way whenever they change (``()`` once over)."""

    def __init__(
        self,
        source: Callable[[], Source | None],
        show: Callable[[tuple[ScanProgress, ...]], None],
        every_s: float = EVERY_S,
    ) -> None:
        self._source = source
        self._show = show
        self._every_s = every_s
        self._shown: tuple[ScanProgress, ...] = ()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> None:
        """One look: hand on the progress when it changed since the last look."""
        source = self._source()
        found = scan_progress(source) if source is not None else ()
        if found != self._shown:
            self._shown = found
            self._show(found)

    def _run(self) -> None:
        while not self._stop.wait(self._every_s):
            try:
                self.check()
            except Exception:  # the menu keeps its last line; the figures are unaffected
                log.exception("progress check failed")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="burntray-progress", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
