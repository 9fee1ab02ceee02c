"""The stable JSON shape of a Snapshot (``burntray status --format json``, report JSON).

Schema version 1; fields are only ever added. See the README's "JSON output" section.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from burntray.model.aggregate import rpm
from burntray.model.format import window_text
from burntray.model.pricing import PriceTable
from burntray.model.snapshot import Snapshot, SourceStatus, Totals, UsageRow
from burntray.model.timefmt import NS_PER_SECOND, format_rfc3339_ns

if TYPE_CHECKING:
    from burntray.model.blocks import UsageBlock
    from burntray.model.figures import SourceFigures
    from burntray.model.limits import PlanWindow

SCHEMA_VERSION = 1


def _utc(ns: int | None) -> str | None:
    import datetime as _dt  # noqa: PLC0415

    return None if ns is None else format_rfc3339_ns(ns, _dt.UTC)


def _token_fields(item: UsageRow | Totals) -> dict[str, Any]:
    """``tokens`` (real where known, else the estimate) and the kinds; None = not known."""
    return {
        "tokens": item.tokens,
        "input_tokens": item.input_tokens,
        "output_tokens": item.output_tokens,
        "cache_read_tokens": item.cache_read_tokens,
        "cache_write_tokens": item.cache_write_tokens,
    }


def _row(row: UsageRow, window_ns: int) -> dict[str, Any]:
    return {
        "provider": row.provider,
        "model": row.model,
        "reqs": row.reqs,
        "rpm": round(rpm(row.reqs, window_ns), 6),
        "sent": row.sent,
        "recv": row.recv,
        "tokens_est": row.tokens,
        "cost_usd": None if row.cost_usd is None else round(row.cost_usd, 6),
        "unpriced_reqs": row.unpriced_reqs,
        "price_key": row.price_key or None,
        **_token_fields(row),
        "tokens_estimated": row.tokens_estimated,
    }


def _by_source(fig: SourceFigures) -> dict[str, Any]:
    return _source_row(fig.source, fig.label, fig.status, fig.totals, fig.tokens_estimated,
                       fig.cost_estimated, fig.covered_by)  # fmt: skip


def _source_row(  # noqa: PLR0917 - a SourceFigures' fields, in its order
    source: str, label: str, status: SourceStatus, totals: Totals, tokens_estimated: bool,
    cost_estimated: bool, covered_by: str = "",
) -> dict[str, Any]:  # fmt: skip
    return {
        "source": source,
        "label": label,
        "state": status.state,
        "detail": status.detail or None,
        "stale": status.stale,
        "reqs": totals.reqs,
        "tokens": totals.tokens,
        "cost_usd": round(totals.cost_usd, 6),
        "unpriced_reqs": totals.unpriced_reqs,
        "estimated": tokens_estimated,
        "cost_estimated": cost_estimated,
        "counted": not covered_by,
        "covered_by": covered_by or None,
    }


def snapshot_to_dict(snapshot: Snapshot, prices: PriceTable | None = None) -> dict[str, Any]:
    totals = snapshot.totals
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "source": snapshot.source,
        "window": window_text(snapshot),
        "window_seconds": snapshot.window_ns // NS_PER_SECOND,
        "as_of": _utc(snapshot.as_of_ns),
        "status": {
            "state": snapshot.status.state,
            "detail": snapshot.status.detail or None,
            "stale": snapshot.status.stale,
            "partial": snapshot.status.partial,
            "last_ok": _utc(snapshot.status.last_ok_ns),
        },
        "estimated": {"tokens": snapshot.tokens_estimated, "cost": snapshot.cost_estimated},
        "totals": {
            "reqs": totals.reqs,
            "rpm": round(totals.rpm, 6),
            "sent": totals.sent,
            "recv": totals.recv,
            "tokens_est": totals.tokens,
            "cost_usd": round(totals.cost_usd, 6),
            "unpriced_reqs": totals.unpriced_reqs,
            **_token_fields(totals),
        },
        "capabilities": {
            "bytes": snapshot.capabilities.bytes,
            "real_tokens": snapshot.capabilities.real_tokens,
            "per_model": snapshot.capabilities.per_model,
            "upstream_cost": snapshot.capabilities.upstream_cost,
        },
        "facts": [{"label": f.label, "value": f.value} for f in snapshot.facts],
        "by_model": [_row(row, snapshot.window_ns) for row in snapshot.by_model],
        "history_used": snapshot.history_used,
        "data_updated_at": _utc(snapshot.data_updated_ns),
        "note": snapshot.note or None,
    }
    if prices is not None:
        out["pricing"] = {"as_of": prices.as_of, "sources": list(prices.sources)}
        if prices.problem:  # why the configured price file is not among the sources
            out["pricing"]["problem"] = prices.problem
    if snapshot.upstream is not None:  # its source's own figures (cburn's: "daemon")
        out[snapshot.upstream.json_key] = snapshot.upstream.to_json()
    # one row per source: `all` lists every source it follows, a single source itself
    if snapshot.by_source:
        out["by_source"] = [_by_source(fig) for fig in snapshot.by_source]
    else:
        out["by_source"] = [
            _source_row(snapshot.source, snapshot.source, snapshot.status, snapshot.totals,
                        snapshot.tokens_estimated, snapshot.cost_estimated)
        ]  # fmt: skip
    out["limits"] = [limit_to_dict(win, snapshot.as_of_ns) for win in snapshot.limits]
    return out


def block_to_dict(block: UsageBlock | None) -> dict[str, Any] | None:
    """A 5-hour block (``block`` in ``status --format json``), times in RFC 3339 UTC."""
    if block is None:
        return None
    return {
        "start": _utc(block.start_ns),
        "end": _utc(block.end_ns),
        "last_request": _utc(block.last_ns),
        "reqs": block.reqs,
        "tokens": block.tokens,
        "cost_usd": round(block.cost_usd, 6),
        "unpriced_reqs": block.unpriced_reqs,
        "burn_usd_per_hour": _round6(block.burn_usd_per_hour),
        "projected_cost_usd": _round6(block.projected_cost_usd),
    }


def _round6(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def json_text(doc: Any) -> str:
    """``doc`` as JSON indented by two (the format of ``status --format json``)."""
    import msgspec  # noqa: PLC0415 - loaded already with the value classes

    return msgspec.json.format(msgspec.json.encode(doc), indent=2).decode()


def limit_to_dict(win: PlanWindow, now_ns: int) -> dict[str, Any]:
    """One plan window for JSON: what the tool reported, its age, and the pace's estimate."""
    from burntray.model.limits import runs_out_before_reset, runs_out_ns  # noqa: PLC0415 - with a window

    out = runs_out_ns(win)
    before = runs_out_before_reset(win)
    return {
        "tool": win.tool,
        "window": win.window,
        "window_minutes": win.window_minutes,
        "used_percent": round(win.used_percent, 3),
        "resets_at": _utc(win.resets_at_ns),
        "observed_at": _utc(win.observed_ns),
        "age_seconds": win.age_ns(now_ns) // NS_PER_SECOND,
        "origin": win.origin,
        "source": win.source,
        "limit_reached": win.limit_reached,
        "reset_since_observed": win.reset_since_observed,
        "runs_out_at": _utc(out),
        "runs_out_before_reset": before is not None,
    }
