"""The report as JSON: ``status --format json``'s document plus a ``report`` object."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from burntray.model.export import snapshot_to_dict
from burntray.model.timefmt import format_rfc3339_ns
from burntray.report.data import ReportData
from burntray.report.timeline import Timeline

JSON_REPORT_VERSION = 1


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
        # the plan windows as reported over the window (and the last report before it)
        "limits_timeline": [
            {
                "tool": w.tool,
                "window": w.window,
                "observed_at": _utc(w.observed_ns),
                "used_percent": round(w.used_percent, 3),
                "resets_at": None if w.resets_at_ns is None else _utc(w.resets_at_ns),
                "limit_reached": w.limit_reached,
            }
            for w in data.limits
        ],
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
