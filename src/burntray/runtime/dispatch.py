"""The hand-off from the monitor to the thread that owns the tray: latest wins, coalesced.

One dispatcher thread waits for news (a new Snapshot, a settings change, a dead monitor), turns
the newest Snapshot into a view (pure), and hands the view to ``schedule`` only when it differs
from the last one handed over, at most once per ``min_interval_s`` (2 updates/s by default).
``schedule`` runs ``apply`` on the tray's own thread (``GLib.idle_add`` for GTK backends); for
backends with no event loop of their own this thread is the single, serialised updater. Idle,
the thread sleeps on an Event: no polling, so an unchanged cache costs nothing here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from burntray.lazylog import get_logger
from burntray.model.snapshot import Snapshot
from burntray.runtime.slot import LatestSlot

log = get_logger(__name__)

V = TypeVar("V")
HEALTH_CHECK_S = 5.0  # how often a silent monitor is checked for being alive


def call_now(fn: Callable[[], None]) -> None:
    fn()


class Dispatcher(Generic[V]):
    def __init__(
        self,
        slot: LatestSlot[Snapshot],
        render: Callable[[Snapshot | None], V],
        apply: Callable[[V], None],
        *,
        schedule: Callable[[Callable[[], None]], None] = call_now,
        min_interval_s: float = 0.5,
        monitor_alive: Callable[[], bool] | None = None,
        on_monitor_dead: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        health_check_s: float = HEALTH_CHECK_S,
    ) -> None:
        self._slot = slot
        self._render = render
        self._apply = apply
        self._schedule = schedule
        self._min_interval_s = min_interval_s
        self._monitor_alive = monitor_alive
        self._on_monitor_dead = on_monitor_dead
        self._clock = clock
        self._health_check_s = health_check_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_view: V | None = None
        self._has_view = False
        self._last_handoff = float("-inf")
        self._monitor_reported_dead = False
        self.handoffs = 0  # views handed to the tray (for tests and benchmarks)

    # --- any thread ----------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="burntray-dispatch", daemon=True)
        self._thread.start()

    def nudge(self, _snapshot: Snapshot | None = None) -> None:
        """Something shown may have changed (new Snapshot, settings, a message): look again.

        Takes an optional Snapshot so it can be a Monitor observer directly."""
        self._wake.set()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # --- the dispatcher thread -------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            woke = self._wake.wait(self._health_check_s)
            if self._stop.is_set():
                break
            if not woke:
                self._check_monitor()
                continue
            # Coalesce: within the rate limit, wait out the rest; later news joins this update.
            wait = self._last_handoff + self._min_interval_s - self._clock()
            if wait > 0 and self._stop.wait(wait):
                break
            self._wake.clear()
            self.run_once()

    def run_once(self) -> bool:
        """Render the newest Snapshot; hand the view over if it changed. True when handed over."""
        _version, snapshot = self._slot.get()
        try:
            view = self._render(snapshot)
        except Exception:
            log.exception("rendering the tray view failed")
            return False
        if self._has_view and view == self._last_view:
            return False
        self._last_view, self._has_view = view, True
        self._last_handoff = self._clock()
        self.handoffs += 1
        try:
            self._schedule(lambda: self._apply(view))
        except Exception:
            log.exception("handing the view to the tray failed")
        return True

    def _check_monitor(self) -> None:
        if self._monitor_alive is None or self._monitor_reported_dead:
            return
        if not self._monitor_alive():
            self._monitor_reported_dead = True
            log.error("the monitor thread stopped; showing an error state")
            if self._on_monitor_dead is not None:
                self._on_monitor_dead()
            self.run_once()
