"""What the OTLP and hub benchmarks share: a free loopback port, a GET that never raises, and
OTLP/HTTP log exports of Claude Code events as Claude Code sends them."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterable
from typing import Any


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(port: int, path: str, timeout: float = 30.0) -> tuple[int, bytes]:
    """``GET path`` on 127.0.0.1:port: (status, body), or (0, b"") when nothing answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    except OSError:
        return 0, b""
    finally:
        conn.close()


def claude_code_logs() -> tuple[Any, Any]:
    """An empty OTLP/HTTP logs export as Claude Code sends it (resource ``service.name``
    claude-code) and its one scope, to add events to."""
    # imported here: a benchmark that only needs a port does not load the protobuf classes
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
        ExportLogsServiceRequest,
    )

    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    kv = rl.resource.attributes.add()
    kv.key, kv.value.string_value = "service.name", "claude-code"
    return req, rl.scope_logs.add()


def add_event(scope: Any, name: str, attributes: Iterable[tuple[str, str]], ts_ns: int) -> None:
    """One log record ``name`` at ``ts_ns`` with string ``attributes``, in ``scope``."""
    rec = scope.log_records.add()
    rec.time_unix_nano = ts_ns
    rec.event_name = name
    for key, value in attributes:
        a = rec.attributes.add()
        a.key, a.value.string_value = key, value


def claude_code_export(i: int, events: int = 10, request_prefix: str = "req") -> bytes:
    """Export ``i``: ``events`` ``claude_code.api_request`` log records (session ``s{i % 7}``,
    request ids ``{request_prefix}_{i}_{j}``), serialized as OTLP/HTTP protobuf."""
    req, scope = claude_code_logs()
    now = time.time_ns()
    for j in range(events):
        attributes = (
            ("session.id", f"s{i % 7}"),
            ("model", "claude-sonnet-4-5"),
            ("cost_usd", "0.0123"),
            ("input_tokens", "120"),
            ("output_tokens", "40"),
            ("cache_read_tokens", "3000"),
            ("cache_creation_tokens", "0"),
            ("request_id", f"{request_prefix}_{i}_{j}"),
        )
        add_event(scope, "claude_code.api_request", attributes, now)
    return req.SerializeToString()
