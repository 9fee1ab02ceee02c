"""The report page's words: figures, table rows, health lines and pricing notes, each value
formatted for a reader (the page itself is assembled in ``report.html``)."""

from __future__ import annotations

import datetime as _dt
from typing import Any

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
            "sub": {
                "today": "since midnight",
                "week": "since Monday 00:00",
                "month": "since the 1st 00:00",
            }.get(snap.window_name, f"over the {window_text(snap)} window"),
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


def _upstream(snap: Snapshot, tz: _dt.tzinfo | None) -> dict[str, Any] | None:
    """The section about the figures a source reports beyond the window (cburn's period)."""
    detail = snap.upstream
    if detail is None:
        return None
    return {
        "key": detail.json_key,
        "title": detail.title,
        "rows": detail.report_rows(lambda ns: _when(ns, tz)),
    }


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
