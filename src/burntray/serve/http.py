"""The figures endpoint of ``burntray serve`` (and of the tray, when switched on):

- ``GET /metrics``: Prometheus text, or OpenMetrics when the scraper asks for it (``Accept``);
- ``GET /healthz``: 200 ``ok`` while the monitor publishes fresh figures, else 503 with why;
- ``GET /v1/status``: the ``burntray status --format json`` document of the newest tick.

It shares the OTLP receiver's bounded server (deadline per request, connection cap).
"""

from __future__ import annotations

import json
import time

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from burntray.serve.figures import BurntrayCollector, FiguresBoard
from burntray.sources.otel_receiver import (
    BoundedHandler,
    BoundedHTTPServer,
    ReceiverStats,
    is_loopback,
)

NS = 1_000_000_000
# /healthz fails when the newest figures are older than this (a stuck monitor)
STALE_AFTER_S = 120.0


class _Serving(BoundedHTTPServer):
    board: FiguresBoard
    registry: CollectorRegistry


class _Handler(BoundedHandler):
    server: _Serving
    server_version = "burntray"

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            encoder, ctype = choose_encoder(self.headers.get("Accept", ""))
            self.reply(200, encoder(self.server.registry), ctype)
        elif path == "/healthz":
            ok, why = health(self.server.board)
            self.reply(200 if ok else 503, (why + "\n").encode())
        elif path == "/v1/status":
            figures = self.server.board.get()
            if figures is None:
                self.reply(
                    503,
                    b'{"error": "no figures yet: the first read is pending"}\n',
                    "application/json",
                )
                return
            body = json.dumps(figures.status_doc, indent=2).encode() + b"\n"
            self.reply(200, body, "application/json")
        else:
            self.reply(404, b"burntray serves /metrics, /healthz and /v1/status\n")


def health(board: FiguresBoard, now_s: float | None = None) -> tuple[bool, str]:
    figures = board.get()
    if figures is None:
        return False, "starting: no figures yet"
    age = (time.time() if now_s is None else now_s) - figures.window.as_of_ns / NS
    if age > STALE_AFTER_S:
        return False, f"stale: the monitor last published {age:.0f} s ago"
    status = figures.window.status
    if not status.healthy:
        return True, f"ok (source {figures.window.source}: {status.state}: {status.detail})"
    return True, "ok"


class FiguresServer:
    """Serve ``/metrics``, ``/healthz`` and ``/v1/status`` from ``board`` on ``host:port``."""

    def __init__(self, host: str, port: int, board: FiguresBoard) -> None:
        self.host, self.port = host, port
        self.board = board
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(BurntrayCollector(board))
        self.stats = ReceiverStats()
        self._server: _Serving | None = None

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def start(self) -> None:
        """Bind and serve in a daemon thread; ``OSError`` (port in use...) to the caller."""
        self._server = _Serving((self.host, self.port), _Handler, self.stats, 10.0, 16)
        self._server.board = self.board
        self._server.registry = self.registry
        self.port = self._server.server_address[1]
        self._server.serve_in_thread("burntray-metrics")

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
