"""Aggregation over a window: counters per provider/model -> totals, rows, RPM and cost."""

from __future__ import annotations

from collections.abc import Iterable

from burntray.model.pricing import PriceTable
from burntray.model.snapshot import Totals, UsageRow

BYTES_PER_TOKEN = 4  # hexai records bytes; 4 bytes per token is the usual rough estimate
_MIN_WINDOW_MINUTES = 0.001  # hexai's guard against dividing by a zero window

Counter = tuple[str, str, int, int, int]  # provider, model, reqs, sent bytes, recv bytes


def rpm(reqs: int, window_ns: int) -> float:
    """Requests per minute over the nominal window, as hexai computes it (not elapsed time)."""
    minutes = window_ns / 60e9
    return reqs / (minutes if minutes > 0 else _MIN_WINDOW_MINUTES)


def estimated_tokens(byte_count: int) -> int:
    return round(byte_count / BYTES_PER_TOKEN)


def summarise_bytes(
    counters: Iterable[Counter], window_ns: int, prices: PriceTable
) -> tuple[Totals, tuple[UsageRow, ...]]:
    """Turn byte counters into totals and per-model rows, pricing tokens estimated as bytes/4.

    Cost is linear in tokens, so pricing the summed bytes of a model equals summing per-event
    costs; no per-event work is needed. Rows are sorted by cost, then requests, descending.
    """
    merged: dict[tuple[str, str], list[int]] = {}
    for provider, model, reqs, sent, recv in counters:
        if reqs == 0:
            continue
        acc = merged.setdefault((provider, model), [0, 0, 0])
        acc[0] += reqs
        acc[1] += sent
        acc[2] += recv
    rows: list[UsageRow] = []
    total_reqs = total_sent = total_recv = unpriced = 0
    total_cost = 0.0
    for (provider, model), (reqs, sent, recv) in merged.items():
        price = prices.lookup(provider, model)
        cost = None
        if price is not None:
            cost = price.cost(sent / BYTES_PER_TOKEN, recv / BYTES_PER_TOKEN)
            total_cost += cost
        else:
            unpriced += reqs
        rows.append(
            UsageRow(
                provider=provider,
                model=model,
                reqs=reqs,
                sent=sent,
                recv=recv,
                tokens=estimated_tokens(sent + recv),
                cost_usd=cost,
                unpriced_reqs=0 if price is not None else reqs,
                price_key=price.key if price is not None else "",
                tokens_estimated=True,
            )
        )
        total_reqs += reqs
        total_sent += sent
        total_recv += recv
    rows.sort(key=lambda r: (-(r.cost_usd or 0.0), -r.reqs, r.provider, r.model))
    totals = Totals(
        reqs=total_reqs,
        rpm=rpm(total_reqs, window_ns),
        sent=total_sent,
        recv=total_recv,
        tokens=estimated_tokens(total_sent + total_recv),
        cost_usd=total_cost,
        unpriced_reqs=unpriced,
        tokens_estimated=True,
    )
    return totals, tuple(rows)
