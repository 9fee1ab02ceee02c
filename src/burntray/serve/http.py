"""The figures endpoint of ``burntray serve`` (and of the tray, when switched on):

- ``GET /metrics``: Prometheus text, or OpenMetrics when the scraper asks for it (``Accept``);
- ``GET /healthz``: 200 ``ok`` while the monitor publishes fresh figures and every listener
  asked for is up and counting (``checks``), else 503 with why;
- ``GET /v1/status``: the ``burntray status --format json`` document of the newest tick (the
  home directory shown as ``~`` unless the caller proved who it is with the bearer token).

It shares the OTLP receiver's bounded server (deadlines, connection cap, Host/Origin checks,
optional bearer token and TLS).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from burntray.io.http_admission import is_loopback, tls_context
from burntray.io.http_server import BoundedHandler, BoundedHTTPServer, ReceiverStats, Timeouts
from burntray.model.timefmt import NS_PER_SECOND as NS
from burntray.serve.figures import BurntrayCollector, Figures, FiguresBoard

# /healthz fails when the newest figures are older than this (a stuck monitor)
STALE_AFTER_S = 120.0

# A readiness check: (ok, why). ``burntray serve`` adds one per listener it was asked for.
HealthCheck = Callable[[], tuple[bool, str]]


class _Serving(BoundedHTTPServer):
    board: FiguresBoard
    registry: CollectorRegistry
    checks: list[HealthCheck]
    # The /v1/status body of the newest figures, encoded once for every caller: pollers (a
    # dashboard, a status bar, a watcher every few ms) cost no JSON encoding of their own,
    # which held the GIL the monitor and the OTLP receiver share (issue 22).
    status_body: tuple[Figures | None, bytes] = (None, b"")


class _Handler(BoundedHandler):
    server: _Serving
    server_version = "burntray"

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        if not self.admit():
            return
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            encoder, ctype = choose_encoder(self.headers.get("Accept", ""))
            self.reply(200, encoder(self.server.registry), ctype)
        elif path == "/healthz":
            ok, why = health(self.server.board, checks=self.server.checks)
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
            cached, body = self.server.status_body
            if cached is not figures:  # one tuple, swapped whole: any thread may do it
                text = json.dumps(figures.status_doc, indent=2)
                if not self.server.token:  # nobody proved who they are: no home paths
                    text = hide_home(text)
                body = text.encode() + b"\n"
                self.server.status_body = (figures, body)
            self.reply(200, body, "application/json")
        else:
            self.reply(404, b"burntray serves /metrics, /healthz and /v1/status\n")


def hide_home(text: str, home: str | None = None) -> str:
    """``text`` (JSON) with the home directory written ``~``: user names and folder layout are
    not for every caller that can reach the port."""
    home = (home if home is not None else str(Path.home())).rstrip("/")
    if len(home) < 2:
        return text
    escaped = json.dumps(home)[1:-1]
    for prefix in (escaped + "/", escaped + "\\\\"):
        text = text.replace(prefix, "~/")
    return text.replace(f'"{escaped}"', '"~"')


def health(
    board: FiguresBoard, now_s: float | None = None, checks: Iterable[HealthCheck] = ()
) -> tuple[bool, str]:
    for check in checks:
        try:
            ok, why = check()
        except Exception as exc:  # a check that fails is a "not ready" with its reason
            ok, why = False, f"health check failed: {exc}"
        if not ok:
            return False, why
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

    def __init__(
        self,
        host: str,
        port: int,
        board: FiguresBoard,
        *,
        token: str = "",
        allowed_hosts: Iterable[str] | str = (),
        tls_cert: str = "",
        tls_key: str = "",
        timeouts: Timeouts | None = None,
        max_connections: int = 64,
    ) -> None:
        """``ValueError`` when the TLS files cannot be used (says which and why)."""
        self.host, self.port = host, port
        self.board = board
        self.token = token
        self.allowed_hosts = allowed_hosts
        self.tls = tls_context(tls_cert, tls_key)
        self.timeouts = timeouts
        self.max_connections = max_connections
        self.checks: list[HealthCheck] = []
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(BurntrayCollector(board))
        self.stats = ReceiverStats()
        self._server: _Serving | None = None

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def start(self) -> None:
        """Bind and serve in a daemon thread; ``OSError`` (port in use...) to the caller."""
        self._server = _Serving(
            (self.host, self.port),
            _Handler,
            self.stats,
            self.timeouts,
            self.max_connections,
            token=self.token,
            allowed_hosts=self.allowed_hosts,
            tls=self.tls,
        )
        self._server.board = self.board
        self._server.registry = self.registry
        self._server.checks = self.checks
        self.port = self._server.server_address[1]
        self._server.serve_in_thread("burntray-metrics")

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls is not None else 'http'}://{self.address}"

    @property
    def server(self) -> BoundedHTTPServer | None:
        return self._server

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
