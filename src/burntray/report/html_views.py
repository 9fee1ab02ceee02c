"""The report page's views: cost per day, week or month (in all, and per tool), and the tables
per project and per project and branch."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from burntray.model.format import usd
from burntray.model.periods import ViewRow
from burntray.report.data import ReportData
from burntray.report.html_text import requests
from burntray.report.view_tables import PeriodBar

_UNIT_WORDS = {"day": "day", "week": "week (from Sunday)", "month": "month"}


def _bar_text(bar: PeriodBar, label: str) -> str:
    return f"{label}{bar.key}: {usd(bar.cost_usd)}, {requests(bar.reqs)}, {bar.tokens:,} tokens" + (
        f", {bar.unpriced_reqs:,} unpriced" if bar.unpriced_reqs else ""
    )


def _chart(
    data: ReportData,
    chart_id: str,
    title: str,
    bars: tuple[PeriodBar, ...],
    *,
    label: str,
    tz: _dt.tzinfo | None,
) -> dict[str, Any]:
    from burntray.report.charts import Bar, bar_chart, usd_axis  # noqa: PLC0415

    marks = [
        Bar(b.start_ns, b.end_ns, b.cost_usd, _bar_text(b, f"{label}, " if label else ""))
        for b in bars
    ]
    return {
        "heading": title,
        "svg": bar_chart(
            chart_id,
            title,
            marks,
            start_ns=data.start_ns,
            end_ns=data.end_ns,
            y_label="USD",
            y_format=usd_axis,
            tz=tz,
            empty_text="" if bars else "no requests in this range",
        ),
        "caption": f"{usd(sum(b.cost_usd for b in bars))} in all"
        + (f" from {label}" if label else "")
        + ".",
    }


def view_charts(data: ReportData, tz: _dt.tzinfo | None) -> list[dict[str, Any]]:
    """Cost per period in all, then per tool when there are several."""
    views = data.views
    if views is None:
        return []
    unit = _UNIT_WORDS[views.unit]
    charts = [
        _chart(data, f"chart-{views.unit}", f"Cost per {unit}", views.totals, label="", tz=tz)
    ]
    if len(views.by_tool) > 1:
        for i, (tool, bars) in enumerate(views.by_tool):
            charts.append(
                _chart(
                    data,
                    f"chart-{views.unit}-tool-{i}",
                    f"Cost per {unit}: {tool}",
                    bars,
                    label=tool,
                    tz=tz,
                )
            )
    return charts


def _row(row: ViewRow, total: float) -> dict[str, str]:
    share = f"{row.cost_usd / total:.0%}" if total > 0 else ""
    return {
        "keys": list(row.keys),  # type: ignore[dict-item]
        "reqs": f"{row.reqs:,}",
        "tokens": f"{row.tokens:,}",
        "cost": usd(row.cost_usd)
        + (f" + {row.unpriced_reqs:,} unpriced" if row.unpriced_reqs else ""),
        "share": share,
    }


def view_tables(data: ReportData) -> list[dict[str, Any]]:
    """The per-project and per-branch tables (most expensive first)."""
    views = data.views
    if views is None:
        return []
    total = sum(b.cost_usd for b in views.totals)
    return [
        {
            "id": "projects",
            "heading": "By project",
            "columns": ["Project"],
            "rows": [_row(r, total) for r in views.projects],
            "hidden": views.hidden_projects,
        },
        {
            "id": "branches",
            "heading": "By project and branch",
            "columns": ["Project", "Branch"],
            "rows": [_row(r, total) for r in views.branches],
            "hidden": views.hidden_branches,
        },
    ]
