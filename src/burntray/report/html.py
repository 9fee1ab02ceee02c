"""The report as one self-contained HTML page: figures, charts, tables, health and prices."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

from burntray import __version__
from burntray.model.aggregate import rpm
from burntray.model.format import (
    estimated_tokens,
    human_bytes,
    human_count,
    rpm_text,
    token_split_text,
    usd,
    window_text,
)
from burntray.model.snapshot import Snapshot, UsageRow
from burntray.report.data import ReportData
from burntray.report.timeline import Timeline
from burntray.sources.registry import REGISTRY


def _when(ns: int | None, tz: _dt.tzinfo | None, fmt: str = "%Y-%m-%d %H:%M:%S %Z") -> str:
    if ns is None:
        return "never"
    from burntray.report.charts import local_time  # noqa: PLC0415

    return local_time(ns, tz).strftime(fmt).strip()


def requests(count: int, noun: str = "request") -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _share(part: float | None, whole: float) -> str:
    if part is None:
        return "unpriced"
    if whole <= 0:
        return "–"
    return f"{part / whole * 100:.1f} %"


def _row_cost(cost: float | None, unpriced: int, estimated: bool) -> str:
    if cost is None:
        return f"unpriced ({unpriced})" if unpriced else "unpriced"
    text = usd(cost) + (" est." if estimated else "")
    if unpriced:
        text += f" + {unpriced} unpriced"
    return text


def _all_tokens_estimated(snap: Snapshot) -> bool:
    """Every token in the snapshot is a bytes/4 estimate (not only some of them)."""
    return snap.tokens_estimated and estimated_tokens(snap) >= snap.totals.tokens


def _tokens_cell(tokens: int, estimated: bool, snap: Snapshot) -> str:
    """A row's tokens; marked "est." where they are estimates among real counts (when all are
    estimates the column heading says so once)."""
    mixed = snap.tokens_estimated and not _all_tokens_estimated(snap)
    return human_count(tokens) + (" est." if estimated and mixed else "")


def _model_rows(snap: Snapshot) -> list[dict[str, str]]:
    total_cost = snap.totals.cost_usd
    return [
        {
            "provider": row.provider,
            "model": row.model,
            "reqs": f"{row.reqs:,}",
            "rpm": rpm_text(rpm(row.reqs, snap.window_ns)),
            "tokens": _tokens_cell(row.tokens, row.tokens_estimated, snap),
            "sent": human_bytes(row.sent),
            "recv": human_bytes(row.recv),
            "cost": _row_cost(row.cost_usd, row.unpriced_reqs, snap.cost_estimated),
            "share": _share(row.cost_usd, total_cost),
        }
        for row in snap.by_model
    ]


def provider_totals(rows: tuple[UsageRow, ...]) -> list[tuple[str, int, UsageRow]]:
    """(provider, model count, summed row) per provider, most expensive first."""
    merged: dict[str, tuple[int, UsageRow]] = {}
    for row in rows:
        if row.provider not in merged:
            merged[row.provider] = (1, row)
            continue
        count, acc = merged[row.provider]
        cost: float | None
        if acc.cost_usd is None and row.cost_usd is None:
            cost = None
        else:
            cost = (acc.cost_usd or 0.0) + (row.cost_usd or 0.0)
        merged[row.provider] = (
            count + 1,
            UsageRow(
                provider=row.provider,
                model="",
                reqs=acc.reqs + row.reqs,
                sent=acc.sent + row.sent,
                recv=acc.recv + row.recv,
                tokens=acc.tokens + row.tokens,
                cost_usd=cost,
                unpriced_reqs=acc.unpriced_reqs + row.unpriced_reqs,
            ),
        )
    out = [(provider, count, row) for provider, (count, row) in merged.items()]
    out.sort(key=lambda item: (-(item[2].cost_usd or 0.0), -item[2].reqs, item[0]))
    return out


def _provider_rows(snap: Snapshot) -> list[dict[str, str]]:
    total_cost = snap.totals.cost_usd
    return [
        {
            "provider": provider,
            "models": str(count),
            "reqs": f"{row.reqs:,}",
            "rpm": rpm_text(rpm(row.reqs, snap.window_ns)),
            "tokens": human_count(row.tokens),
            "sent": human_bytes(row.sent),
            "recv": human_bytes(row.recv),
            "cost": _row_cost(row.cost_usd, row.unpriced_reqs, snap.cost_estimated),
            "share": _share(row.cost_usd, total_cost),
        }
        for provider, count, row in provider_totals(snap.by_model)
    ]


def _figures(snap: Snapshot) -> list[dict[str, str]]:
    totals = snap.totals
    all_estimated = _all_tokens_estimated(snap)
    unpriced_share = f"{totals.unpriced_reqs / totals.reqs * 100:.1f} %" if totals.reqs else "0 %"
    figures = [
        {"id": "reqs", "name": "Requests", "value": f"{totals.reqs:,}", "sub": ""},
        {
            "id": "rpm",
            "name": "Requests / min",
            "value": rpm_text(totals.rpm),
            "sub": {"today": "since midnight", "week": "since Monday 00:00"}.get(
                snap.window_name, f"over the {window_text(snap)} window"
            ),
        },
        {
            "id": "tokens",
            "name": "Tokens (est.)" if all_estimated else "Tokens",
            "value": human_count(totals.tokens),
            "sub": "bytes / 4" if all_estimated else token_split_text(snap),
        },
        _cost_figure(snap),
        {
            "id": "unpriced",
            "name": "Unpriced share",
            "value": unpriced_share,
            "sub": f"{totals.unpriced_reqs:,} of {totals.reqs:,} requests",
        },
    ]
    if totals.sent or totals.recv or snap.capabilities.bytes:
        figures.insert(
            3,
            {
                "id": "bytes",
                "name": "Sent / received",
                "value": f"↑{human_bytes(totals.sent)} ↓{human_bytes(totals.recv)}",
                "sub": "bytes",
            },
        )
    return figures


def _cost_figure(snap: Snapshot) -> dict[str, str]:
    """``cost_text`` split in two: the amount big, the unpriced requests underneath."""
    totals = snap.totals
    if totals.reqs and totals.unpriced_reqs == totals.reqs:
        value, sub = "unpriced", f"{requests(totals.unpriced_reqs)} with no known price"
    else:
        value = usd(totals.cost_usd) + (" est." if snap.cost_estimated else "")
        sub = (
            f"+ {requests(totals.unpriced_reqs, 'unpriced request')}"
            if totals.unpriced_reqs
            else ""
        )
    return {"id": "cost", "name": "Cost", "value": value, "sub": sub}


def _tool_rows(snap: Snapshot) -> list[dict[str, str]]:
    """The per-tool table of a combined report: each tool's share of the total."""
    total = snap.totals.cost_usd
    rows = []
    for fig in snap.by_source:
        state = fig.status.state + (" (stale)" if fig.status.stale else "")
        counted = not fig.covered_by
        rows.append(
            {
                "tool": fig.label,
                "state": state,
                "reqs": f"{fig.totals.reqs:,}",
                "tokens": f"{fig.totals.tokens:,}" + (" est." if fig.tokens_estimated else ""),
                "cost": usd(fig.totals.cost_usd) + (" est." if fig.cost_estimated else ""),
                "share": (f"{fig.totals.cost_usd / total:.0%}" if counted and total > 0 else "–"),
                "counted": "yes" if counted else f"no: same requests as {fig.covered_by}",
            }
        )
    return rows


def _span(start: int, end: int, timeline: Timeline, tz: _dt.tzinfo | None) -> str:
    """A bucket's time range; with the day when the window spans more than one."""
    long_window = timeline.end_ns - timeline.start_ns > 86_400e9
    fmt = "%a %d %b %H:%M" if long_window else "%H:%M"
    return f"{_when(start, tz, fmt)}–{_when(end, tz, '%H:%M')}"


def _cost_bars(cost: Timeline, tz: _dt.tzinfo | None, label: str = "") -> list[Any]:
    """Cost-per-hour bars with their hover text (``label`` names a tool under `all`)."""
    from burntray.report.charts import Bar  # noqa: PLC0415

    prefix = f"{label}, " if label else ""
    return [
        Bar(
            b.start_ns,
            b.end_ns,
            b.cost_per_hour,
            f"{prefix}{_span(b.start_ns, b.end_ns, cost, tz)}: {usd(b.cost_usd)} "
            f"({usd(b.cost_per_hour)}/h), {requests(b.reqs)}"
            + (f", {b.unpriced_reqs:,} unpriced" if b.unpriced_reqs else "")
            + (" (partly outside the window)" if cost.is_partial(b) else ""),
        )
        for b in cost.buckets
    ]


def _tool_charts(data: ReportData, tz: _dt.tzinfo | None) -> list[dict[str, Any]]:
    """One cost-per-hour chart per tool under `all`, on the same time axis as the totals."""
    from burntray.report.charts import bar_chart, usd_axis  # noqa: PLC0415

    charts: list[dict[str, Any]] = []
    if len(data.tool_costs) < 2:  # one tool: the charts above are its charts
        return charts
    for i, (label, timeline) in enumerate(data.tool_costs):
        bars = _cost_bars(timeline, tz, label)
        charts.append(
            {
                "heading": f"Cost per hour: {label}",
                "svg": bar_chart(
                    f"chart-tool-{i}",
                    f"Cost per hour: {label}",
                    bars,
                    start_ns=data.start_ns,
                    end_ns=data.end_ns,
                    y_label="USD / hour",
                    y_format=usd_axis,
                    tz=tz,
                    empty_text="" if timeline.reqs else f"no {label} requests in this window",
                ),
                "caption": f"{usd(timeline.cost_usd)} in all from {label}.",
            }
        )
    return charts


def _charts(data: ReportData, tz: _dt.tzinfo | None) -> list[dict[str, Any]]:
    from burntray.report.charts import (  # noqa: PLC0415
        Bar,
        Point,
        bar_chart,
        line_chart,
        plain_axis,
        usd_axis,
    )

    rate, cost = data.rate, data.cost
    if rate is None or cost is None:
        return []
    empty = "" if rate.reqs or rate.cost_usd else "no requests in this window"

    rpm_bars = [
        Bar(
            b.start_ns,
            b.end_ns,
            b.rpm,
            f"{_span(b.start_ns, b.end_ns, rate, tz)}: {requests(b.reqs)}, {rpm_text(b.rpm)} rpm"
            f" average, busiest minute {b.peak_minute_reqs:,}"
            + (" (partly outside the window)" if rate.is_partial(b) else ""),
        )
        for b in rate.buckets
    ]
    cost_bars = _cost_bars(cost, tz)
    points = [
        Point(ts, total, f"{_when(ts, tz)}: {usd(total)} so far")
        for ts, total in rate.cumulative_cost()
    ]
    est = " (estimated)" if data.snapshot.cost_estimated else ""
    alert_marks = [
        Point(a.ts_ns, 0.0, f"{_when(a.ts_ns, tz)} {a.level} alert: {a.message}")
        for a in data.alerts or ()
    ]
    return [
        {
            "heading": "Requests per minute",
            "svg": bar_chart(
                "chart-rpm",
                "Requests per minute",
                rpm_bars,
                start_ns=data.start_ns,
                end_ns=data.end_ns,
                y_label="requests / min",
                y_format=plain_axis,
                tz=tz,
                empty_text=empty,
            ),
            "caption": f"Average per {rate.bucket_minutes}-minute bucket; "
            f"{requests(rate.reqs)} in all.",
        },
        {
            "heading": "Cost per hour" + est,
            "svg": bar_chart(
                "chart-cost",
                "Cost per hour",
                cost_bars,
                start_ns=data.start_ns,
                end_ns=data.end_ns,
                y_label="USD / hour",
                y_format=usd_axis,
                tz=tz,
                empty_text=empty,
                markers=alert_marks,
            ),
            "caption": f"{cost.bucket_minutes}-minute buckets, as an hourly rate; "
            f"{usd(cost.cost_usd)} in all"
            + ("; dashed lines mark alerts" if alert_marks else "")
            + (
                f"; {requests(cost.unpriced_reqs, 'unpriced request')} not included"
                if cost.unpriced_reqs
                else ""
            )
            + ".",
        },
        {
            "heading": "Cumulative cost over the window" + est,
            "svg": line_chart(
                "chart-cumulative",
                "Cumulative cost",
                points,
                start_ns=data.start_ns,
                end_ns=data.end_ns,
                y_label="USD",
                y_format=usd_axis,
                tz=tz,
                empty_text=empty,
            ),
            "caption": "",
        },
    ]


def _health(data: ReportData, tz: _dt.tzinfo | None) -> list[tuple[str, str, str]]:
    snap = data.snapshot
    status = snap.status
    rows = [
        ("Source", snap.source, ""),
        (
            "State",
            status.state + (" (stale: last good numbers shown)" if status.stale else ""),
            f"state-{status.state}",
        ),
    ]
    if status.detail:
        rows.append(("Detail", status.detail, ""))
    rows.append(("Last good read", _when(status.last_ok_ns, tz), ""))
    rows.append(("Upstream last wrote", _when(snap.data_updated_ns, tz), ""))
    if snap.note:
        rows.append(("Note", snap.note, ""))
    rows.append(
        (
            "History",
            data.history_path
            + (f" (UNUSABLE: {data.history_error})" if data.history_error else ""),
            "",
        )
    )
    rows.append(
        (
            "Window from history",
            "yes: part of the window predates what the upstream keeps"
            if snap.history_used
            else "no: the upstream itself covers the window",
            "",
        )
    )
    return rows


def _daemon(snap: Snapshot, tz: _dt.tzinfo | None) -> list[tuple[str, str]]:
    period = snap.daemon
    if period is None:
        return []
    return [
        ("Days", str(period.days)),
        ("Sessions", f"{period.sessions:,} ({period.sessions_per_day:.1f}/active day)"),
        ("Prompts", f"{period.prompts:,}"),
        ("API calls", f"{period.api_calls:,}"),
        ("Tokens", f"{human_count(period.tokens)} ({human_count(period.tokens_per_day)}/day)"),
        (
            "Estimated cost",
            f"{usd(period.estimated_cost_usd)} ({usd(period.cost_per_day_usd)}/active day)",
        ),
        ("Cache hit rate", f"{period.cache_hit_rate * 100:.1f} %"),
        ("Poll interval", f"{period.poll_interval_sec} s"),
        ("Daemon started", _when(period.started_at_ns, tz)),
        ("Last poll", _when(period.last_poll_at_ns, tz)),
        ("Last error", period.last_error or "none"),
        ("Data dir", period.data_dir or "–"),
    ]


def _pricing_notes(data: ReportData) -> list[str]:
    snap, prices = data.snapshot, data.prices
    notes = [
        f"Prices as of {prices.as_of}; prices from: {', '.join(prices.sources)} "
        "(config overrides beat a LiteLLM file, which beats the bundled table)."
    ]
    age = prices.age_warning(data.generated_ns)
    if age:
        notes.insert(0, f"Note: {age}.")
    if prices.problem:
        notes.append(f"The configured price file is not in use: {prices.problem}.")
    if snap.tokens_estimated and _all_tokens_estimated(snap):
        notes.append(
            "This source records bytes, not tokens: tokens are estimated as bytes / 4 and "
            "priced per model, so costs are estimates."
        )
    elif snap.tokens_estimated:
        notes.append(
            f"Tokens: {token_split_text(snap)}. The estimated ones come from tools that record "
            "bytes (bytes / 4); all are priced per model, so costs are estimates."
        )
    elif snap.cost_estimated and snap.capabilities.upstream_cost:
        notes.append("Costs are the source's own estimates (its price table, not a bill).")
    elif snap.cost_estimated:
        notes.append(
            "Tokens are real counts; costs are estimates: each request's tokens priced at the "
            "rates below (what the provider lists, not a bill)."
        )
    if snap.totals.unpriced_reqs:
        notes.append(
            f"{requests(snap.totals.unpriced_reqs)} used models with no known price; they are "
            "not counted as $0 but left out of the cost. Add a price in config.toml "
            "([pricing.models]) to include them."
        )
    return notes


# What each price origin is called on the page (``PriceOrigin`` plus the upstream's own cost).
PRICE_ORIGIN_TEXT = {
    "table": "bundled table",
    "override": "config override",
    "litellm": "LiteLLM file",
    "local": "local model ($0)",
    "upstream": "the tool's own figure",
}


def _price_rows(data: ReportData) -> list[dict[str, str]]:
    def money(value: float | None) -> str:
        return "–" if value is None else f"{value:g}"

    return [
        {
            "provider": row.provider,
            "model": row.model,
            "key": row.price_key or ("the tool's own cost" if row.origin else "unpriced"),
            "origin": PRICE_ORIGIN_TEXT.get(row.origin, "no price known"),
            "input": money(row.input_per_m),
            "output": money(row.output_per_m),
        }
        for row in data.priced_rows
    ]


def html_context(data: ReportData, tz: _dt.tzinfo | None = None) -> dict[str, Any]:
    snap = data.snapshot
    headline_notes = []
    if snap.tokens_estimated and _all_tokens_estimated(snap):
        headline_notes.append("Tokens and costs are estimated from bytes (bytes / 4).")
    elif snap.tokens_estimated:
        headline_notes.append(f"Tokens: {token_split_text(snap)} (bytes / 4).")
    if snap.history_used:
        headline_notes.append("Part of this window comes from burntray's history.")
    when_fmt = "%Y-%m-%d %H:%M"
    return {
        "version": __version__,
        "demo_prefix": "DEMO · " if data.demo else "",
        "source": snap.source,
        "source_label": REGISTRY.label(snap.source),
        "window": window_text(snap),
        "generated": _when(data.generated_ns, tz),
        "period": f"{_when(data.start_ns, tz, when_fmt)} to {_when(snap.as_of_ns, tz, when_fmt)}"
        f" ({_when(snap.as_of_ns, tz, '%Z')})",
        "alert_text": snap.alert_text if snap.alert_level != "normal" else "",
        "figures": _figures(snap),
        "headline_notes": headline_notes,
        "chart_source": data.chart_source,
        "chart_note": data.chart_note,
        "charts": _charts(data, tz) + _tool_charts(data, tz),
        "tools": _tool_rows(snap),
        "tokens_heading": "Tokens (est.)" if _all_tokens_estimated(snap) else "Tokens",
        "providers": _provider_rows(snap),
        "models": _model_rows(snap),
        "no_rows_text": f"No per-model figures: {REGISTRY.label(snap.source)} reports totals only."
        if not snap.capabilities.per_model
        else "No requests in this window.",
        "alerts": [
            {
                "when": _when(a.ts_ns, tz),
                "source": a.source,
                "kind": a.kind,
                "level": a.level,
                "message": a.message,
            }
            for a in data.alerts or ()
        ],
        "alerts_note": data.alerts_note,
        "alerts_hidden": data.alerts_hidden,
        "health": _health(data, tz),
        "daemon": _daemon(snap, tz),
        "pricing_notes": _pricing_notes(data),
        "priced_rows": _price_rows(data),
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
