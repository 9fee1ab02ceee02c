"""``burntray report``: write the usage report as one HTML file, or as CSV or JSON, and open it.

The public contract (the tray's "Open report" uses it): ``write_report(ctx, settings, fmt, out)``
writes the report for ``settings.window`` and ``settings.source`` atomically with mode 0600,
by default into ``ctx.paths.reports_dir`` where only the newest 20 reports are kept, and returns
its path; ``open_in_browser(path)`` shows it in the default browser.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import io
import logging
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Any

from burntray import __version__
from burntray.app import AppContext
from burntray.atomic import atomic_write
from burntray.config import Settings
from burntray.errors import BurntrayError
from burntray.model.aggregate import rpm
from burntray.model.export import snapshot_to_dict
from burntray.model.format import human_bytes, human_count, rpm_text, usd
from burntray.model.snapshot import Snapshot, UsageRow
from burntray.model.timefmt import format_duration, format_rfc3339_ns
from burntray.paths import ensure_dir
from burntray.report.data import ReportData, collect
from burntray.report.timeline import Timeline

log = logging.getLogger(__name__)

FORMATS = ("html", "csv", "json")
KEEP_REPORTS = 20
REPORT_PREFIX = "burntray-report-"
JSON_REPORT_VERSION = 1
CSV_COLUMNS = (
    "source",
    "window",
    "as_of",
    "provider",
    "model",
    "reqs",
    "rpm",
    "sent_bytes",
    "recv_bytes",
    "tokens",
    "tokens_estimated",
    "cost_usd",
    "cost_estimated",
    "unpriced_reqs",
    "price_key",
)
# Spreadsheets run cells starting with these as formulas; such text cells get a leading "'".
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ReportError(BurntrayError):
    """The report cannot be written; the message names the file and why."""


def write_report(
    ctx: AppContext, settings: Settings, fmt: str = "html", out: Path | None = None
) -> Path:
    """Write the report and return its path (see the module docstring)."""
    if fmt not in FORMATS:
        raise ReportError(f"unknown report format {fmt!r}: use one of {', '.join(FORMATS)}")
    data = collect(ctx, settings)
    body = render(data, fmt)
    if out is None:
        directory = ctx.paths.reports_dir
        out = directory / default_name(data, fmt)
        _write_atomic(out, body, make_dir=True)
        prune_reports(directory, KEEP_REPORTS, keep_path=out)
    else:
        _write_atomic(out, body, make_dir=False)
    return out


def open_in_browser(path: Path) -> None:
    """Open the report in the default browser (a file URL); a failure is logged, not raised."""
    if not launch_browser(path):
        log.warning("no browser could be started for %s", path)


def launch_browser(path: Path) -> bool:
    """Open ``path`` with ``webbrowser``; False when no browser could be started."""
    try:
        return bool(webbrowser.open(path.resolve().as_uri()))
    except (webbrowser.Error, OSError) as exc:
        log.warning("opening %s failed: %s", path, exc)
        return False


def default_name(data: ReportData, fmt: str) -> str:
    moment = _dt.datetime.fromtimestamp(data.generated_ns / 1e9, tz=_dt.UTC)
    millis = (data.generated_ns // 1_000_000) % 1000
    stamp = moment.strftime("%Y%m%dT%H%M%S") + f"{millis:03d}Z"
    window = format_duration(data.snapshot.window_ns)
    return f"{REPORT_PREFIX}{stamp}-{data.snapshot.source}-{window}.{fmt}"


def prune_reports(directory: Path, keep: int, keep_path: Path | None = None) -> int:
    """Delete all but the newest ``keep`` reports burntray wrote there; returns how many.

    Only files named ``burntray-report-*`` are considered (names sort by time). ``keep_path``
    (the report just written) always survives.
    """
    reports = sorted(
        (p for p in directory.glob(REPORT_PREFIX + "*") if p.suffix[1:] in FORMATS),
        key=lambda p: p.name,
        reverse=True,
    )
    removed = 0
    for old in reports[keep:]:
        if old == keep_path:
            continue
        with contextlib.suppress(FileNotFoundError):
            old.unlink()
            removed += 1
    return removed


def _write_atomic(path: Path, body: bytes, make_dir: bool) -> None:
    """Temp file in the same directory (created 0600), fsync, rename over the target."""
    directory = path.parent
    try:
        if make_dir:  # burntray's cache dir and its reports dir: private, 0700
            ensure_dir(directory.parent)
            ensure_dir(directory)
    except OSError as exc:
        raise ReportError(f"cannot write a report in {directory}: {exc.strerror or exc}") from exc
    try:
        atomic_write(path, body)
    except OSError as exc:
        where = str(path) if directory.is_dir() else f"a report in {directory}"
        raise ReportError(f"cannot write {where}: {exc.strerror or exc}") from exc


def render(data: ReportData, fmt: str, tz: _dt.tzinfo | None = None) -> bytes:
    if fmt == "html":
        return render_html(data, tz).encode("utf-8")
    if fmt == "csv":
        return render_csv(data).encode("utf-8")
    if fmt == "json":
        import msgspec  # noqa: PLC0415

        raw = msgspec.json.encode(report_to_dict(data))
        return msgspec.json.format(raw, indent=2) + b"\n"
    raise ReportError(f"unknown report format {fmt!r}: use one of {', '.join(FORMATS)}")


# --- CSV and JSON --------------------------------------------------------------------------


def _csv_text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def render_csv(data: ReportData) -> str:
    """One line per provider/model, most expensive first (columns: ``CSV_COLUMNS``)."""
    snap = data.snapshot
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    window = format_duration(snap.window_ns)
    as_of = format_rfc3339_ns(snap.as_of_ns, _dt.UTC)
    for row in snap.by_model:
        writer.writerow(
            [
                snap.source,
                window,
                as_of,
                _csv_text(row.provider),
                _csv_text(row.model),
                row.reqs,
                f"{rpm(row.reqs, snap.window_ns):.6f}",
                row.sent,
                row.recv,
                row.tokens,
                str(snap.tokens_estimated).lower(),
                "" if row.cost_usd is None else f"{row.cost_usd:.6f}",
                str(snap.cost_estimated).lower(),
                row.unpriced_reqs,
                row.price_key,
            ]
        )
    return buffer.getvalue()


def _utc(ns: int) -> str:
    return format_rfc3339_ns(ns, _dt.UTC)


def _timeline_dict(timeline: Timeline | None) -> dict[str, Any] | None:
    if timeline is None:
        return None
    return {
        "bucket_seconds": timeline.bucket_minutes * 60,
        "buckets": [
            {
                "start": _utc(b.start_ns),
                "reqs": b.reqs,
                "rpm": round(b.rpm, 6),
                "peak_minute_reqs": b.peak_minute_reqs,
                "cost_usd": round(b.cost_usd, 6),
                "unpriced_reqs": b.unpriced_reqs,
            }
            for b in timeline.buckets
        ],
    }


def report_to_dict(data: ReportData) -> dict[str, Any]:
    """``status --format json``'s schema (``snapshot_to_dict``) plus a ``report`` object."""
    out = snapshot_to_dict(data.snapshot, data.prices)
    out["report"] = {
        "report_version": JSON_REPORT_VERSION,
        "generated_at": _utc(data.generated_ns),
        "start": _utc(data.start_ns),
        "end": _utc(data.end_ns),
        "series_source": data.chart_source or None,
        "series_note": data.chart_note or None,
        "requests_series": _timeline_dict(data.rate),
        "cost_series": _timeline_dict(data.cost),
        "alerts": None
        if data.alerts is None
        else [
            {
                "at": _utc(a.ts_ns),
                "source": a.source,
                "kind": a.kind,
                "level": a.level,
                "message": a.message,
            }
            for a in data.alerts
        ],
        "alerts_not_listed": data.alerts_hidden,
        "price_origins": [
            {
                "provider": r.provider,
                "model": r.model,
                "price_key": r.price_key or None,
                "origin": r.origin or None,
            }
            for r in data.priced_rows
        ],
    }
    return out


# --- HTML ----------------------------------------------------------------------------------


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


def _model_rows(snap: Snapshot) -> list[dict[str, str]]:
    total_cost = snap.totals.cost_usd
    return [
        {
            "provider": row.provider,
            "model": row.model,
            "reqs": f"{row.reqs:,}",
            "rpm": rpm_text(rpm(row.reqs, snap.window_ns)),
            "tokens": human_count(row.tokens),
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
    est = " (est.)" if snap.tokens_estimated else ""
    unpriced_share = f"{totals.unpriced_reqs / totals.reqs * 100:.1f} %" if totals.reqs else "0 %"
    figures = [
        {"id": "reqs", "name": "Requests", "value": f"{totals.reqs:,}", "sub": ""},
        {
            "id": "rpm",
            "name": "Requests / min",
            "value": rpm_text(totals.rpm),
            "sub": f"over the {format_duration(snap.window_ns)} window",
        },
        {
            "id": "tokens",
            "name": "Tokens" + est,
            "value": human_count(totals.tokens),
            "sub": "bytes / 4" if snap.tokens_estimated else "",
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
                "cost": usd(fig.totals.cost_usd),
                "share": (f"{fig.totals.cost_usd / total:.0%}" if counted and total > 0 else "–"),
                "counted": "yes" if counted else f"no: same requests as {fig.covered_by}",
            }
        )
    return rows


def _tool_charts(data: ReportData, tz: _dt.tzinfo | None) -> list[dict[str, Any]]:
    """One cost-per-hour chart per tool under `all`, on the same time axis as the totals."""
    from burntray.report.charts import Bar, bar_chart, usd_axis  # noqa: PLC0415

    charts: list[dict[str, Any]] = []
    if len(data.tool_costs) < 2:  # one tool: the charts above are its charts
        return charts
    for i, (label, timeline) in enumerate(data.tool_costs):
        bars = [
            Bar(
                b.start_ns,
                b.end_ns,
                b.cost_per_hour,
                f"{label}, {_when(b.start_ns, tz, '%H:%M')}: {usd(b.cost_usd)} "
                f"({usd(b.cost_per_hour)}/h), {requests(b.reqs)}",
            )
            for b in timeline.buckets
        ]
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

    def span(start: int, end: int, timeline: Timeline) -> str:
        """A bucket's time range; with the day when the window spans more than one."""
        long_window = timeline.end_ns - timeline.start_ns > 86_400e9
        fmt = "%a %d %b %H:%M" if long_window else "%H:%M"
        return f"{_when(start, tz, fmt)}–{_when(end, tz, '%H:%M')}"

    rpm_bars = [
        Bar(
            b.start_ns,
            b.end_ns,
            b.rpm,
            f"{span(b.start_ns, b.end_ns, rate)}: {requests(b.reqs)}, {rpm_text(b.rpm)} rpm"
            f" average, busiest minute {b.peak_minute_reqs:,}"
            + (" (partly outside the window)" if rate.is_partial(b) else ""),
        )
        for b in rate.buckets
    ]
    cost_bars = [
        Bar(
            b.start_ns,
            b.end_ns,
            b.cost_per_hour,
            f"{span(b.start_ns, b.end_ns, cost)}: {usd(b.cost_usd)} ({usd(b.cost_per_hour)}/h), "
            f"{requests(b.reqs)}"
            + (f", {b.unpriced_reqs:,} unpriced" if b.unpriced_reqs else "")
            + (" (partly outside the window)" if cost.is_partial(b) else ""),
        )
        for b in cost.buckets
    ]
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
        f"Price table checked {prices.as_of}; prices from: {', '.join(prices.sources)} "
        "(config overrides beat a LiteLLM file, which beats the bundled table)."
    ]
    if prices.problem:
        notes.append(f"The configured price file is not in use: {prices.problem}.")
    if snap.tokens_estimated:
        notes.append(
            "This source records bytes, not tokens: tokens are estimated as bytes / 4 and "
            "priced per model, so costs are estimates."
        )
    elif snap.cost_estimated:
        notes.append("Costs are the source's own estimates.")
    if snap.totals.unpriced_reqs:
        notes.append(
            f"{requests(snap.totals.unpriced_reqs)} used models with no known price; they are "
            "not counted as $0 but left out of the cost. Add a price in config.toml "
            "([pricing.models]) to include them."
        )
    return notes


def _price_rows(data: ReportData) -> list[dict[str, str]]:
    def money(value: float | None) -> str:
        return "–" if value is None else f"{value:g}"

    return [
        {
            "provider": row.provider,
            "model": row.model,
            "key": row.price_key or "unpriced",
            "origin": {
                "table": "bundled table",
                "override": "config override",
                "litellm": "LiteLLM file",
                "local": "local model ($0)",
            }.get(row.origin, "no price known"),
            "input": money(row.input_per_m),
            "output": money(row.output_per_m),
        }
        for row in data.priced_rows
    ]


def html_context(data: ReportData, tz: _dt.tzinfo | None = None) -> dict[str, Any]:
    snap = data.snapshot
    from burntray.sources.registry import REGISTRY  # noqa: PLC0415

    headline_notes = []
    if snap.tokens_estimated:
        headline_notes.append("Tokens and costs are estimated from bytes (bytes / 4).")
    if snap.history_used:
        headline_notes.append("Part of this window comes from burntray's history.")
    when_fmt = "%Y-%m-%d %H:%M"
    return {
        "version": __version__,
        "source": snap.source,
        "source_label": REGISTRY.label(snap.source),
        "window": format_duration(snap.window_ns),
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
        "tokens_heading": "Tokens (est.)" if snap.tokens_estimated else "Tokens",
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
