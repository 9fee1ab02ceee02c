"""What each tool's OTLP telemetry means, as plain values: usage events and usage metric points
(the metrics are decoded in ``otel.metric_mapping``).

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
Attribute values are read leniently in form (Claude Code sends numbers as strings) but strictly
in value: every usage event and point is checked here, at the boundary, and one that is not a
plausible figure (NaN, infinite, negative, over a ceiling below) is rejected alone, with its
reason, for the receiver to report through OTLP partial success; the rest of its export counts.
What a sender controls is bounded before it is walked: records or points per export, attributes
per record, point or resource.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from typing import Final, NamedTuple

from msgspec import Struct, field
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

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

# Ceilings of what is plausible. One request: the largest context windows are a few million
# tokens and the dearest requests cost a few hundred dollars, so these are far above any real
# request yet keep every sum of them far inside SQLite's 64-bit integers and finite floats.
MAX_TOKENS_PER_REQUEST: Final = 100_000_000  # per token type
MAX_COST_PER_REQUEST: Final = 1_000.0  # USD
# What one export may hold: the SDKs batch 512 log records by default and Claude Code sends a
# handful of points per session; the OpenTelemetry SDK's default attribute limit is 128.
MAX_ITEMS_PER_EXPORT: Final = 10_000  # log records, or data points
MAX_ATTRIBUTES: Final = 128  # per record, point or resource
MAX_TEXT: Final = 200  # a model name; longer ids are hashed to this length, never cut
_REASONS_KEPT: Final = 5


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


class Invalid(ValueError):
    """An attribute or value of a usage record that is not a plausible figure."""


class Decoded(Struct):
    events: list[UsageEvent] = field(default_factory=list)
    points: list[MetricPoint] = field(default_factory=list)
    ignored: dict[str, int] = field(default_factory=dict)  # name -> records/points not used
    seen: dict[str, int] = field(default_factory=dict)  # name -> records/points used
    rejected: int = 0  # records/points refused (OTLP partial success)
    reasons: dict[str, int] = field(default_factory=dict)  # why (the first few reasons)

    def note(self, target: dict[str, int], name: str, n: int = 1) -> None:
        target[name or "(unnamed)"] = target.get(name or "(unnamed)", 0) + n

    def reject(self, reason: str, n: int = 1) -> None:
        self.rejected += n
        if reason in self.reasons or len(self.reasons) < _REASONS_KEPT:
            self.reasons[reason] = self.reasons.get(reason, 0) + n

    def message(self) -> str:
        """The partial-success ``error_message``: each reason once, with its count."""
        parts = [f"{reason} ({n}x)" if n > 1 else reason for reason, n in self.reasons.items()]
        more = self.rejected - sum(self.reasons.values())
        if more > 0:
            parts.append(f"{more} more")
        return "; ".join(parts)


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


def text_attr(a: Mapping[str, object], *keys: str) -> str:
    """A name (model, kind): one longer than ``MAX_TEXT`` is not a name, it is refused."""
    for key in keys:
        value = a.get(key)
        if isinstance(value, str) and value:
            if len(value) > MAX_TEXT:
                raise Invalid(f"{key} is {len(value)} characters, over {MAX_TEXT}")
            return value
    return ""


def ident_attr(a: Mapping[str, object], *keys: str) -> str:
    """An id (request, session): a long one is hashed, so distinct ids stay distinct."""
    for key in keys:
        value = a.get(key)
        if isinstance(value, str) and value:
            if len(value) > MAX_TEXT:
                return "h:" + hashlib.blake2b(value.encode(), digest_size=20).hexdigest()
            return value
    return ""


def _int(a: Mapping[str, object], key: str, cap: int = MAX_TOKENS_PER_REQUEST) -> int:
    """A token count: absent is 0; anything but a whole number from 0 to ``cap`` is refused."""
    value = a.get(key)
    if type(value) is str and value.isdigit() and value.isascii() and len(value) < 13:
        number = int(value)  # the common case: Claude Code's "1234"
    elif value is None:
        return 0
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float | str) and not isinstance(value, bool):
        try:
            real = float(value.strip() or 0) if isinstance(value, str) else value
        except ValueError:
            raise Invalid(f"{key} {show_value(value)} is not a number") from None
        if not math.isfinite(real) or real != int(real):
            raise Invalid(f"{key} {show_value(value)} is not a whole number of tokens")
        number = int(real)
    else:
        raise Invalid(f"{key} {show_value(value)} is not a number")
    if not 0 <= number <= cap:
        raise Invalid(f"{key} {show_value(value)} is outside 0..{cap:,}")
    return number


def _float(a: Mapping[str, object], key: str) -> float | None:
    """A request's cost in USD: absent is None; anything but 0..MAX_COST_PER_REQUEST is
    refused (NaN and infinities included)."""
    value = a.get(key)
    if value is None:
        return None
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError
        number = float(value)
    except (ValueError, OverflowError):
        raise Invalid(f"{key} {show_value(value)} is not a number") from None
    if not 0 <= number <= MAX_COST_PER_REQUEST:  # NaN fails this too
        raise Invalid(f"{key} {show_value(value)} is outside 0..{MAX_COST_PER_REQUEST:,.0f} USD")
    return number


def show_value(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def digest_of(*parts: object) -> str:
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
    budget = MAX_ITEMS_PER_EXPORT
    for rl in req.resource_logs:
        if len(rl.resource.attributes) > MAX_ATTRIBUTES:  # counted before anything is walked
            n = sum(len(sl.log_records) for sl in rl.scope_logs)
            out.reject(f"a resource has over {MAX_ATTRIBUTES} attributes", n)
            continue
        try:
            service = text_attr(attrs(rl.resource.attributes), "service.name")
        except Invalid:
            service = ""
        for sl in rl.scope_logs:
            records = sl.log_records
            if len(records) > budget:
                out.reject(
                    f"over {MAX_ITEMS_PER_EXPORT:,} log records in one export",
                    len(records) - budget,
                )
                records = records[:budget]  # type: ignore[assignment]
            budget -= len(records)
            for rec in records:
                if len(rec.attributes) > MAX_ATTRIBUTES:
                    out.reject(f"a log record has over {MAX_ATTRIBUTES} attributes")
                    continue
                a = attrs(rec.attributes)
                name = _event_name(rec.event_name, a, rec.body)
                if name == "api_request" and SERVICES.get(service) == CLAUDE:
                    name = "claude_code.api_request"
                ts = rec.time_unix_nano or rec.observed_time_unix_nano or received_ns
                if ts > received_ns + 300 * 10**9:  # a clock far ahead: use arrival time
                    ts = received_ns
                try:
                    event = _log_event(name, a, ts, service)
                except Invalid as exc:
                    out.reject(f"{name[:MAX_TEXT]}: {exc}")
                    continue
                if event is None:
                    if name == "codex.sse_event":  # other SSE kinds carry no usage
                        out.note(out.seen, name)
                    else:
                        out.note(out.ignored, name[:MAX_TEXT])
                    continue
                out.events.append(event)
                out.note(out.seen, name)
    return out


def _log_event(name: str, a: Mapping[str, object], ts: int, service: str) -> UsageEvent | None:
    if name == "claude_code.api_request":
        session = ident_attr(a, "session.id")
        model = text_attr(a, "model")
        request_id = ident_attr(a, "request_id")
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
        if a.get("event.kind") != "response.completed":
            return None
        cached = _int(a, "cached_token_count")
        prompt = _int(a, "input_token_count")
        return UsageEvent(
            CODEX,
            PROVIDERS[CODEX],
            text_attr(a, "model", "slug"),
            ident_attr(a, "conversation.id"),
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
        prompt_id = ident_attr(a, "prompt_id")
        return UsageEvent(
            GEMINI,
            PROVIDERS[GEMINI],
            text_attr(a, "model"),
            ident_attr(a, "session.id"),
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
    return f"{tool}:ev:{ts}:{digest_of(sorted((k, str(v)) for k, v in a.items()), *extra)}"
