"""The monitor: one worker thread that follows the chosen source and publishes Snapshots.

It never touches any UI: it only puts frozen Snapshots into a ``LatestSlot`` and calls
observers (alerts) with them. It waits on an ``Event`` so refresh requests, settings changes and
shutdown are immediate; when nothing changes it costs one ``stat`` and a few bisects a tick.

A source whose every change wakes the monitor (hexai's cache folder under inotify) is not looked
at every ``poll_interval``: new data arrives through the wake-up at once, and what time alone
moves (events leaving the window, the alert windows, the day's budget) is recomputed every
``WATCHED_POLL_S``. Idle, that is one wake-up of the monitor (and so of the tray's
dispatcher) every 5 s instead of every second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from msgspec.structs import replace

from burntray.config import Settings
from burntray.config_values import CALENDAR_WINDOWS
from burntray.lazylog import get_logger
from burntray.model.snapshot import Snapshot, SourceStatus, stale_if_from_history
from burntray.model.timefmt import NS_PER_DAY
from burntray.runtime.last_use import LastUse
from burntray.runtime.slot import LatestSlot
from burntray.runtime.state_log import SourceStateLog
from burntray.sources.base import Source, wakes_on_change, with_limits
from burntray.store.history import HistoryStore

log = get_logger(__name__)

PRUNE_EVERY_S = 60.0
# Between ticks while the source wakes the monitor on every change: a window's edge and the
# alert windows move at most this late (a new event still shows at once).
WATCHED_POLL_S = 5.0

SourceBuilder = Callable[[Settings], Source]
Observer = Callable[[Snapshot], None]
# An enricher sees the window's Snapshot and the live source (to ask it for other windows, e.g.
# the alert engine's 5 min rate and 1 h baseline) and returns the Snapshot to publish.
Enricher = Callable[[Snapshot, Source], Snapshot]


class Monitor:
    def __init__(
        self,
        settings: Settings,
        build_source: SourceBuilder,
        slot: LatestSlot[Snapshot] | None = None,
        history: HistoryStore | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.slot: LatestSlot[Snapshot] = slot if slot is not None else LatestSlot()
        self.history = history
        # enrichers run first (e.g. alerts set alert_level), then the slot, then observers
        self.enrichers: list[Enricher] = []
        self.observers: list[Observer] = []
        self._build_source = build_source
        self._clock_ns = clock_ns
        self._settings = settings
        self._settings_changed = True
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._source: Source | None = None
        self._source_key: str | None = None
        self._next_prune = 0.0
        self._state_log = SourceStateLog()  # each source's health changes, into the log
        self._last_use = LastUse(history)  # an empty window says when the last use was

    # --- called from any thread -------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="burntray-monitor", daemon=True)
        self._thread.start()

    def update_settings(self, settings: Settings) -> None:
        with self._lock:
            self._settings = settings
            self._settings_changed = True
        self._wake.set()

    def refresh(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread and release the source (also when only ``tick`` was ever called)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)  # the thread closes the source on its way out
        elif self._source is not None:
            self._source.close()
            self._source = None

    @property
    def source(self) -> Source | None:
        """The source being followed (None before the first tick), for watchers of its
        progress; it may be mid-poll on the monitor thread."""
        return self._source

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # --- the worker ---------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                interval = self.tick()
                self._wake.wait(interval)
                self._wake.clear()
        finally:
            if self._source is not None:
                self._source.close()

    def tick(self) -> float:
        """One round: (re)build the source if settings changed, poll, publish. Never raises."""
        with self._lock:
            settings, changed = self._settings, self._settings_changed
            self._settings_changed = False
        now = self._clock_ns()
        try:
            source = self._ensure_source(settings, changed)
            source.poll()
            snapshot = stale_if_from_history(source.snapshot(settings.window_ns_at(now), now))
            snapshot = with_limits(snapshot, source)
            if settings.window in CALENDAR_WINDOWS:
                snapshot = replace(snapshot, window_name=settings.window)
        except Exception as exc:  # a worker crash must show as an error, not a dead icon
            log.exception("monitor tick failed")
            snapshot = Snapshot(
                source=self._source.name if self._source else settings.source,
                window_ns=settings.window_ns_at(now),
                as_of_ns=now,
                status=SourceStatus("error", f"internal error: {exc!r}", stale=True),
            )
        if self._source is not None:
            try:  # an extra for an empty window: never the reason a tick shows an error
                snapshot = self._last_use(snapshot, self._source, settings.window)
            except Exception:
                log.exception("last use lookup failed")
            for enricher in list(self.enrichers):
                try:
                    snapshot = enricher(snapshot, self._source)
                except Exception:
                    log.exception("enricher %r failed", enricher)
        self.slot.put(snapshot)
        try:
            self._state_log(snapshot)
        except Exception:
            log.exception("source state log failed")
        for observer in list(self.observers):
            try:
                observer(snapshot)
            except Exception:
                log.exception("observer %r failed", observer)
        self._maybe_prune(settings)
        return self._interval(settings)

    def _interval(self, settings: Settings) -> float:
        """Seconds until the next tick when nothing wakes the monitor earlier."""
        source = self._source
        if source is not None and wakes_on_change(source):
            return max(settings.poll_interval_s, WATCHED_POLL_S)
        return settings.poll_interval_s

    def _ensure_source(self, settings: Settings, settings_changed: bool) -> Source:
        # rebuilt when the source or any source's own setting changes (its dir, URL, ...)
        key = f"{settings.source}|{sorted(settings.source_options.items())}"
        if self._source is None or (settings_changed and key != self._source_key):
            if self._source is not None:
                self._source.close()
                self._source = None
            self._source = self._build_source(settings)
            self._source_key = key
            self._source.start(self._wake.set)
        return self._source

    def _maybe_prune(self, settings: Settings) -> None:
        if self.history is None or time.monotonic() < self._next_prune:
            return
        self._next_prune = time.monotonic() + PRUNE_EVERY_S
        try:
            cutoff = self._clock_ns() - settings.history_retention_days * NS_PER_DAY
            self.history.prune(cutoff)  # every table that declares how, records included
        except Exception:
            log.exception("history prune failed")
