"""The figures endpoint switched on and off at run time (the tray's "Serve /metrics" toggle).

``MetricsEndpoint`` is a monitor enricher (it publishes the figures, on the monitor thread, only
while the endpoint is on) and follows the settings: ``tray_metrics`` on starts the server on
``serve_metrics``, off stops it; a new address restarts it. Binding fails cleanly: the reason is
handed to ``on_error`` (the tray unticks the item and shows it), outside the endpoint's lock so
that it may switch the endpoint off again, and the app goes on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from burntray.io.hostport import split_host_port
from burntray.lazylog import get_logger

if TYPE_CHECKING:  # the server's modules (prometheus_client, http.server, the OTLP receiver
    # with protobuf) load when it is switched on: an idle tray with /metrics off never needs them
    from burntray.app import AppContext
    from burntray.config import Settings
    from burntray.model.snapshot import Snapshot
    from burntray.serve.http import FiguresServer
    from burntray.serve.run import FiguresPublisher
    from burntray.sources.base import Source

log = get_logger(__name__)


class MetricsEndpoint:
    def __init__(
        self, ctx: AppContext, on_error: Callable[[str], None] = lambda _message: None
    ) -> None:
        self._ctx = ctx
        self._on_error = on_error
        self._lock = threading.Lock()
        self._server: FiguresServer | None = None
        self._publisher: FiguresPublisher | None = None

    @property
    def address(self) -> str | None:
        with self._lock:
            return self._server.address if self._server is not None else None

    def apply(self, settings: Settings) -> None:
        """Start, stop or move the server to match ``settings`` (any thread)."""
        failure = self._apply(settings)
        if failure:
            log.warning("%s", failure)
            self._on_error(failure)

    def _apply(self, settings: Settings) -> str:
        """The reason it cannot serve as ``settings`` ask, or ""."""

        with self._lock:
            server = self._server
            wanted = settings.serve_metrics if settings.tray_metrics else None
            if server is not None and (wanted is None or wanted != server.address):
                server.close()
                self._server = self._publisher = None
            if wanted is None or self._server is not None:
                return ""
            from burntray.serve.figures import FiguresBoard  # noqa: PLC0415
            from burntray.serve.run import FiguresPublisher, figures_server  # noqa: PLC0415

            board = FiguresBoard(self._ctx.clock_ns())
            try:
                host, port = split_host_port(wanted)
                server = figures_server(settings, host, port, board)
                server.start()
            except (OSError, ValueError) as exc:
                why = getattr(exc, "strerror", None) or str(exc)
                return f"cannot serve /metrics on {wanted}: {why}"
            self._server = server
            self._publisher = FiguresPublisher(self._ctx, settings, board)
            log.info("serving /metrics on %s", server.url)
            return ""

    def __call__(self, snapshot: Snapshot, source: Source) -> Snapshot:
        with self._lock:
            publisher = self._publisher
        return snapshot if publisher is None else publisher(snapshot, source)

    def close(self) -> None:
        with self._lock:
            if self._server is not None:
                self._server.close()
            self._server = self._publisher = None
