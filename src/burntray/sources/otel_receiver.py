"""The OTLP/HTTP receiver: ``POST /v1/logs``, ``/v1/metrics`` (and ``/v1/traces``, acknowledged
and dropped) on a loopback port, with the standard library's threading HTTP server.

Nothing a client sends can stop it or grow it without bound:
- a body over ``max_body`` is refused with 413 before it is read; gzip is inflated under a cap
  (see ``otel_decode``); a body that does not decode gets 400 with the reason;
- every connection has a deadline (``request_timeout_s`` per request, idle keep-alive included):
  a reaper shuts down the socket of a client that is too slow (slowloris), which ends the
  blocked read in its thread;
- at most ``max_connections`` connections are served at once; more are closed at once;
- the export callback runs inside a catch-all: a bug there answers 500, it never kills the
  server.
A non-loopback bind is refused unless the caller passes a bearer token, which every request must
then carry (``Authorization: Bearer ...``).
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf.message import Message

from burntray.lazylog import get_logger
from burntray.sources.otel_decode import (
    MAX_BODY,
    OtlpError,
    Rejected,
    decode,
    media_type,
    response_body,
)

log = get_logger(__name__)

# (path, decoded request, arrival time in epoch ns) -> what was refused (partial success)
ExportCallback = Callable[[str, Message, int], Rejected | None]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ReceiverStats:
    """Counts for doctor and the menu; written by handler threads under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.accepted = 0
        self.rejected: dict[int, int] = {}
        self.last_error = ""
        self.last_ok_ns: int | None = None

    def ok(self) -> None:
        with self._lock:
            self.accepted += 1
            self.last_ok_ns = time.time_ns()

    def bad(self, status: int, reason: str) -> None:
        with self._lock:
            self.rejected[status] = self.rejected.get(status, 0) + 1
            self.last_error = f"{status}: {reason}"


class BoundedHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server with a connection cap and a deadline per request.

    Shared by the OTLP receiver and ``burntray serve``'s figures endpoint. ``service_actions``
    (run by ``serve_forever`` every poll interval) shuts down the socket of any connection past
    its deadline, which ends a read blocked on a slow client.
    """

    daemon_threads = True
    request_queue_size = 64
    block_on_close = False

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        stats: ReceiverStats,
        request_timeout_s: float = 10.0,
        max_connections: int = 32,
    ) -> None:
        self.stats = stats
        self.request_timeout_s = request_timeout_s
        self.max_connections = max_connections
        self._conns: dict[socket.socket, float] = {}
        self._conns_lock = threading.Lock()
        self.thread: threading.Thread | None = None
        super().__init__(address, handler)

    def serve_in_thread(self, name: str) -> None:
        """Serve in a daemon thread; it notices ``stop`` within a quarter of a second."""
        self.thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.25}, name=name, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        """Stop serving, end the open connections, free the port, and give the serving thread
        two seconds to end."""
        self.shutdown()
        self.close_connections()
        self.server_close()
        if self.thread is not None:
            self.thread.join(2.0)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            if len(self._conns) >= self.max_connections:
                self.stats.bad(503, "too many connections")
                super().shutdown_request(request)
                return
            self._conns[request] = time.monotonic() + self.request_timeout_s
        super().process_request(request, client_address)

    def extend(self, request: socket.socket) -> None:
        """A new request began on this connection: it gets a fresh deadline."""
        with self._conns_lock:
            if request in self._conns:
                self._conns[request] = time.monotonic() + self.request_timeout_s

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.pop(request, None)
        super().shutdown_request(request)

    def service_actions(self) -> None:
        now = time.monotonic()
        with self._conns_lock:
            late = [s for s, deadline in self._conns.items() if deadline < now]
            for sock in late:  # once: a shut-down socket is not counted again
                self._conns[sock] = float("inf")
        for sock in late:
            self.stats.bad(408, "client too slow")
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s failed", client_address, exc_info=True)

    def close_connections(self) -> None:
        """End every open connection: after a stop, an idle keep-alive connection must not
        carry a client's next request into a receiver that is gone (the client reconnects)."""
        with self._conns_lock:
            socks = list(self._conns)
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class BoundedHandler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1 handler whose reads time out and whose requests renew the deadline."""

    protocol_version = "HTTP/1.1"
    server: BoundedHTTPServer
    sys_version = ""
    # Headers and body leave in separate writes: with Nagle on, a keep-alive client's delayed
    # ACK would hold every answer back ~40 ms.
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        # one slow read may not take longer than the whole request may
        self.connection.settimeout(self.server.request_timeout_s)

    def handle_one_request(self) -> None:
        self.server.extend(self.connection)
        try:
            super().handle_one_request()
        except OSError:  # timeouts, resets, a socket the reaper shut down
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - " + format, self.address_string(), *args)

    def log_error(self, format: str, *args: Any) -> None:
        if format.startswith("Request timed out"):  # a read ran into the socket timeout
            self.server.stats.bad(408, "client too slow")
        self.log_message(format, *args)

    def reply(self, status: int, body: bytes, ctype: str = "text/plain; charset=utf-8") -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except OSError:
            self.close_connection = True


class _Receiving(BoundedHTTPServer):
    receiver: OtlpReceiver


class _Handler(BoundedHandler):
    server: _Receiving
    server_version = "burntray-otlp"

    def do_GET(self) -> None:
        self.reply(405, b"OTLP/HTTP receiver: POST /v1/logs, /v1/metrics or /v1/traces\n")

    def do_POST(self) -> None:
        receiver = self.server.receiver
        path = self.path.split("?", 1)[0]
        body: bytes | None = None
        try:
            kind = media_type(self.headers.get("Content-Type"))
            self._check_token(receiver.token)
            body = self._read_body(receiver.max_body)
            message = decode(
                path, self.headers.get("Content-Type"), self.headers.get("Content-Encoding"), body
            )
        except OtlpError as exc:
            if body is None:  # the body was not read: this connection cannot carry another
                self.close_connection = True
            receiver.stats.bad(exc.status, exc.reason)
            self.reply(exc.status, (exc.reason + "\n").encode())
            return
        try:
            rejected = receiver.on_export(path, message, time.time_ns())
        except Exception as exc:  # a bug in mapping must not take the receiver down
            log.exception("otlp export handling failed")
            receiver.stats.bad(500, repr(exc))
            self.reply(500, b"internal error\n")
            return
        receiver.stats.ok()
        ctype = "application/json" if kind == "application/json" else "application/x-protobuf"
        self.reply(200, response_body(path, kind, rejected), ctype)

    def _check_token(self, token: str) -> None:
        if not token:
            return
        given = self.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            self.close_connection = True
            raise OtlpError(401, "missing or wrong bearer token")

    def _read_body(self, limit: int) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise OtlpError(411, "chunked bodies are not accepted: send Content-Length")
        raw = self.headers.get("Content-Length")
        if raw is None:
            self.close_connection = True
            raise OtlpError(411, "Content-Length is required")
        try:
            length = int(raw)
        except ValueError:
            self.close_connection = True
            raise OtlpError(400, f"bad Content-Length {raw[:40]!r}") from None
        if length < 0:
            self.close_connection = True
            raise OtlpError(400, "negative Content-Length")
        if length > limit:
            self.close_connection = True  # the body is not read: the connection cannot go on
            raise OtlpError(413, f"body of {length} bytes is over the {limit // 2**20} MiB limit")
        body = self.rfile.read(length)
        if len(body) != length:
            self.close_connection = True
            raise OtlpError(400, "body shorter than its Content-Length")
        return body


class OtlpReceiver:
    """Listen on ``host:port`` in a daemon thread; ``on_export`` gets every decoded export."""

    def __init__(
        self,
        host: str,
        port: int,
        on_export: ExportCallback,
        *,
        token: str = "",
        max_body: int = MAX_BODY,
        request_timeout_s: float = 10.0,
        max_connections: int = 32,
    ) -> None:
        if not is_loopback(host) and not token:
            raise ValueError(
                f"refusing to listen on {host}: a non-loopback address needs a bearer token "
                "(otel.token)"
            )
        self.host, self.port = host, port
        self.on_export = on_export
        self.token = token
        self.max_body = max_body
        self.request_timeout_s = request_timeout_s
        self.max_connections = max_connections
        self.stats = ReceiverStats()
        self._server: _Receiving | None = None

    def start(self) -> None:
        """Bind and serve; ``OSError`` (port in use, ...) comes back to the caller."""
        self._server = _Receiving(
            (self.host, self.port),
            _Handler,
            self.stats,
            self.request_timeout_s,
            self.max_connections,
        )
        self._server.receiver = self
        self.port = self._server.server_address[1]
        self._server.serve_in_thread("burntray-otlp")

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        thread = self._server.thread if self._server is not None else None
        return thread is not None and thread.is_alive()

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
