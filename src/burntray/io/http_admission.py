"""Who may ask a bounded HTTP server: the Host header must name the server (a DNS-rebinding
page is refused), an Origin must be configured, a bearer token must match; plus the TLS context
and the CORS preflight. Mixed into ``BoundedHTTPServer`` (the names it answers to) and
``BoundedHandler`` (the checks every request passes first).
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import os
import socket
import ssl
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from email.message import Message

    from burntray.io.http_server import BoundedHTTPServer

# Headers a preflight may ask for (besides the CORS-safelisted ones).
CORS_HEADERS = frozenset({"content-type", "content-encoding", "authorization", "x-requested-with"})


def is_loopback(host: str) -> bool:
    if host.lower().rstrip(".") in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_wildcard(host: str) -> bool:
    return host in ("", "0.0.0.0", "::")  # noqa: S104 - recognising it, not binding


def split_names(value: str | Iterable[str]) -> tuple[str, ...]:
    """``"a, b c"`` or ``["a", "b"]`` -> ``("a", "b")``: host names and origins in config."""
    items = value.replace(",", " ").split() if isinstance(value, str) else value
    return tuple(dict.fromkeys(i.strip() for i in items if i.strip()))


def tls_context(cert: str, key: str) -> ssl.SSLContext | None:
    """The server TLS context for a certificate chain and its key (PEM files), or None when
    neither is set; ``ValueError`` says what is wrong with them."""
    if not cert and not key:
        return None
    if not cert or not key:
        raise ValueError("TLS needs both a certificate and its key (tls_cert and tls_key)")
    for path in (cert, key):  # load_cert_chain's own errors do not name the file
        if not os.path.isfile(path):
            raise ValueError(f"TLS: {path}: no such file")
        if not os.access(path, os.R_OK):
            raise ValueError(f"TLS: {path}: permission denied")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        raise ValueError(
            f"TLS: cannot load the certificate {cert} with the key {key}: {exc}"
        ) from None
    return context


def bearer_matches(header: str | None, token: str) -> bool:
    """``Authorization: Bearer <token>``, the scheme in any case (RFC 9110 section 11.1),
    compared in constant time."""
    scheme, _, given = (header or "").strip().partition(" ")
    ok_scheme = scheme.lower() == "bearer"
    return hmac.compare_digest(given.strip().encode(), token.encode()) and ok_scheme


class HostChecks:
    """The server's side of admission: which names and origins it answers to."""

    bound_host: str
    bound_port: int
    extra_hosts: frozenset[str]
    cors_origins: frozenset[str]
    tls: ssl.SSLContext | None
    _names: frozenset[str]

    def _own_names(self) -> frozenset[str]:
        """The names a ``Host`` header may carry for this server (besides IP literals on a
        wildcard bind): a browser sends the name it resolved, so a DNS-rebinding page shows
        its own name here and is refused."""
        host = self.bound_host.lower()
        names = set(self.extra_hosts)
        if is_loopback(host) or _is_wildcard(host):
            names |= {"localhost", "localhost.localdomain", "127.0.0.1", "::1"}
        if not is_loopback(host):
            names.add(host)
            with contextlib.suppress(OSError):
                hostname = socket.gethostname().lower()
                names |= {hostname, hostname.split(".", 1)[0]}
        else:
            names.add(host)
        return frozenset(names)

    def host_refusal(self, value: str | None) -> str:
        """Why a ``Host`` header does not name this server ("" when it does)."""
        if not value:
            return "a Host header is required"
        text = value.strip().lower()
        if text.startswith("["):
            name, _, rest = text[1:].partition("]")
            port = rest[1:] if rest.startswith(":") else rest
        else:
            name, sep, port = text.rpartition(":")
            if not sep:
                name, port = text, ""
        name = name.rstrip(".")
        if name in self.extra_hosts:  # a configured name: any port (a proxy in front)
            return ""
        if port and port != str(self.bound_port):
            return f"Host {value[:80]!r} is not this server's port {self.bound_port}"
        if name in self._names:
            return ""
        try:
            ip = ipaddress.ip_address(name)
        except ValueError:
            ip = None
        if ip is not None and (
            _is_wildcard(self.bound_host) or (ip.is_loopback and is_loopback(self.bound_host))
        ):
            return ""
        return (
            f"Host {value[:80]!r} is not this server's address (a DNS-rebinding page?); "
            "add the name to allowed_hosts to serve it"
        )

    def origin_allowed(self, origin: str, host: str | None) -> bool:
        """A configured origin (or ``*``), or the server's own (the page it serves itself)."""
        wanted = origin.strip().rstrip("/").lower()
        if "*" in self.cors_origins or wanted in self.cors_origins:
            return True
        scheme, sep, netloc = wanted.partition("://")
        own = "https" if self.tls is not None else "http"
        return bool(sep) and scheme == own and netloc == (host or "").strip().lower()


class AdmissionChecks:
    """The handler's side of admission: ``admit`` (Host, Origin, bearer token) before a request
    is handled, and the CORS preflight."""

    if TYPE_CHECKING:
        cors_methods: tuple[str, ...]
        server: BoundedHTTPServer
        headers: Message
        _body_pending: bool
        _extra_headers: list[tuple[str, str]]

        def refuse(self, status: int, reason: str) -> None: ...
        def reply(self, status: int, body: bytes, ctype: str = ...) -> None: ...

    def admit(self) -> bool:
        """Host, Origin and bearer token; False after answering a request that fails them."""
        has_length = self.headers.get("Content-Length", "0").strip() not in ("", "0")
        self._body_pending = has_length or bool(self.headers.get("Transfer-Encoding"))
        host = self.headers.get("Host")
        why = self.server.host_refusal(host)
        if why:
            self.refuse(403 if host else 400, why)
            return False
        origin = self.headers.get("Origin")
        if origin is not None and not self.server.origin_allowed(origin, host):
            self.refuse(
                403,
                f"cross-origin request from {origin[:80]!r} refused: not in cors_allowed_origins",
            )
            return False
        if origin is not None:
            self._extra_headers += [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        token = self.server.token
        if token and not bearer_matches(self.headers.get("Authorization"), token):
            self._extra_headers.append(("WWW-Authenticate", 'Bearer realm="burntray"'))
            self.refuse(401, "missing or wrong bearer token")
            return False
        return True

    def do_OPTIONS(self) -> None:
        """A CORS preflight: answered only for a configured origin and method."""
        origin = self.headers.get("Origin")
        method = (self.headers.get("Access-Control-Request-Method") or "").strip().upper()
        asked = split_names((self.headers.get("Access-Control-Request-Headers") or "").lower())
        has_length = self.headers.get("Content-Length", "0").strip() not in ("", "0")
        self._body_pending = has_length or bool(self.headers.get("Transfer-Encoding"))
        why = self.server.host_refusal(self.headers.get("Host"))
        if why:
            self.refuse(403, why)
            return
        if not origin or not self.server.origin_allowed(origin, None):
            self.refuse(403, f"CORS preflight from {str(origin)[:80]!r} refused: not allowed")
            return
        if method not in self.cors_methods or not set(asked) <= CORS_HEADERS:
            self.refuse(403, f"CORS preflight for {method} {', '.join(asked)} refused")
            return
        self._extra_headers += [
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Methods", ", ".join(self.cors_methods)),
            ("Access-Control-Allow-Headers", ", ".join(sorted(asked)) or "content-type"),
            ("Access-Control-Max-Age", "7200"),
            ("Vary", "Origin"),
        ]
        self.reply(204, b"")
