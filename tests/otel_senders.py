"""Real OTLP clients for the tests: the official OpenTelemetry Python SDK and its OTLP/HTTP
exporters (protobuf, and JSON), emitting exactly the metric and event names and attributes
Claude Code, Codex and Gemini CLI send. Nothing here builds an OTLP body by hand.

A ``Sender`` is one tool process: its resource (``service.name``) and its SDK providers; a new
``Sender`` for the same tool is a restart (new start times on cumulative series). ``receiving``
is the burntray end: a real receiver on a free loopback port for the length of a ``with``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any, Literal

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

from burntray.sources.otel.receiver import ExportCallback, OtlpReceiver

Protocol = Literal["protobuf", "json"]
Temporality = Literal["delta", "cumulative"]


def _exporters(protocol: Protocol, base: str, temporality: Temporality) -> tuple[Any, Any]:
    temp = (
        AggregationTemporality.DELTA
        if temporality == "delta"
        else AggregationTemporality.CUMULATIVE
    )
    preferred = {Counter: temp, Histogram: temp}
    if protocol == "protobuf":
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    else:
        from opentelemetry.exporter.otlp.json.http._log_exporter import (  # type: ignore[no-redef]
            OTLPLogExporter,
        )
        from opentelemetry.exporter.otlp.json.http.metric_exporter import (  # type: ignore[no-redef]
            OTLPMetricExporter,
        )
    logs = OTLPLogExporter(endpoint=f"{base}/v1/logs", timeout=5)
    metrics = OTLPMetricExporter(
        endpoint=f"{base}/v1/metrics", timeout=5, preferred_temporality=preferred
    )
    return logs, metrics


class Sender:
    """One tool process exporting to ``base`` (``http://127.0.0.1:PORT``)."""

    def __init__(
        self,
        service: str,
        base: str,
        protocol: Protocol = "protobuf",
        temporality: Temporality = "delta",
    ) -> None:
        resource = Resource.create({"service.name": service, "service.version": "1.0.0"})
        log_exporter, metric_exporter = _exporters(protocol, base, temporality)
        self.logs = LoggerProvider(resource=resource)
        self.logs.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
        # a reader that never fires on its own: the test flushes when it wants an export
        self.reader = PeriodicExportingMetricReader(
            metric_exporter, export_interval_millis=3_600_000
        )
        self.meters = MeterProvider(resource=resource, metric_readers=[self.reader])
        self.logger = self.logs.get_logger(service)
        self.meter = self.meters.get_meter(service)
        self._instruments: dict[str, Any] = {}

    def counter(self, name: str, unit: str = "") -> Any:
        if name not in self._instruments:
            self._instruments[name] = self.meter.create_counter(name, unit=unit)
        return self._instruments[name]

    def histogram(self, name: str, unit: str = "") -> Any:
        if name not in self._instruments:
            self._instruments[name] = self.meter.create_histogram(name, unit=unit)
        return self._instruments[name]

    def event(self, name: str, attributes: dict[str, Any], body: str | None = None) -> None:
        self.logger.emit(
            timestamp=time.time_ns(),
            body=body if body is not None else name,
            attributes={"event.name": name, **attributes},
            event_name=name,
        )

    def flush_metrics(self) -> None:
        assert self.meters.force_flush(10_000)

    def close(self) -> None:
        self.logs.shutdown()
        self.meters.shutdown()

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def receiving(on_export: ExportCallback, **options: Any) -> Iterator[OtlpReceiver]:
    """An ``OtlpReceiver`` on a free loopback port (``options`` as for it), started, and closed
    when the ``with`` ends."""
    receiver = OtlpReceiver("127.0.0.1", 0, on_export, **options)
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.close()


# --- what each tool sends ------------------------------------------------------------------


def claude_request(
    sender: Sender,
    *,
    session: str,
    request_id: str,
    model: str,
    inp: int,
    out: int,
    cache_read: int,
    cache_write: int,
    cost: float,
    event: bool = True,
    metric: bool = True,
) -> None:
    """One Claude Code API request: its ``claude_code.api_request`` event and/or its metrics.

    Claude Code sends its event attributes as strings."""
    if event:
        sender.event(
            "claude_code.api_request",
            {
                "session.id": session,
                "model": model,
                "cost_usd": str(cost),
                "duration_ms": "1234",
                "input_tokens": str(inp),
                "output_tokens": str(out),
                "cache_read_tokens": str(cache_read),
                "cache_creation_tokens": str(cache_write),
                "request_id": request_id,
                "event.sequence": 1,
            },
        )
    if metric:
        common = {"session.id": session, "model": model, "query_source": "main"}
        sender.counter("claude_code.cost.usage", "USD").add(cost, common)
        tokens = sender.counter("claude_code.token.usage", "tokens")
        for kind, n in (
            ("input", inp),
            ("output", out),
            ("cacheRead", cache_read),
            ("cacheCreation", cache_write),
        ):
            tokens.add(n, {**common, "type": kind})


def codex_request(
    sender: Sender, *, conversation: str, model: str, inp: int, cached: int, out: int
) -> None:
    """Codex's ``codex.sse_event`` stream of one response: only ``response.completed`` counts."""
    base = {"conversation.id": conversation, "model": model, "slug": model}
    sender.event("codex.sse_event", {**base, "event.kind": "response.created"})
    sender.event("codex.sse_event", {**base, "event.kind": "response.output_text.delta"})
    sender.event(
        "codex.sse_event",
        {
            **base,
            "event.kind": "response.completed",
            "input_token_count": inp,
            "output_token_count": out,
            "cached_token_count": cached,
            "reasoning_token_count": 7,
            "tool_token_count": 0,
        },
    )


def gemini_request(
    sender: Sender,
    *,
    session: str,
    model: str,
    inp: int,
    cached: int,
    out: int,
    thoughts: int,
    event: bool = True,
    metric: bool = True,
    genai: bool = True,
) -> None:
    """Gemini CLI: ``gemini_cli.api_response``, ``gemini_cli.token.usage`` and the GenAI
    histogram ``gen_ai.client.token.usage``, as it sends all three."""
    if event:
        sender.event(
            "gemini_cli.api_response",
            {
                "session.id": session,
                "model": model,
                "status_code": 200,
                "duration_ms": 900,
                "input_token_count": inp,
                "output_token_count": out,
                "cached_content_token_count": cached,
                "thoughts_token_count": thoughts,
                "tool_token_count": 0,
                "total_token_count": inp + out + thoughts,
                "prompt_id": f"{session}-p",
            },
            body=f"API response from {model}. Status: 200. Duration: 900ms.",
        )
    if metric:
        usage = sender.counter("gemini_cli.token.usage", "token")
        for kind, n in (("input", inp), ("output", out), ("thought", thoughts), ("cache", cached)):
            usage.add(n, {"session.id": session, "model": model, "type": kind})
    if genai:
        hist = sender.histogram("gen_ai.client.token.usage", "{token}")
        common = {
            "gen_ai.operation.name": "generate_content",
            "gen_ai.provider.name": "gcp.gemini",
            "gen_ai.request.model": model,
        }
        hist.record(inp, {**common, "gen_ai.token.type": "input"})
        hist.record(out + thoughts, {**common, "gen_ai.token.type": "output"})


def send_claude_request(port: int, request_id: str, cost: float, session: str = "s") -> None:
    """One Claude Code API request (its event only) exported by the official SDK to the
    receiver on ``port``."""
    with Sender("claude-code", f"http://127.0.0.1:{port}") as sender:
        claude_request(
            sender,
            session=session,
            request_id=request_id,
            model="claude-opus-4-1",
            inp=1,
            out=2,
            cache_read=0,
            cache_write=0,
            cost=cost,
            metric=False,
        )


def page_claude_body() -> bytes:
    """The protobuf body the SDK sends for one $123.45 Claude Code request: what a hostile web
    page replays at the receiver."""
    got: list[Any] = []
    with receiving(lambda _path, message, _ts: got.append(message)) as r:
        send_claude_request(r.port, "from-a-page", 123.45, session="web")
    return bytes(got[0].SerializeToString())
