"""Reading a request's body within bounds: Content-Length or chunked, at most a limit, under
the body deadline; every malformed or oversized body is refused with ``RequestRefused``.
Mixed into ``BoundedHandler``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from email.message import Message
    from io import BufferedIOBase

    from burntray.io.http_server import BoundedHTTPServer, Connection


class RequestRefused(Exception):
    """A request the server refuses: ``status`` is the HTTP status, ``reason`` says why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


_MAX_CHUNK_LINE = 1024
_MAX_TRAILERS = 64


class BodyReading:
    """The handler's bounded body reader."""

    if TYPE_CHECKING:
        server: BoundedHTTPServer
        headers: Message
        rfile: BufferedIOBase
        close_connection: bool
        _conn: Connection
        _body_pending: bool

    def read_body(self, limit: int) -> bytes:
        """The body (Content-Length or chunked), at most ``limit`` bytes, read under the body
        deadline; ``RequestRefused`` otherwise (the connection then closes)."""
        self.server.enter(self._conn, "body")
        encoding = (self.headers.get("Transfer-Encoding") or "").strip().lower()
        raw = self.headers.get("Content-Length")
        if encoding:
            if raw is not None:  # both: a request-smuggling shape (RFC 9112 section 6.1)
                raise RequestRefused(400, "both Transfer-Encoding and Content-Length")
            if encoding != "chunked":
                raise RequestRefused(501, f"Transfer-Encoding {encoding[:40]!r} is not supported")
            body = self._read_chunked(limit)
        else:
            if raw is None:
                raise RequestRefused(
                    411, "Content-Length (or chunked Transfer-Encoding) is required"
                )
            try:
                length = int(raw)
            except ValueError:
                raise RequestRefused(400, f"bad Content-Length {raw[:40]!r}") from None
            if length < 0:
                raise RequestRefused(400, "negative Content-Length")
            if length > limit:
                raise RequestRefused(
                    413, f"body of {length} bytes is over the {limit // 2**20} MiB limit"
                )
            body = self.rfile.read(length)
            if len(body) != length:
                self._body_pending = False
                self.close_connection = True
                raise RequestRefused(400, "body shorter than its Content-Length")
        self._body_pending = False
        self.server.enter(self._conn, "busy")
        return body

    def _read_chunked(self, limit: int) -> bytes:
        body = bytearray()
        while True:
            line = self.rfile.readline(_MAX_CHUNK_LINE + 1)
            if not line.endswith(b"\n") or len(line) > _MAX_CHUNK_LINE:
                self._body_pending = False
                self.close_connection = True
                raise RequestRefused(
                    400, "bad chunked body: a chunk size line is missing or too long"
                )
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                self._body_pending = False
                self.close_connection = True
                raise RequestRefused(400, f"bad chunk size {size_text[:20]!r}") from None
            if size < 0:
                raise RequestRefused(400, "negative chunk size")
            if size == 0:
                break
            if len(body) + size > limit:
                raise RequestRefused(413, f"chunked body is over the {limit // 2**20} MiB limit")
            data = self.rfile.read(size)
            if len(data) != size or self.rfile.read(2) != b"\r\n":
                self._body_pending = False
                self.close_connection = True
                raise RequestRefused(400, "chunked body ended early or a chunk is malformed")
            body += data
        for _ in range(_MAX_TRAILERS):  # trailers are read and ignored
            line = self.rfile.readline(_MAX_CHUNK_LINE + 1)
            if line in (b"\r\n", b"\n", b""):
                return bytes(body)
        self._body_pending = False
        self.close_connection = True
        raise RequestRefused(400, "too many trailer lines after a chunked body")
