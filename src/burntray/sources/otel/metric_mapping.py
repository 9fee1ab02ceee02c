"""What each tool's OTLP usage metrics mean: their data points as plain ``MetricPoint`` values,
each checked at the boundary (``otel.mapping`` says which metrics carry usage, and decodes the
log events).
"""

from __future__ import annotations

from typing import Any, Final

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric

from burntray.sources.otel.mapping import (
    CLAUDE,
    GEMINI,
    MAX_ATTRIBUTES,
    MAX_ITEMS_PER_EXPORT,
    MAX_TEXT,
    PROVIDERS,
    SERVICES,
    Decoded,
    Invalid,
    MetricPoint,
    attrs,
    digest_of,
    ident_attr,
    show_value,
    text_attr,
)

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

# One metric point: a delta sums an export interval, a cumulative one a sender's life.
MAX_POINT_TOKENS: Final = 100_000_000_000
MAX_POINT_COST: Final = 1_000_000.0  # USD


def decode_metrics(req: ExportMetricsServiceRequest) -> Decoded:
    out = Decoded()
    budget = [MAX_ITEMS_PER_EXPORT]  # data points still allowed in this export
    for rm in req.resource_metrics:
        if len(rm.resource.attributes) > MAX_ATTRIBUTES:  # counted before anything is walked
            n = sum(_n_points(m) for sm in rm.scope_metrics for m in sm.metrics)
            out.reject(f"a resource has over {MAX_ATTRIBUTES} attributes", n)
            continue
        ra = attrs(rm.resource.attributes)
        try:
            service = text_attr(ra, "service.name")
        except Invalid:
            service = ""
        resource_id = digest_of(
            service, ident_attr(ra, "service.instance.id"), ident_attr(ra, "host.name")
        )
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                name = metric.name
                kind = metric.WhichOneof("data")
                used = 0
                if name in ("claude_code.cost.usage", "claude_code.token.usage") and kind == "sum":
                    used = _sum_points(out, metric, CLAUDE, resource_id, budget)
                elif name == "gemini_cli.token.usage" and kind == "sum":
                    used = _sum_points(out, metric, GEMINI, resource_id, budget)
                elif name == "gen_ai.client.token.usage" and kind == "histogram":
                    used = _genai_points(out, metric, service, resource_id, budget)
                else:
                    out.note(out.ignored, name[:MAX_TEXT])
                    continue
                out.note(out.seen, name, used)
    return out


def _n_points(metric: Metric) -> int:
    kind = metric.WhichOneof("data")
    return len(getattr(metric, kind).data_points) if kind else 0


def _within(out: Decoded, points: Any, budget: list[int]) -> Any:
    """The points of one metric this export may still hold; the rest are rejected, uncounted
    and unread."""
    if len(points) <= budget[0]:
        budget[0] -= len(points)
        return points
    out.reject(f"over {MAX_ITEMS_PER_EXPORT:,} data points in one export", len(points) - budget[0])
    kept = points[: budget[0]]
    budget[0] = 0
    return kept


def _point_value(value: float, part: str) -> float:
    """A usage point's value, or ``Invalid``: finite, not negative, under its ceiling."""
    cap = MAX_POINT_COST if part == "cost" else MAX_POINT_TOKENS
    if not 0 <= value <= cap:  # NaN fails this too
        what = "USD" if part == "cost" else "tokens"
        raise Invalid(f"value {show_value(value)} is outside 0..{cap:,.0f} {what}")
    return value


def _sum_points(
    out: Decoded, metric: Metric, tool: str, resource_id: str, budget: list[int]
) -> int:
    s = metric.sum
    name: str = metric.name
    n = 0
    for dp in _within(out, s.data_points, budget):
        if len(dp.attributes) > MAX_ATTRIBUTES:
            out.reject(f"{name}: a point has over {MAX_ATTRIBUTES} attributes")
            continue
        a = attrs(dp.attributes)
        value = dp.as_double if dp.WhichOneof("value") == "as_double" else float(dp.as_int)
        try:
            kind = text_attr(a, "type")
            if name.endswith("cost.usage"):
                parts = [("cost", False)]
            elif tool == CLAUDE:
                parts = [(_CLAUDE_TYPES.get(kind, ""), False)]
            else:
                parts = [(_GEMINI_TYPES.get(kind, ""), False)]
                if kind == "cache":  # cached tokens are also inside "input": take them out there
                    parts.append(("input", True))
            if not parts[0][0]:
                continue
            value = _point_value(value, parts[0][0])
            model, session = text_attr(a, "model"), ident_attr(a, "session.id")
        except Invalid as exc:
            out.reject(f"{name}: {exc}")
            continue
        series = digest_of(name, resource_id, sorted((k, str(v)) for k, v in a.items()))
        for part, negate in parts:
            out.points.append(
                MetricPoint(
                    tool,
                    PROVIDERS[tool],
                    model,
                    session,
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


def _genai_points(
    out: Decoded, metric: Metric, service: str, resource_id: str, budget: list[int]
) -> int:
    h = metric.histogram
    tool = SERVICES.get(service, f"genai:{service or 'unknown'}")
    n = 0
    for dp in _within(out, h.data_points, budget):
        if len(dp.attributes) > MAX_ATTRIBUTES:
            out.reject(f"{metric.name}: a point has over {MAX_ATTRIBUTES} attributes")
            continue
        a = attrs(dp.attributes)
        try:
            part = _GENAI_TYPES.get(text_attr(a, "gen_ai.token.type"), "")
            if not part:
                continue
            value = _point_value(dp.sum, part)
            provider = text_attr(a, "gen_ai.provider.name", "gen_ai.system") or PROVIDERS.get(
                tool, ""
            )
            model = text_attr(a, "gen_ai.response.model", "gen_ai.request.model")
            session = ident_attr(a, "session.id")
        except Invalid as exc:
            out.reject(f"{metric.name}: {exc}")
            continue
        series = digest_of(metric.name, resource_id, sorted((k, str(v)) for k, v in a.items()))
        out.points.append(
            MetricPoint(
                tool,
                _provider(provider),
                model,
                session,
                part,
                series,
                h.aggregation_temporality,
                dp.start_time_unix_nano,
                dp.time_unix_nano,
                value,
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
