"""The OTLP/HTTP receiver: ``POST /v1/logs``, ``/v1/metrics`` (and ``/v1/traces``, acknowledged
and dropped) on a loopback port, with the standard library's threading HTTP server.

Nothing a client or a web page sends can stop it, grow it without bound or write to it:
- only ``application/x-protobuf`` and ``application/json`` bodies are taken (415 otherwise, a
  missing type included): a web page's cross-origin "simple request" can send neither;
- ``Host`` must name this server (the bound address, localhost names on a loopback bind, or a
  configured name): a DNS-rebinding page's own name is refused with 403;
- a request with an ``Origin`` is served only for the server's own origin or a configured one
  (``cors_origins``); CORS preflights are answered for those alone;
- a body over ``max_body`` is refused with 413 (chunked bodies count as they arrive), the rest
  of what the client sends is read and dropped (bounded) so that the client sees the answer;
  gzip is inflated under a cap (see ``otel.decode``); a body that does not decode gets 400;
- the bytes being decoded at once are held under ``memory_budget``: over it, 503 with
  ``Retry-After`` (exporters retry it), never an unbounded heap;
- a connection has separate deadlines to send its headers, its body, and to stay idle between
  requests; a reaper shuts down the socket of a client past its deadline (slowloris);
- at most ``max_connections`` connections are open; at the cap, a new client takes the place of
  the connection that waited longest idle (or, failing that, the slowest one still sending its
  headers), so idle keep-alives and half-open sockets never lock honest clients out;
- the export callback runs inside a catch-all: a bug there answers 500, it never kills the
  server.
A non-loopback bind is refused unless the caller passes a bearer token, which every request must
then carry (``Authorization: Bearer ...``, the scheme in any case). TLS is optional
(``tls_cert``/``tls_key``); the handshake runs in the connection's thread under its header
deadline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from google.protobuf.message import Message

from burntray.io.http_admission import is_loopback, split_names, tls_context
from burntray.io.http_body import RequestRefused
from burntray.io.http_server import BoundedHandler, BoundedHTTPServer, ReceiverStats, Timeouts
from burntray.io.memory import fix_mmap_threshold
from burntray.lazylog import get_logger
from burntray.sources.otel.decode import (
    JSON,
    MAX_BODY,
    MAX_DECODED,
    OtlpError,
    Rejected,
    decode,
    media_type,
    response_body,
)

log = get_logger(__name__)

# (path, decoded request, arrival time in epoch ns) -> what was refused (partial success)
ExportCallback = Callable[[str, Message, int], Rejected | None]

# The content types OTLP/HTTP defines (the Collector's otlpreceiver takes these two, with
# parameters such as charset); the protobuf aliases are what some SDKs send.
OTLP_TYPES = frozenset(
    {"application/x-protobuf", "application/protobuf", "application/vnd.google.protobuf", JSON}
)
MEMORY_BUDGET = 64 * 2**20  # bytes being decoded at once, all requests together


class _Receiving(BoundedHTTPServer):
    receiver: OtlpReceiver


class _Handler(BoundedHandler):
    server: _Receiving
    server_version = "burntray-otlp"
    cors_methods = ("POST",)

    def do_GET(self) -> None:
        if self.admit():
            self.reply(405, b"OTLP/HTTP receiver: POST /v1/logs, /v1/metrics or /v1/traces\n")

    def do_POST(self) -> None:
        receiver = self.server.receiver
        path = self.path.split("?", 1)[0]
        if not self.admit():
            return
        reserved = 0
        try:
            try:
                kind = self._otlp_type(self.headers.get("Content-Type"))
                reserved = receiver.reserve(self._decode_cost())
                body = self.read_body(receiver.max_body)
                message = decode(
                    path,
                    self.headers.get("Content-Type"),
                    self.headers.get("Content-Encoding"),
                    body,
                )
            except RequestRefused as exc:  # the decoder's OtlpError is one too
                if exc.status == 503:
                    self._extra_headers.append(("Retry-After", "1"))
                self.refuse(exc.status, exc.reason)
                return
            try:
                rejected = receiver.on_export(path, message, time.time_ns())
            except RequestRefused as exc:  # refused as a whole, for a reason it names
                self.refuse(exc.status, exc.reason)
                return
            except Exception as exc:  # a bug in mapping must not take the receiver down
                log.exception("otlp export handling failed")
                receiver.stats.bad(500, repr(exc))
                self.reply(500, b"internal error\n")
                return
        finally:
            receiver.release(reserved)
        receiver.stats.ok()
        ctype = "application/json" if kind == JSON else "application/x-protobuf"
        self.reply(200, response_body(path, kind, rejected), ctype)

    @staticmethod
    def _otlp_type(content_type: str | None) -> str:
        """The OTLP media type, or 415: a missing type is refused (as the Collector does), since
        a browser's cross-origin "simple" POST can send none of the OTLP types."""
        kind = (content_type or "").split(";", 1)[0].strip().lower()
        if kind not in OTLP_TYPES:
            shown = repr(kind) if kind else "none"
            raise OtlpError(
                415,
                f"unsupported Content-Type {shown}: send application/x-protobuf or "
                "application/json (OTLP/HTTP)",
            )
        return media_type(kind)

    def _decode_cost(self) -> int:
        """What decoding this body may take, in bytes, before it is read: its length (the
        largest allowed for a chunked one), or the inflate cap for a compressed one."""
        try:
            length = int(self.headers.get("Content-Length") or self.server.receiver.max_body)
        except ValueError:
            length = self.server.receiver.max_body
        length = max(0, min(length, self.server.receiver.max_body))
        encoding = (self.headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding not in ("", "identity"):
            return min(MAX_DECODED, max(length, 1) * 64)
        return length


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
        timeouts: Timeouts | None = None,
        max_connections: int = 256,
        memory_budget: int = MEMORY_BUDGET,
        allowed_hosts: Iterable[str] | str = (),
        cors_origins: Iterable[str] | str = (),
        tls_cert: str = "",
        tls_key: str = "",
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
        self.timeouts = timeouts or Timeouts()
        self.max_connections = max_connections
        self.memory_budget = memory_budget
        self.allowed_hosts = split_names(allowed_hosts)
        self.cors_origins = split_names(cors_origins)
        self.tls = tls_context(tls_cert, tls_key)
        self.stats = ReceiverStats()
        self._inflight = 0
        self._inflight_lock = threading.Lock()
        self._server: _Receiving | None = None

    def start(self) -> None:
        """Bind and serve; ``OSError`` (port in use, ...) comes back to the caller."""
        # Bodies a sender controls are inflated and decoded here, some of them refused after
        # growing to MiBs: keep freed blocks from pinning the process's memory (glibc).
        fix_mmap_threshold()
        self._server = _Receiving(
            (self.host, self.port),
            _Handler,
            self.stats,
            self.timeouts,
            self.max_connections,
            token=self.token,
            allowed_hosts=self.allowed_hosts,
            cors_origins=self.cors_origins,
            tls=self.tls,
        )
        self._server.receiver = self
        self.port = self._server.server_address[1]
        self._server.serve_in_thread("burntray-otlp")

    def reserve(self, cost: int) -> int:
        """Take ``cost`` bytes of the decoding budget, or raise 503 when the requests being
        decoded already hold it (one request alone is always let through: ``max_body`` and the
        inflate cap bound it)."""
        with self._inflight_lock:
            if self._inflight and self._inflight + cost > self.memory_budget:
                raise OtlpError(
                    503,
                    f"busy: {self._inflight // 2**20} MiB of exports are being decoded "
                    f"(limit {self.memory_budget // 2**20} MiB); retry shortly",
                )
            self._inflight += cost
        return cost

    def release(self, cost: int) -> None:
        with self._inflight_lock:
            self._inflight -= cost

    @property
    def inflight_bytes(self) -> int:
        return self._inflight

    @property
    def server(self) -> BoundedHTTPServer | None:
        return self._server

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.running

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
