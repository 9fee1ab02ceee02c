"""A bounded HTTP server: the standard library's threading server with a connection cap,
deadlines per connection state, Host/Origin/bearer checks (``http_admission``) and bounded body
reading (``http_body``); this module keeps the connection bookkeeping and answering.

Shared by the OTLP receiver and ``burntray serve``'s figures endpoint, so it lives with the other
infrastructure, not in either. A handler refuses a request by raising ``RequestRefused`` (the
HTTP status and why); the connection then closes. A non-loopback bind is refused unless the
caller passes a bearer token.
"""

from __future__ import annotations

import contextlib
import io
import math
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from burntray.io.http_admission import (
    AdmissionChecks,
    HostChecks,
    split_names,
)
from burntray.io.http_body import BodyReading
from burntray.lazylog import get_logger

log = get_logger(__name__)


# After refusing a request whose body was not read, up to this much of the body is read and
# dropped (within the body deadline) so that a client that sends everything before reading gets
# the answer instead of a reset.
DRAIN_LIMIT = 32 * 2**20  # four times the OTLP body limit


class Timeouts:
    """A connection's deadlines (seconds): to send its request line and headers (and, with TLS,
    finish the handshake) once it starts or after connecting; to send its body once the headers
    are in; and to stay open idle between two requests."""

    def __init__(self, header_s: float = 5.0, body_s: float = 20.0, idle_s: float = 60.0) -> None:
        for name, value in (("header", header_s), ("body", body_s), ("idle", idle_s)):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"the {name} timeout must be a positive number of seconds")
        self.header_s, self.body_s, self.idle_s = header_s, body_s, idle_s

    def of(self, state: str) -> float:
        return {"new": self.header_s, "header": self.header_s, "body": self.body_s}.get(
            state, self.idle_s
        )


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


class Connection:
    """One open connection: what it is doing (``new``, ``header``, ``body``, ``busy``,
    ``idle``), since when, and until when it may."""

    __slots__ = ("deadline", "since", "sock", "state")

    def __init__(self, sock: socket.socket, state: str, now: float, timeout_s: float) -> None:
        self.sock = sock
        self.state = state
        self.since = now
        self.deadline = now + timeout_s

    def cut(self) -> None:
        """Shut the socket down at the OS level (a TLS socket too): a read blocked on it in
        the connection's thread returns at once."""
        with contextlib.suppress(OSError):
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)


# Who gives way to a new client at the connection cap: the idle first, then those still
# sending headers, then those sending a body; a request being handled never does.
_EVICTION_ORDER = {"new": 0, "idle": 0, "header": 1, "body": 2}


class BoundedHTTPServer(HostChecks, ThreadingHTTPServer):
    """A threading HTTP server with a connection cap and deadlines per connection state.

    Shared by the OTLP receiver and ``burntray serve``'s figures endpoint. ``service_actions``
    (run by ``serve_forever`` every poll interval) shuts down the socket of any connection past
    its deadline, which ends a read blocked on a slow client.
    """

    daemon_threads = True
    request_queue_size = 128
    block_on_close = False

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        stats: ReceiverStats,
        timeouts: Timeouts | None = None,
        max_connections: int = 128,
        *,
        token: str = "",
        allowed_hosts: Iterable[str] = (),
        cors_origins: Iterable[str] = (),
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.stats = stats
        self.timeouts = timeouts or Timeouts()
        self.max_connections = max_connections
        self.token = token
        self.extra_hosts = frozenset(h.lower().rstrip(".") for h in split_names(allowed_hosts))
        self.cors_origins = frozenset(o.rstrip("/").lower() for o in split_names(cors_origins))
        self.tls = tls
        self._conns: dict[Any, Connection] = {}
        self._conns_lock = threading.Lock()
        self.thread: threading.Thread | None = None
        super().__init__(address, handler)
        self.bound_host = address[0]
        self.bound_port = self.server_address[1]
        self._names = self._own_names()

    # --- lifecycle --------------------------------------------------------------------------
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

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    # --- connections ------------------------------------------------------------------------
    def process_request(self, request: Any, client_address: Any) -> None:
        now = time.monotonic()
        with self._conns_lock:
            victim = None
            if len(self._conns) >= self.max_connections:
                victim = self._victim()
                if victim is None:
                    self.stats.bad(503, "too many connections, all of them busy")
                    super().shutdown_request(request)
                    return
                self._conns.pop(victim, None)
            self._conns[request] = Connection(request, "new", now, self.timeouts.header_s)
        if victim is not None:
            victim.cut()
        super().process_request(request, client_address)

    def _victim(self) -> Connection | None:
        """The connection that gives way at the cap (under the lock): the lowest in
        ``_EVICTION_ORDER``, the one in that state longest first."""
        ranked = [c for c in self._conns.values() if c.state in _EVICTION_ORDER]
        if not ranked:
            return None
        return min(ranked, key=lambda c: (_EVICTION_ORDER[c.state], c.since))

    def conn_of(self, request: Any) -> Connection:
        with self._conns_lock:
            conn = self._conns.get(request)
        # evicted before its thread started: an untracked record (its socket is shut already)
        return conn or Connection(request, "new", time.monotonic(), self.timeouts.header_s)

    def enter(self, conn: Connection, state: str) -> None:
        """``conn`` moves to ``state``: a fresh deadline for it (none while busy)."""
        now = time.monotonic()
        timeout = self.timeouts.of(state)
        with self._conns_lock:
            conn.state, conn.since = state, now
            conn.deadline = math.inf if state == "busy" else now + timeout
        if state != "busy":
            with contextlib.suppress(OSError):  # one read may not outlast the whole state
                conn.sock.settimeout(timeout)

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            conn = self._conns.pop(request, None)
        if conn is not None and conn.sock is not request:  # the TLS socket that replaced it
            with contextlib.suppress(OSError):
                conn.sock.close()
        super().shutdown_request(request)

    def service_actions(self) -> None:
        now = time.monotonic()
        with self._conns_lock:
            late = [c for c in self._conns.values() if c.deadline < now]
            for conn in late:  # once: a shut-down socket is not counted again
                conn.deadline = math.inf
        for conn in late:
            if conn.state in ("header", "body"):
                self.stats.bad(408, f"client too slow sending its {conn.state}")
            conn.cut()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s failed", client_address, exc_info=True)

    def close_connections(self) -> None:
        """End every open connection: after a stop, an idle keep-alive connection must not
        carry a client's next request into a receiver that is gone (the client reconnects)."""
        with self._conns_lock:
            conns = list(self._conns.values())
        for conn in conns:
            conn.cut()

    def open_connections(self) -> dict[str, int]:
        """How many connections are in each state (for tests and the benchmark)."""
        with self._conns_lock:
            states = [c.state for c in self._conns.values()]
        return {s: states.count(s) for s in set(states)}


class BoundedHandler(AdmissionChecks, BodyReading, BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1 handler under the server's deadlines, with the checks every request
    passes first (``admit``: Host, Origin, bearer token) and bounded body reading."""

    protocol_version = "HTTP/1.1"
    server: BoundedHTTPServer
    sys_version = ""
    # Headers and body leave in separate writes: with Nagle on, a keep-alive client's delayed
    # ACK would hold every answer back ~40 ms.
    disable_nagle_algorithm = True
    # the methods a CORS preflight may ask for
    cors_methods: tuple[str, ...] = ("GET",)

    def setup(self) -> None:
        self._conn = self.server.conn_of(self.request)
        self.request.settimeout(self.server.timeouts.header_s)
        if self.server.tls is not None:  # the handshake runs here, under the header deadline
            self.request = self.server.tls.wrap_socket(
                self.request, server_side=True, do_handshake_on_connect=False
            )
            self._conn.sock = self.request
            self.request.do_handshake()
        super().setup()

    def handle_one_request(self) -> None:
        self._body_pending = False
        self._extra_headers: list[tuple[str, str]] = []
        conn = self._conn
        try:
            if conn.state != "new":  # between two requests: the idle deadline
                self.server.enter(conn, "idle")
            if not cast(io.BufferedReader, self.rfile).peek(1):  # closed, or cut off
                self.close_connection = True
                return
            self.server.enter(conn, "header")
            super().handle_one_request()
        except OSError:  # timeouts, resets, a socket the reaper shut down
            self.close_connection = True

    def parse_request(self) -> bool:
        ok = super().parse_request()
        if ok:  # headers in: being handled now, not a connection to give way at the cap
            self.server.enter(self._conn, "busy")
        return ok

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - " + format, self.address_string(), *args)

    def log_error(self, format: str, *args: Any) -> None:
        if format.startswith("Request timed out"):  # a read ran into the socket timeout
            self.server.stats.bad(408, "client too slow")
        self.log_message(format, *args)

    # --- answering --------------------------------------------------------------------------
    def reply(self, status: int, body: bytes, ctype: str = "text/plain; charset=utf-8") -> None:
        """Answer; when the request's body was not read, close the connection after reading
        what is left of it (bounded), so the client sees this answer rather than a reset."""
        if self._body_pending:
            self.close_connection = True
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for name, value in self._extra_headers:
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True
            return
        if self._body_pending:
            self._linger()

    def refuse(self, status: int, reason: str) -> None:
        self.server.stats.bad(status, reason)
        self.reply(status, (reason + "\n").encode())

    def _linger(self) -> None:
        """Half-close, then read and drop what the client still sends (up to ``DRAIN_LIMIT``
        within the body deadline) before the socket is closed: closing with unread data would
        reset the connection and lose the answer the client has not read yet."""
        sock = self.connection
        self.server.enter(self._conn, "body")
        deadline = time.monotonic() + self.server.timeouts.body_s
        drained = 0
        with contextlib.suppress(OSError, ValueError):
            socket.socket.shutdown(sock, socket.SHUT_WR)
            while drained < DRAIN_LIMIT:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                sock.settimeout(left)
                data = sock.recv(65536)
                if not data:
                    break
                drained += len(data)
