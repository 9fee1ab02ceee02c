"""The report as one self-contained HTML page: figures, charts, tables, health and prices."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

from burntray import __version__
from burntray.model.format import token_split_text, window_text
from burntray.report.data import ReportData
from burntray.report.html_charts import tool_charts, usage_charts
from burntray.report.html_text import (
    all_tokens_estimated,
    figure_rows,
    health_rows,
    model_rows,
    price_rows,
    pricing_notes,
    provider_rows,
    tool_rows,
    upstream_section,
    when_text,
)
from burntray.report.html_views import view_charts, view_tables
from burntray.report.limits_chart import limit_charts
from burntray.report.own_costs import two_cost_context
from burntray.sources.registry import REGISTRY


def html_context(data: ReportData, tz: _dt.tzinfo | None = None) -> dict[str, Any]:
    snap = data.snapshot
    headline_notes = []
    if snap.tokens_estimated and all_tokens_estimated(snap):
        headline_notes.append("Tokens and costs are estimated from bytes (bytes / 4).")
    elif snap.tokens_estimated:
        headline_notes.append(f"Tokens: {token_split_text(snap)} (bytes / 4).")
    if snap.history_used:
        headline_notes.append("Part of this window comes from burntray's history.")
    when_fmt = "%Y-%m-%d %H:%M"
    day_fmt = "%Y-%m-%d"
    date_range = (
        f"{when_text(data.start_ns, tz, day_fmt)} to {when_text(snap.as_of_ns, tz, day_fmt)}"
    )
    return {
        "version": __version__,
        "demo_prefix": "DEMO · " if data.demo else "",
        "source": snap.source,
        "source_label": REGISTRY.label(snap.source),
        "window": window_text(snap),
        "date_range": date_range,
        "heading_span": f"{date_range}" if data.ranged else f"last {window_text(snap)}",
        "period_unit": data.views.unit if data.views is not None else "",
        "view_charts": view_charts(data, tz),
        "view_tables": view_tables(data),
        "two_costs": two_cost_context(data.two_costs),
        "generated": when_text(data.generated_ns, tz),
        "period": f"{when_text(data.start_ns, tz, when_fmt)} to "
        f"{when_text(snap.as_of_ns, tz, when_fmt)} ({when_text(snap.as_of_ns, tz, '%Z')})",
        "alert_text": snap.alert_text if snap.alert_level != "normal" else "",
        "figures": figure_rows(snap),
        "headline_notes": headline_notes,
        "chart_source": data.chart_source,
        "chart_note": "; ".join(n for n in (data.chart_note, data.limits_note) if n),
        "charts": usage_charts(data, tz) + tool_charts(data, tz) + limit_charts(data, tz),
        "tools": tool_rows(snap),
        "tokens_heading": "Tokens (est.)" if all_tokens_estimated(snap) else "Tokens",
        "providers": provider_rows(snap),
        "models": model_rows(snap),
        "no_rows_text": f"No per-model figures: {REGISTRY.label(snap.source)} reports totals only."
        if not snap.capabilities.per_model
        else "No requests in this window.",
        "alerts": [
            {
                "when": when_text(a.ts_ns, tz),
                "source": a.source,
                "kind": a.kind,
                "level": a.level,
                "message": a.message,
            }
            for a in data.alerts or ()
        ],
        "alerts_note": data.alerts_note,
        "alerts_hidden": data.alerts_hidden,
        "health": health_rows(data, tz),
        "upstream": upstream_section(snap, tz),
        "pricing_notes": pricing_notes(data),
        "priced_rows": price_rows(data),
    }


_TEMPLATE: Callable[..., str] | None = None


def render_html(data: ReportData, tz: _dt.tzinfo | None = None) -> str:
    global _TEMPLATE  # noqa: PLW0603 - compiled once per process, on first use
    if _TEMPLATE is None:
        import jinja2  # noqa: PLC0415

        from burntray.report.template import (  # noqa: PLC0415
            CONTENT_SECURITY_POLICY,
            REPORT_TEMPLATE,
        )

        env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
        env.globals["csp"] = CONTENT_SECURITY_POLICY
        _TEMPLATE = env.from_string(REPORT_TEMPLATE).render
    return _TEMPLATE(**html_context(data, tz))
