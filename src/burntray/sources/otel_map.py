"""What each tool's OTLP telemetry means, as plain values: usage events and usage metric points.

Which names and attributes carry usage (as the tools document them):

- Claude Code: log event ``claude_code.api_request`` (one per API request: ``model``,
  ``cost_usd``, ``input_tokens``, ``output_tokens``, ``cache_read_tokens``,
  ``cache_creation_tokens``, ``request_id``, ``session.id``); metrics ``claude_code.cost.usage``
  (USD) and ``claude_code.token.usage`` (``type`` = input | output | cacheRead | cacheCreation),
  both with ``model`` and ``session.id``. Its input tokens are already uncached.
- Codex: log event ``codex.sse_event`` with ``event.kind`` = ``response.completed``:
  ``input_token_count`` (includes the cached part), ``output_token_count`` (includes
  reasoning), ``cached_token_count``, ``model``, ``conversation.id``. No cost.
- Gemini CLI: log event ``gemini_cli.api_response`` (``input_token_count`` includes the cached
  part, ``output_token_count`` excludes thoughts, ``cached_content_token_count``,
  ``thoughts_token_count``, ``tool_token_count``, ``model``, ``session.id``); metric
  ``gemini_cli.token.usage`` (``type`` = input | output | thought | cache | tool). No cost.
- The GenAI semantic convention: histogram ``gen_ai.client.token.usage``
  (``gen_ai.token.type`` = input | output, ``gen_ai.request.model``/``gen_ai.response.model``,
  ``gen_ai.provider.name`` or the older ``gen_ai.system``); its count is the number of requests.

Everything else is named in ``ignored`` so doctor can say what arrived and was not understood.
Attribute values are read leniently (Claude Code sends numbers as strings).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, NamedTuple

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric

DELTA: Final = 1  # AggregationTemporality
CUMULATIVE: Final = 2

CLAUDE: Final = "claude-code"
CODEX: Final = "codex"
GEMINI: Final = "gemini-cli"
PROVIDERS: Final = {CLAUDE: "anthropic", CODEX: "openai", GEMINI: "google"}
# resource service.name -> tool (to tell whose GenAI metrics these are)
SERVICES: Final = {
    "claude-code": CLAUDE,
    "claude_code": CLAUDE,
    "codex": CODEX,
    "codex_cli_rs": CODEX,
    "codex-cli": CODEX,
    "gemini-cli": GEMINI,
    "gemini_cli": GEMINI,
}

TOKEN_TYPES: Final = ("input", "output", "cache_read", "cache_write")
_CLAUDE_TYPES: Final = {
    "input": "input",
    "output": "output",
    "cacheRead": "cache_read",
    "cacheCreation": "cache_write",
}
# Gemini's own types: "input" includes "cache"; "thought" is billed as output; "tool" as input.
_GEMINI_TYPES: Final = {
    "input": "input",
    "output": "output",
    "thought": "output",
    "tool": "input",
    "cache": "cache_read",
}
_GENAI_TYPES: Final = {"input": "input", "output": "output"}


class UsageEvent(NamedTuple):
    """One request as a tool's log event reported it (tokens in burntray's convention)."""

    tool: str
    provider: str
    model: str
    session: str
    ts_ns: int
    input_tokens: int  # uncached
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float | None  # the tool's own, when it sends one
    key: str  # unique per request (the tool's request id where it has one)


class MetricPoint(NamedTuple):
    """One data point of a usage metric: ``value`` of ``part`` (a token type or "cost")."""

    tool: str
    provider: str
    model: str
    session: str
    part: str  # "input" | "output" | "cache_read" | "cache_write" | "cost"
    series: str  # identity of the time series (metric, resource and point attributes)
    temporality: int  # DELTA | CUMULATIVE
    start_ns: int
    time_ns: int
    value: float
    observations: int = 0  # histogram count (requests) in the point; 0 when not a histogram
    tool_specific: bool = True  # False for the GenAI convention's metric
    negate: bool = False  # Gemini's "cache" is a part of its "input": subtract it there too


@dataclass
class Decoded:
    events: list[UsageEvent] = field(default_factory=list)
    points: list[MetricPoint] = field(default_factory=list)
    ignored: dict[str, int] = field(default_factory=dict)  # name -> records/points not used
    seen: dict[str, int] = field(default_factory=dict)  # name -> records/points used

    def note(self, target: dict[str, int], name: str, n: int = 1) -> None:
        target[name or "(unnamed)"] = target.get(name or "(unnamed)", 0) + n


# --- attribute values ---------------------------------------------------------------------


_SCALARS: Final = frozenset({"string_value", "int_value", "double_value", "bool_value"})


def attrs(kvs: Iterable[KeyValue]) -> dict[str, object]:
    """Scalar attribute values by key (usage attributes are scalars; nested ones are skipped).
    Inlined on purpose: it runs for every attribute of every record received."""
    out: dict[str, object] = {}
    for kv in kvs:
        v = kv.value
        kind = v.WhichOneof("value")
        if kind in _SCALARS:
            out[kv.key] = getattr(v, kind)
    return out


def _text(a: Mapping[str, object], *keys: str) -> str:
    for key in keys:
        value = a.get(key)
        if isinstance(value, str) and value:
            return value[:200]
    return ""


def _int(a: Mapping[str, object], key: str) -> int:
    value = a.get(key)
    if type(value) is str and value.isdigit() and len(value) < 13:
        return int(value)  # the common case: Claude Code's "1234"
    try:
        if isinstance(value, bool) or value is None:
            return 0
        if isinstance(value, int):
            number = value
        elif isinstance(value, float):
            number = int(value)
        elif isinstance(value, str):
            number = int(float(value.strip() or 0))
        else:
            return 0
    except (ValueError, OverflowError):
        return 0
    return number if 0 <= number < 10**12 else 0


def _float(a: Mapping[str, object], key: str) -> float | None:
    value = a.get(key)
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value) if isinstance(value, int | float | str) else None
    except ValueError:
        return None
    if number is None or not 0 <= number < 1e9:  # NaN fails this too
        return None
    return number


def _digest(*parts: object) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=10).hexdigest()


# --- logs ------------------------------------------------------------------------------------


def _event_name(record_event_name: str, a: Mapping[str, object], body: AnyValue) -> str:
    if record_event_name:
        return record_event_name
    name = a.get("event.name")
    if isinstance(name, str) and name:
        return name
    text = body.string_value if body.WhichOneof("value") == "string_value" else ""
    return text if len(text) <= 100 and " " not in text else ""


def decode_logs(req: ExportLogsServiceRequest, received_ns: int) -> Decoded:
    out = Decoded()
    for rl in req.resource_logs:
        service = _text(attrs(rl.resource.attributes), "service.name")
        for sl in rl.scope_logs:
            for rec in sl.log_records:
                a = attrs(rec.attributes)
                name = _event_name(rec.event_name, a, rec.body)
                if name == "api_request" and SERVICES.get(service) == CLAUDE:
                    name = "claude_code.api_request"
                ts = rec.time_unix_nano or rec.observed_time_unix_nano or received_ns
                if ts > received_ns + 300 * 10**9:  # a clock far ahead: use arrival time
                    ts = received_ns
                event = _log_event(name, a, ts, service)
                if event is None:
                    if name == "codex.sse_event":  # other SSE kinds carry no usage
                        out.note(out.seen, name)
                    else:
                        out.note(out.ignored, name)
                    continue
                out.events.append(event)
                out.note(out.seen, name)
    return out


def _log_event(name: str, a: Mapping[str, object], ts: int, service: str) -> UsageEvent | None:
    if name == "claude_code.api_request":
        session = _text(a, "session.id")
        model = _text(a, "model")
        request_id = _text(a, "request_id")
        key = f"{CLAUDE}:req:{request_id}" if request_id else _event_key(CLAUDE, ts, a)
        return UsageEvent(
            CLAUDE,
            PROVIDERS[CLAUDE],
            model,
            session,
            ts,
            _int(a, "input_tokens"),
            _int(a, "output_tokens"),
            _int(a, "cache_read_tokens"),
            _int(a, "cache_creation_tokens"),
            _float(a, "cost_usd"),
            key,
        )
    if name == "codex.sse_event":
        if _text(a, "event.kind") != "response.completed":
            return None
        cached = _int(a, "cached_token_count")
        prompt = _int(a, "input_token_count")
        return UsageEvent(
            CODEX,
            PROVIDERS[CODEX],
            _text(a, "model", "slug"),
            _text(a, "conversation.id"),
            ts,
            max(prompt - cached, 0),
            _int(a, "output_token_count"),
            min(cached, prompt) if prompt else cached,
            0,
            None,
            _event_key(CODEX, ts, a),
        )
    if name == "gemini_cli.api_response":
        cached = _int(a, "cached_content_token_count")
        prompt = _int(a, "input_token_count") + _int(a, "tool_token_count")
        prompt_id = _text(a, "prompt_id")
        return UsageEvent(
            GEMINI,
            PROVIDERS[GEMINI],
            _text(a, "model"),
            _text(a, "session.id"),
            ts,
            max(prompt - cached, 0),
            _int(a, "output_token_count") + _int(a, "thoughts_token_count"),
            min(cached, prompt) if prompt else cached,
            0,
            None,
            _event_key(GEMINI, ts, a, prompt_id),
        )
    return None


def _event_key(tool: str, ts: int, a: Mapping[str, object], *extra: str) -> str:
    """A stable key for an event without a request id: a retried export replaces, not adds."""
    return f"{tool}:ev:{ts}:{_digest(sorted((k, str(v)) for k, v in a.items()), *extra)}"


# --- metrics ---------------------------------------------------------------------------------


def decode_metrics(req: ExportMetricsServiceRequest) -> Decoded:
    out = Decoded()
    for rm in req.resource_metrics:
        ra = attrs(rm.resource.attributes)
        service = _text(ra, "service.name")
        resource_id = _digest(service, _text(ra, "service.instance.id"), _text(ra, "host.name"))
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                name = metric.name
                kind = metric.WhichOneof("data")
                used = 0
                if name in ("claude_code.cost.usage", "claude_code.token.usage") and kind == "sum":
                    used = _sum_points(out, metric, CLAUDE, resource_id)
                elif name == "gemini_cli.token.usage" and kind == "sum":
                    used = _sum_points(out, metric, GEMINI, resource_id)
                elif name == "gen_ai.client.token.usage" and kind == "histogram":
                    used = _genai_points(out, metric, service, resource_id)
                else:
                    out.note(out.ignored, name)
                    continue
                out.note(out.seen, name, used)
    return out


def _sum_points(out: Decoded, metric: Metric, tool: str, resource_id: str) -> int:
    s = metric.sum
    name: str = metric.name
    n = 0
    for dp in s.data_points:
        a = attrs(dp.attributes)
        value = dp.as_double if dp.WhichOneof("value") == "as_double" else float(dp.as_int)
        if name.endswith("cost.usage"):
            parts = [("cost", False)]
        elif tool == CLAUDE:
            parts = [(_CLAUDE_TYPES.get(_text(a, "type"), ""), False)]
        else:
            kind = _text(a, "type")
            parts = [(_GEMINI_TYPES.get(kind, ""), False)]
            if kind == "cache":  # cached tokens are also inside "input": take them out there
                parts.append(("input", True))
        series = _digest(name, resource_id, sorted((k, str(v)) for k, v in a.items()))
        for part, negate in parts:
            if not part:
                continue
            out.points.append(
                MetricPoint(
                    tool,
                    PROVIDERS[tool],
                    _text(a, "model"),
                    _text(a, "session.id"),
                    part,
                    series + (":neg" if negate else ""),
                    s.aggregation_temporality,
                    dp.start_time_unix_nano,
                    dp.time_unix_nano,
                    value,
                    negate=negate,
                )
            )
            n += 1
    return n


def _genai_points(out: Decoded, metric: Metric, service: str, resource_id: str) -> int:
    h = metric.histogram
    tool = SERVICES.get(service, f"genai:{service or 'unknown'}")
    n = 0
    for dp in h.data_points:
        a = attrs(dp.attributes)
        part = _GENAI_TYPES.get(_text(a, "gen_ai.token.type"), "")
        if not part:
            continue
        provider = _text(a, "gen_ai.provider.name", "gen_ai.system") or PROVIDERS.get(tool, "")
        series = _digest(metric.name, resource_id, sorted((k, str(v)) for k, v in a.items()))
        out.points.append(
            MetricPoint(
                tool,
                _provider(provider),
                _text(a, "gen_ai.response.model", "gen_ai.request.model"),
                _text(a, "session.id"),
                part,
                series,
                h.aggregation_temporality,
                dp.start_time_unix_nano,
                dp.time_unix_nano,
                dp.sum,
                observations=int(dp.count),
                tool_specific=False,
            )
        )
        n += 1
    return n


def _provider(name: str) -> str:
    """GenAI provider names (``gcp.gemini``, ``aws.bedrock``...) to burntray's provider names."""
    low = name.lower()
    if "gemini" in low or low.startswith(("gcp", "google", "vertex")):
        return "google"
    if "anthropic" in low:
        return "anthropic"
    if "openai" in low:
        return "openai"
    return low
