"""One session: the long-running parts that the tray, the terminal view and ``serve`` share,
built in one order and stopped in one order.

A ``Session`` builds the history (opened once, through the context), the monitor, the alert
engine with its notifier (or none: ``serve`` logs and exports alerts), an optional metrics part
(the tray's switchable /metrics endpoint, ``serve``'s always-on server), logging and the
SIGTERM/SIGINT handlers. What differs between the three uses comes in as parameters; the view
itself (icon loop, terminal line, HTTP wait loop) stays with its caller, which waits on
``stop_requested`` and calls ``close``.

Stopping is prompt and idempotent: a signal only sets ``stop_requested`` (safe in a handler);
``close`` joins the monitor within ``timeout``, closes the metrics part, the caller's own
closers, the notifier and the context, each once, also when one of them fails. The signal
handlers stay: a second SIGTERM during the shutdown only sets the event again, where the
default action would end the process with a code other than 0.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from burntray.lazylog import get_logger
from burntray.runtime.alerting import AlertEngine, AlertNotifier, install_alerts
from burntray.runtime.monitor import Monitor

if TYPE_CHECKING:
    from burntray.app import AppContext
    from burntray.config import Settings
    from burntray.model.snapshot import Snapshot
    from burntray.runtime.team_sender import TeamSender
    from burntray.sources.base import Source

log = get_logger(__name__)

STOP_TIMEOUT_S = 2.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# The kernel hands a signal to any thread of the process; Python runs its handler on the main
# thread only, once that thread runs again, and a main thread blocked on a lock (an Event's
# wait with no timeout) is not woken when another thread took the signal: the tray then never
# heard its SIGTERM. A main thread that waits wakes this often to let a handler run.
SIGNAL_CHECK_S = 0.5


def wait_for_stop(event: threading.Event) -> None:
    """``event.wait()`` for the main thread: a stop signal's handler still runs meanwhile,
    whichever thread the signal was given to (``SIGNAL_CHECK_S``)."""
    while not event.wait(SIGNAL_CHECK_S):
        pass


class SessionNotifier(AlertNotifier, Protocol):
    """A notifier the session owns: it delivers in the background and is closed at the end."""

    def close(self, timeout: float = STOP_TIMEOUT_S) -> None: ...


class MetricsPart(Protocol):
    """A /metrics server as a monitor enricher (it publishes each snapshot, after the alerts so
    that it exports their level) that the session closes at the end."""

    def __call__(self, snapshot: Snapshot, source: Source) -> Snapshot: ...

    def close(self) -> None: ...


class Session:
    """The monitor, history, alerts, notifier, metrics, logging and signal handlers of one run.

    ``view`` names the use in the log ("tray", "terminal", "serve"). ``notifier``: where alerts
    go (None: logged only). ``metrics``: the /metrics part, or None for none. ``verbose`` and
    ``console_warnings`` choose where the log goes besides its file (see ``setup_logging``).
    ``stop``: an event of the caller's that ends the session too (tests, an embedding program).
    """

    def __init__(
        self,
        ctx: AppContext,
        *,
        view: str,
        settings: Settings | None = None,
        notifier: SessionNotifier | None = None,
        metrics: MetricsPart | None = None,
        verbose: bool = False,
        console_warnings: bool = False,
        stop: threading.Event | None = None,
    ) -> None:
        self.ctx = ctx
        self.view = view
        self.settings = settings if settings is not None else ctx.settings
        self.notifier = notifier
        self.metrics = metrics
        self._verbose = verbose
        self._console_warnings = console_warnings
        # set by a signal, the view (Quit) or the caller's own ``stop`` event
        self.stop_requested = stop if stop is not None else threading.Event()
        self._closers: list[tuple[str, Callable[[], object]]] = []
        self._started = False
        self._logging = False
        self._closed = False
        self._close_lock = threading.Lock()
        self.monitor = Monitor(
            self.settings, ctx.build_source, history=ctx.history(), clock_ns=ctx.clock_ns
        )
        # enrichers in this order: the alert level first, then what exports it
        self.alerts: AlertEngine = install_alerts(self.monitor, ctx, notifier)
        # the hub sender's state goes into the snapshot before what exports it
        self.team = self._team_sender()
        if metrics is not None:
            self.monitor.enrichers.append(metrics)

    def _team_sender(self) -> TeamSender | None:
        """``[team] hub``: this machine's records go to the team's hub; each poll wakes it."""
        if not self.settings.option("team.hub"):
            history = self.ctx.history()
            if history is not None:  # reporting turned off: stop queuing for nobody
                from burntray.store.team import TeamOutbox  # noqa: PLC0415

                try:
                    if TeamOutbox(history).disable():
                        log.info("team: no hub configured: the queue for one is dropped")
                except Exception:  # a history that cannot be read is said where it is used
                    log.exception("team: cannot look at the queue for a hub")
            return None
        from msgspec.structs import replace  # noqa: PLC0415 - only when configured

        from burntray.model.snapshot import UpstreamFact  # noqa: PLC0415
        from burntray.runtime.team_sender import build  # noqa: PLC0415
        from burntray.sources.registry import REGISTRY  # noqa: PLC0415

        # the registry says which sources send per-minute rollups (hexai's bytes)
        sender = build(self.ctx.history(), self.settings.option, REGISTRY)
        if sender is not None:
            sender.counted = frozenset()  # no minutes before the first poll says whose count

            def wake(snapshot: Snapshot, source: Source) -> Snapshot:
                sender.follow(source)  # whose minutes go: what this machine counts
                sender.nudge()
                # said where the figures are (menu details, status JSON, /v1/status)
                fact = UpstreamFact("Team hub", sender.describe())
                return replace(snapshot, facts=(*snapshot.facts, fact))

            self.monitor.enrichers.append(wake)
        return sender

    def add_closer(self, name: str, closer: Callable[[], object]) -> None:
        """Run ``closer`` at ``close``, before the monitor is stopped (a view's own threads,
        which read the monitor), in the order added."""
        self._closers.append((name, closer))

    def start(self) -> None:
        """Logging, the signal handlers and the monitor thread, in that order. A view whose
        loop must come up first (the tray) calls the three steps itself."""
        self.setup_logging()
        self.take_signals()
        self.start_monitor()

    def setup_logging(self) -> None:
        """The log file (and stderr as ``verbose``/``console_warnings`` ask), set up once."""
        if self._logging:
            return
        self._logging = True
        from burntray.logsetup import setup_logging  # noqa: PLC0415 - long-running only

        setup_logging(self.ctx.paths, self._verbose, self._console_warnings)

    def start_monitor(self) -> None:
        """Start the monitor thread (once; never after ``close``)."""
        if self._started or self._closed:
            return
        self._started = True
        history = self.ctx.history()
        if history is not None:  # long-running: WAL checkpoints off the writer's commits
            history.start_checkpointer()
        self.monitor.start()
        if self.team is not None:
            try:
                self.team.start()
            except Exception:  # a history that cannot queue: said; the view runs on
                log.exception("%s: cannot start reporting to the team's hub", self.view)
                self.team = None
        log.info(
            "%s: started (source %s, window %s)",
            self.view,
            self.settings.source,
            self.settings.window,
        )

    def take_signals(self) -> None:
        """SIGTERM and SIGINT ask the session to stop (the handler only sets an event). Python
        allows handlers on the main thread only: elsewhere (a test, an embedding program) the
        caller's ``stop`` event is the way to end it."""
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.stop_requested.set()

    def request_stop(self) -> None:
        """Ask the view to end (any thread); ``close`` then releases everything."""
        self.stop_requested.set()

    def close(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop everything this session started, in order; a second call does nothing. One part
        that fails to stop is logged and the others are still stopped."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self.stop_requested.set()
        steps: list[tuple[str, Callable[[], object]]] = [
            *self._closers,
            ("monitor", lambda: self.monitor.stop(timeout)),
        ]
        if self.team is not None:
            team = self.team
            steps.append(("team sender", lambda: team.close(timeout)))
        if self.metrics is not None:
            steps.append(("metrics", self.metrics.close))
        if self.notifier is not None:
            notifier = self.notifier
            steps.append(("notifier", lambda: notifier.close(timeout)))
        steps.append(("context", self.ctx.close))
        for name, step in steps:
            try:
                step()
            except Exception:
                log.exception("%s: stopping the %s failed", self.view, name)
        log.info("%s: session stopped", self.view)

    @property
    def closed(self) -> bool:
        return self._closed
