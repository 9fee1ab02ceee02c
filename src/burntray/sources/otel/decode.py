"""Turning an OTLP/HTTP request body into the official generated message, under hard limits.

OTLP/HTTP (the OpenTelemetry protocol's HTTP binding) sends one ``Export*ServiceRequest`` per
POST, as protobuf (``application/x-protobuf``) or as protobuf's JSON mapping
(``application/json``), optionally gzip-compressed. Decoding is done only by the classes
``opentelemetry-proto`` generates, never by hand. Every way a body can be wrong becomes an
``OtlpError`` with the HTTP status to answer and a reason a person can act on; nothing a client
sends raises anything else.

Limits: a compressed body may be at most ``MAX_BODY`` bytes (checked before it is read); a gzip
body is inflated incrementally and refused as soon as it passes ``MAX_DECODED`` (a "gzip bomb"
never gets the chance to fill memory). Decoding takes several times a body's size in memory (a
body of tiny attributes, about 7 times): bodies over ``LARGE`` bytes once inflated are decoded
one at a time, so a few concurrent large exports cannot multiply that; one that waits more than
``LARGE_WAIT_S`` for its turn gets 503 (the exporters retry it). Honest exports are far smaller
and never wait.
"""

from __future__ import annotations

import threading
import zlib
from typing import Final, NamedTuple

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from burntray.io.http_body import RequestRefused

MAX_BODY: Final = 8 * 1024 * 1024  # bytes on the wire (the limit; 413 above it)
MAX_DECODED: Final = 8 * 1024 * 1024  # bytes after gzip
_CHUNK: Final = 64 * 1024
LARGE: Final = 1024 * 1024  # decoded bytes above which bodies are decoded one at a time
LARGE_WAIT_S: Final = 2.0
_large_turn = threading.Lock()

# path -> (request class, empty response class)
SIGNALS: Final[dict[str, tuple[type[Message], type[Message]]]] = {
    "/v1/logs": (ExportLogsServiceRequest, ExportLogsServiceResponse),
    "/v1/metrics": (ExportMetricsServiceRequest, ExportMetricsServiceResponse),
    "/v1/traces": (ExportTraceServiceRequest, ExportTraceServiceResponse),
}

PROTOBUF: Final = "application/x-protobuf"
JSON: Final = "application/json"


class Rejected(NamedTuple):
    """What an accepted export held that was refused: OTLP's partial success."""

    n: int  # log records, data points or spans
    message: str


# path -> the partial-success field that counts what was refused
_REJECTED_FIELD: Final = {
    "/v1/logs": "rejected_log_records",
    "/v1/metrics": "rejected_data_points",
    "/v1/traces": "rejected_spans",
}


class OtlpError(RequestRefused):
    """A request burntray refuses: ``status`` is the HTTP status, ``reason`` says why."""


class _TooLarge(OtlpError):
    """A body that inflates past the limit ``inflate`` was given."""


def media_type(content_type: str | None) -> str:
    """``application/json; charset=utf-8`` -> ``application/json``; protobuf when absent."""
    if not content_type:
        return PROTOBUF
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind in (PROTOBUF, "application/protobuf", "application/vnd.google.protobuf"):
        return PROTOBUF
    if kind == JSON:
        return JSON
    raise OtlpError(
        415, f"unsupported Content-Type {kind!r}: send {PROTOBUF} or {JSON} (OTLP/HTTP)"
    )


def inflate(body: bytes, encoding: str | None, limit: int = MAX_DECODED) -> bytes:
    """The body with its Content-Encoding undone; gzip output is capped at ``limit`` bytes."""
    enc = (encoding or "identity").strip().lower()
    if enc in ("", "identity"):
        return body
    if enc not in ("gzip", "x-gzip"):
        raise OtlpError(415, f"unsupported Content-Encoding {enc!r}: send gzip or none")
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    out = bytearray()
    data = body
    try:
        while data:
            # max_length bounds each step, so memory never exceeds limit + one chunk
            out += inflater.decompress(data, _CHUNK)
            if len(out) > limit:
                raise _TooLarge(413, f"gzip body inflates to more than {limit // 2**20} MiB")
            data = inflater.unconsumed_tail
        out += inflater.flush(_CHUNK)
    except zlib.error as exc:
        raise OtlpError(400, f"gzip body is corrupt: {exc}") from None
    if len(out) > limit:
        raise _TooLarge(413, f"gzip body inflates to more than {limit // 2**20} MiB")
    if not inflater.eof:
        raise OtlpError(400, "gzip body is truncated")
    return bytes(out)


def decode(path: str, content_type: str | None, encoding: str | None, body: bytes) -> Message:
    """The ``Export*ServiceRequest`` for ``path`` from a raw body, or ``OtlpError``."""
    signal = SIGNALS.get(path)
    if signal is None:
        raise OtlpError(404, f"no such OTLP endpoint {path!r}: use " + ", ".join(SIGNALS))
    kind = media_type(content_type)
    data: bytes | None
    try:
        data = inflate(body, encoding, LARGE)
    except _TooLarge:
        data = None
    if data is not None and len(data) <= LARGE:
        return _parse(path, kind, signal[0](), data)
    if not _large_turn.acquire(timeout=LARGE_WAIT_S):
        raise OtlpError(503, "busy decoding another large export: retry later")
    try:
        if data is None:
            data = inflate(body, encoding)
        return _parse(path, kind, signal[0](), data)
    finally:
        _large_turn.release()


def _parse(path: str, kind: str, message: Message, data: bytes) -> Message:
    try:
        if kind == PROTOBUF:
            message.ParseFromString(data)
        else:
            json_format.Parse(data.decode("utf-8"), message, ignore_unknown_fields=True)
    except UnicodeDecodeError:
        raise OtlpError(400, "JSON body is not UTF-8") from None
    except (DecodeError, json_format.ParseError) as exc:
        what = "protobuf" if kind == PROTOBUF else "JSON"
        raise OtlpError(400, f"not an OTLP {path[4:]} {what} body: {_short(exc)}") from None
    except (RecursionError, ValueError, TypeError) as exc:  # nesting too deep, odd values
        raise OtlpError(400, f"OTLP body cannot be decoded: {_short(exc)}") from None
    return message


def response_body(path: str, kind: str, rejected: Rejected | None = None) -> bytes:
    """The ``Export*ServiceResponse`` in the request's own format: empty when everything was
    taken, else with ``partial_success`` saying how many items were refused and why."""
    response = SIGNALS[path][1]()
    if rejected is not None and (rejected.n or rejected.message):
        partial = response.partial_success  # type: ignore[attr-defined]
        setattr(partial, _REJECTED_FIELD[path], max(rejected.n, 0))
        partial.error_message = rejected.message[:1000]
    if kind == JSON:
        if not response.ListFields():
            return b"{}"
        return json_format.MessageToJson(response, indent=None).encode()
    return response.SerializeToString()


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
