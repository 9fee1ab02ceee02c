"""Per-request usage records with real token counts, and their aggregation over a window.

Sources that know each request's tokens (agent logs, OTLP, yoi's session logs) yield
``UsageRecord``s. Each record carries its final cost, decided by the source when it read the
request: the upstream's own figure where it states one, else burntray's price for that request
alone (prices can be tiered per request, so pricing summed tokens would not be exact). ``None``
means no price is known: such requests are counted as unpriced, never as $0.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from burntray.model.aggregate import rpm
from burntray.model.snapshot import Totals, UsageRow


class UsageRecord(NamedTuple):
    ts_ns: int  # epoch ns, UTC
    provider: str  # "" when unknown
    model: str  # "" when unknown
    input_tokens: int  # uncached input
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float | None  # final cost of this request; None = unpriced
    key: str  # unique per request within its source: ingest is idempotent on it
    session: str = ""
    project: str = ""
    cost_from_upstream: bool = False
    branch: str = ""  # the git branch the tool was on ("" when unknown)

    @property
    def tokens(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_read_tokens
            + self.cache_write_tokens
        )


class ModelUsage(NamedTuple):
    """Summed usage of one provider/model: what history queries return and rows are made of."""

    provider: str
    model: str
    reqs: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float  # of the priced requests
    unpriced_reqs: int


def group_records(records: Iterable[UsageRecord]) -> list[ModelUsage]:
    """Sum records per provider/model."""
    acc: dict[tuple[str, str], list[float]] = {}
    for rec in records:
        row = acc.setdefault((rec.provider, rec.model), [0, 0, 0, 0, 0, 0.0, 0])
        row[0] += 1
        row[1] += rec.input_tokens
        row[2] += rec.output_tokens
        row[3] += rec.cache_read_tokens
        row[4] += rec.cache_write_tokens
        if rec.cost_usd is None:
            row[6] += 1
        else:
            row[5] += rec.cost_usd
    return [
        ModelUsage(p, m, int(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4]), r[5], int(r[6]))
        for (p, m), r in acc.items()
    ]


def summarise_usage(
    groups: Iterable[ModelUsage], window_ns: int
) -> tuple[Totals, tuple[UsageRow, ...]]:
    """Totals and per-model rows from grouped usage (groups of one model may repeat: they add).

    Rows are sorted by cost, then requests, descending, as for byte-counting sources.
    """
    merged: dict[tuple[str, str], list[float]] = {}
    for g in groups:
        row = merged.setdefault((g.provider, g.model), [0, 0, 0, 0, 0, 0.0, 0])
        for i, value in enumerate(g[2:]):
            row[i] += value
    rows: list[UsageRow] = []
    sums = [0, 0, 0, 0, 0, 0.0, 0]
    for (provider, model), r in merged.items():
        reqs, inp, out, cread, cwrite, cost, unpriced = r
        if reqs == 0:
            continue
        for i, value in enumerate(r):
            sums[i] += value
        rows.append(
            UsageRow(
                provider=provider,
                model=model,
                reqs=int(reqs),
                sent=0,
                recv=0,
                tokens=int(inp + out + cread + cwrite),
                cost_usd=None if unpriced == reqs else float(cost),
                unpriced_reqs=int(unpriced),
                input_tokens=int(inp),
                output_tokens=int(out),
                cache_read_tokens=int(cread),
                cache_write_tokens=int(cwrite),
            )
        )
    rows.sort(key=lambda r: (-(r.cost_usd or 0.0), -r.reqs, r.provider, r.model))
    reqs, inp, out, cread, cwrite, cost, unpriced = sums
    totals = Totals(
        reqs=int(reqs),
        rpm=rpm(int(reqs), window_ns),
        tokens=int(inp + out + cread + cwrite),
        cost_usd=float(cost),
        unpriced_reqs=int(unpriced),
        input_tokens=int(inp),
        output_tokens=int(out),
        cache_read_tokens=int(cread),
        cache_write_tokens=int(cwrite),
    )
    return totals, tuple(rows)


def summarise_records(
    records: Iterable[UsageRecord], window_ns: int
) -> tuple[Totals, tuple[UsageRow, ...]]:
    """Totals and per-model rows of the records (already filtered to the window)."""
    return summarise_usage(group_records(records), window_ns)
