"""The report page's charts: each one's bars or series with their labels, from the report's
timelines."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from burntray.model.format import rpm_text, usd
from burntray.report.data import ReportData
from burntray.report.html_text import requests, when_text
from burntray.report.timeline import Timeline


def _span(start: int, end: int, timeline: Timeline, tz: _dt.tzinfo | None) -> str:
    """A bucket's time range; with the day when the window spans more than one."""
    long_window = timeline.end_ns - timeline.start_ns > 86_400e9
    fmt = "%a %d %b %H:%M" if long_window else "%H:%M"
    return f"{when_text(start, tz, fmt)}–{when_text(end, tz, '%H:%M')}"


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


def tool_charts(data: ReportData, tz: _dt.tzinfo | None) -> list[dict[str, Any]]:
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


def usage_charts(data: ReportData, tz: _dt.tzinfo | None) -> list[dict[str, Any]]:
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
        Point(ts, total, f"{when_text(ts, tz)}: {usd(total)} so far")
        for ts, total in rate.cumulative_cost()
    ]
    est = " (estimated)" if data.snapshot.cost_estimated else ""
    alert_marks = [
        Point(a.ts_ns, 0.0, f"{when_text(a.ts_ns, tz)} {a.level} alert: {a.message}")
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
