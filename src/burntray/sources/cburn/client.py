"""The cburn daemon's HTTP side: timeouts, bounded bodies and lines, errors in words.

Everything here is stateless; ``CburnSource`` owns the connection loop and what it received.
No redirect is followed and no proxy from the environment is used: the daemon is on loopback,
and a proxy must not carry that traffic.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
from msgspec import Struct

from burntray import __version__
from burntray.sources.cburn import wire

MAX_STATUS_BYTES = 1 << 20
MAX_EVENTS_BYTES = 64 << 20  # a --events-buffer of 100k events still fits


class Timing(Struct, frozen=True):
    """Every interval and limit, injectable so tests run in seconds."""

    connect_timeout_s: float = 2.0
    request_timeout_s: float = 2.0  # status, events, healthz
    probe_interval_s: float = 30.0  # silence on the stream before /healthz is probed
    backoff_initial_s: float = 0.5
    backoff_cap_s: float = 30.0
    max_line_bytes: int = 1 << 20  # longer SSE lines: offline "oversized event"


class CburnError(Exception):
    """The daemon cannot be used right now; ``str()`` is the reason shown to the user."""


class QuietStream(Exception):
    """The stream was silent for a probe interval and the daemon answered the probe."""


class OversizedEventError(CburnError):
    pass


class BoundedLines(httpx.SyncByteStream):
    """Passes a response body through, failing once a line grows over ``limit`` bytes.

    Without it a server sending bytes without a newline would grow the SSE decoder's buffer
    without bound.
    """

    def __init__(self, inner: Any, limit: int) -> None:
        self._inner = inner
        self._limit = limit

    def __iter__(self) -> Iterator[bytes]:
        run = 0  # bytes since the last line end
        limit = self._limit
        for chunk in self._inner:
            last = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
            if last < 0:
                run += len(chunk)
                if run > limit:
                    raise OversizedEventError(_oversized(limit))
            else:
                first = min(i for i in (chunk.find(b"\n"), chunk.find(b"\r")) if i >= 0)
                if run + first > limit or (
                    len(chunk) > limit and _longest_inner_line(chunk, first, last) > limit
                ):
                    raise OversizedEventError(_oversized(limit))
                run = len(chunk) - last - 1
            yield chunk

    def close(self) -> None:
        self._inner.close()


def _longest_inner_line(chunk: bytes, first: int, last: int) -> int:
    if last - first <= 0:
        return 0
    return max(len(part) for part in chunk[first + 1 : last].replace(b"\r", b"\n").split(b"\n"))


def _oversized(limit: int) -> str:
    return f"oversized event: a line over {limit / (1 << 20):g} MiB on /v1/stream"


def describe_error(exc: Exception, url: str, timing: Timing) -> str:
    """An httpx failure in words."""
    if isinstance(exc, httpx.ConnectTimeout):
        return f"cannot connect to {url}: timed out after {timing.connect_timeout_s:g} s"
    if isinstance(exc, httpx.ConnectError):
        text = str(exc)
        if "refused" in text.lower():
            return f"cannot connect to {url}: connection refused"
        return f"cannot connect to {url}: {text}"
    if isinstance(exc, httpx.ReadTimeout):
        return f"{url} accepted the connection but did not answer"
    if isinstance(exc, httpx.TimeoutException):
        return f"{url} timed out"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"{url} broke the connection ({exc})"
    if isinstance(exc, httpx.HTTPError):
        return f"{url}: {type(exc).__name__}: {exc}"
    return f"{url}: {exc!r}"


def check_response(response: httpx.Response, path: str, want: str) -> None:
    if response.is_redirect:
        where = response.headers.get("location", "?")
        raise CburnError(f"{path} redirects to {where}; redirects are not followed")
    if response.status_code == 404:
        raise CburnError(f"{path} not found (HTTP 404): is this a cburn daemon?")
    if response.status_code != 200:
        raise CburnError(f"{path} answered HTTP {response.status_code}")
    content_type = response.headers.get("content-type", "").partition(";")[0].strip()
    if want not in content_type:
        raise CburnError(f"{path} answered {content_type or 'no content type'}, not {want}")


def new_client(timing: Timing) -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(timing.request_timeout_s, connect=timing.connect_timeout_s),
        follow_redirects=False,
        trust_env=False,  # a proxy from the environment must not carry loopback traffic
        headers={"User-Agent": f"burntray/{__version__}"},
    )


def get(
    client: httpx.Client,
    base_url: str,
    path: str,
    *,
    want: str,
    limit: int,
    timing: Timing,
    deadline: float | None = None,
) -> bytes:
    """GET ``path`` expecting content type ``want`` and at most ``limit`` bytes, within the
    timing's timeouts (and before ``deadline``, a ``time.monotonic`` value). Raises CburnError."""
    url = base_url + path
    timeout: httpx.Timeout | None = None
    if deadline is not None:
        left = deadline - time.monotonic()
        if left <= 0.05:
            raise CburnError(f"{url}: out of time")
        timeout = httpx.Timeout(
            min(timing.request_timeout_s, left), connect=min(timing.connect_timeout_s, left)
        )
    try:
        kwargs: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        with client.stream("GET", url, **kwargs) as response:
            check_response(response, path, want)
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise CburnError(f"{path} is larger than {limit >> 20} MiB")
            return bytes(body)
    except httpx.HTTPError as exc:
        raise CburnError(describe_error(exc, url, timing)) from None
    except httpx.InvalidURL as exc:
        raise CburnError(f"{url} is not a usable URL: {exc}") from None


def fetch_status_and_events(
    client: httpx.Client, base_url: str, timing: Timing, deadline: float | None = None
) -> tuple[wire.WireStatus, list[wire.WireEvent]]:
    """The daemon's status summary and its event buffer. Raises CburnError."""
    try:
        json_type = "application/json"
        status = wire.decode_status(
            get(client, base_url, "/v1/status", want=json_type, limit=MAX_STATUS_BYTES,
                timing=timing, deadline=deadline)
        )  # fmt: skip
        events = wire.decode_events(
            get(client, base_url, "/v1/events", want=json_type, limit=MAX_EVENTS_BYTES,
                timing=timing, deadline=deadline)
        )  # fmt: skip
        return status, events
    except wire.WireFormatError as exc:
        raise CburnError(str(exc)) from None
