"""Where the cburn daemon is, and a cheap "is it there?" probe for ``source = "auto"``.

Discovery order, first hit wins: config ``cburn.url``, env ``BURNTRAY_CBURN_URL``, cburn's state
file ``<cburn cache dir>/cburnd.pid.json`` (written by ``cburn daemon`` with its listen address,
removed on a clean exit), then cburn's default ``http://127.0.0.1:8787``. Only http/https.

This module never imports httpx: ``burntray status`` (run by tmux every few seconds) probes the
daemon on every call with ``source = "auto"``, and when nothing listens that must cost a refused
``connect`` and nothing more.
"""

from __future__ import annotations

import _socket
import os
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from msgspec import Struct

DEFAULT_URL = "http://127.0.0.1:8787"
ENV_VAR = "BURNTRAY_CBURN_URL"
STATE_FILE = "cburnd.pid.json"
PROBE_TIMEOUT_S = 0.3
_MAX_STATE_BYTES = 64 * 1024


class Discovery(Struct, frozen=True):
    """The URL to use and where it came from; ``error`` when the chosen setting is unusable."""

    url: str
    origin: str  # "config cburn.url", "env BURNTRAY_CBURN_URL", "state file <path>", "default"
    error: str = ""
    skipped: tuple[str, ...] = ()  # candidates passed over, and why (doctor shows them)


def check_url(url: str) -> str:
    """``""`` when ``url`` is a usable daemon URL, else what is wrong with it."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return f"not a URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return "only http:// and https:// URLs are allowed"
    if not parts.hostname:
        return "the URL has no host"
    try:
        _ = parts.port
    except ValueError as exc:
        return f"bad port ({exc})"
    if parts.query or parts.fragment:
        return "the URL must not have a query or fragment"
    return ""


def _addr_to_url(addr: str) -> str:
    """Go's listen address (``127.0.0.1:8787``, ``:8787``, ``[::]:8787``) as a URL to dial."""
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"addr {addr!r} is not host:port")
    host = host.strip("[]")
    if host in ("", "0.0.0.0"):  # noqa: S104 - a wildcard listen address is dialled on loopback
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


def read_state_file(path: Path) -> tuple[str, str]:
    """(url, "") from cburn's state file, or ("", why it cannot be used)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(_MAX_STATE_BYTES + 1)
    except FileNotFoundError:
        return "", f"no state file at {path}"
    except OSError as exc:
        return "", f"state file {path} unreadable: {exc.strerror or exc}"
    import json  # noqa: PLC0415 - only when cburn left a state file: most runs find none

    try:
        state = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return "", f"state file {path} is not JSON"
    if not isinstance(state, dict) or not isinstance(state.get("addr"), str):
        return "", f"state file {path} has no addr"
    pid = state.get("pid")
    if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0 and not _pid_alive(pid):
        return "", f"state file {path} is stale (pid {pid} is not running)"
    try:
        return _addr_to_url(state["addr"]), ""
    except ValueError as exc:
        return "", f"state file {path}: {exc}"


def discover(config_url: str, env: Mapping[str, str], cburn_cache: Path | None) -> Discovery:
    """The daemon URL by the documented order; never raises."""
    skipped: list[str] = []
    if config_url.strip():
        url = config_url.strip().rstrip("/")
        return Discovery(url, "config cburn.url", _named_error("cburn.url", url))
    env_url = env.get(ENV_VAR, "").strip()
    if env_url:
        url = env_url.rstrip("/")
        return Discovery(url, f"env {ENV_VAR}", _named_error(ENV_VAR, url))
    if cburn_cache is not None:
        path = cburn_cache / STATE_FILE
        url, why = read_state_file(path)
        if url:
            return Discovery(url, f"state file {path}")
        skipped.append(why)
    else:
        skipped.append("cburn's cache dir cannot be resolved (no home dir)")
    return Discovery(DEFAULT_URL, "default", skipped=tuple(skipped))


def _named_error(name: str, url: str) -> str:
    problem = check_url(url)
    return f"{name} = {url!r} is not allowed: {problem}" if problem else ""


def probe(url: str, timeout_s: float = PROBE_TIMEOUT_S) -> tuple[bool, str]:
    """Is a cburn daemon answering at ``url``? Returns (yes, why) within ~``timeout_s``;
    ``why`` is "cburn daemon at <url>" or the reason there is none ("connection refused").

    A plain socket: connect, and for http also ``GET /healthz`` expecting ``200``/``ok``, so a
    different program on the port or one that accepts and never answers is not taken for the
    daemon. For https only the TCP connect is checked (no TLS here, to stay cheap).
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    deadline = time.monotonic() + timeout_s
    # getaddrinfo encodes a str host with the idna codec, whose import (with stringprep and
    # unicodedata) costs ~1.5 ms on every `burntray status`; an ASCII name is passed as bytes.
    name: str | bytes = host.encode("ascii") if host.isascii() else host
    try:
        sock = _connect(name, port, timeout_s)
    except ConnectionRefusedError:
        return False, "connection refused"
    except TimeoutError:
        return False, "connect timed out"
    except OSError as exc:
        return False, f"{exc.strerror or exc}"
    try:
        if parts.scheme == "https":
            return True, f"cburn daemon at {url}"
        try:
            path = (parts.path.rstrip("/") or "") + "/healthz"
            host_header = parts.netloc.rpartition("@")[2]
            sock.sendall(
                f"GET {path} HTTP/1.0\r\nHost: {host_header}\r\nConnection: close\r\n\r\n".encode()
            )
            reply = b""
            while len(reply) < 4096:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = sock.recv(4096)
                if not chunk:
                    break
                reply += chunk
        except TimeoutError:
            return False, "a server accepted but did not answer"
        except OSError as exc:
            return False, f"{exc.strerror or exc}"
    finally:
        sock.close()
    head, _, body = reply.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    if len(status_line) >= 2 and status_line[1] == b"200" and body.strip() == b"ok":
        return True, f"cburn daemon at {url}"
    return False, "/healthz did not answer ok"


def _connect(host: str | bytes, port: int, timeout_s: float) -> _socket.socket:
    """``socket.create_connection`` on the C module: the ``socket`` module's enums and classes
    (with ``selectors``) cost ~2 ms to import on every ``burntray status``, for one connect.
    Each address ``getaddrinfo`` gives is tried in turn; the first one's error is raised."""
    errors: list[OSError] = []
    for family, kind, proto, _, address in _socket.getaddrinfo(host, port, 0, _socket.SOCK_STREAM):
        sock = _socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout_s)
            sock.connect(address)
        except OSError as exc:
            sock.close()
            errors.append(exc)
            continue
        return sock
    if errors:
        raise errors[0]
    raise OSError("getaddrinfo returned no address")
