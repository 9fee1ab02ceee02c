"""Hermes Agent's state database: each session's running token totals and cost, as they grow.

Where (see ``.paths``): ``state.db`` (SQLite), table ``sessions``, a row per session: ``id``,
``model``, ``billing_provider``, ``started_at`` (seconds), and the session's totals so far:
``input_tokens`` (not read from cache), ``output_tokens``, ``cache_read_tokens``,
``cache_write_tokens``, ``reasoning_tokens`` and its cost: ``actual_cost_usd`` (what was
billed) and ``estimated_cost_usd`` (Hermes's estimate from its own price list, not used).

Hermes keeps no per-request usage: burntray records what a session adds. The first time a
session is seen, its totals are one record at ``started_at`` (as ccusage dates the session);
each later growth is a record of the difference, dated the row's ``updated_at`` (else
``ended_at``) where the table has one, else when it was read. Reasoning is billed as output.
The cost is the billed ``actual_cost_usd`` (the difference of its totals) when above 0, else
priced from the table by provider and model (an unknown model unpriced, never $0). A session
found in two homes counts once. The database is read only when its files changed, read-only,
in one short transaction (``io.sqlite_ro``); the totals seen are kept with the resume state.
"""

from __future__ import annotations

import math

from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.databases import Row, SessionTotalsReader

WHAT = "Hermes state database"
_EXACT_INT = 2**53  # every int up to this is a float exactly
COLUMNS = (
    "id", "model", "billing_provider", "started_at", "input_tokens", "output_tokens",
    "cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "estimated_cost_usd",
    "actual_cost_usd",
)  # fmt: skip
_PROVIDERS = {"claude": "anthropic", "openai_codex": "openai", "google_ai": "google",
              "gemini": "google", "vertex": "google", "vertex_ai": "google"}  # fmt: skip


def _usd(value: object) -> float:
    """A non-negative finite number (SQLite may hand an int or a float), else 0."""
    # the exact types first: a warm read goes through every session's row (20,000 of them)
    if type(value) is float:
        return value if 0.0 < value < math.inf else 0.0  # NaN compares False: 0
    if type(value) is int:
        return float(value) if value > 0 else 0.0
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return max(0.0, float(value)) if math.isfinite(value) else 0.0


def _count(value: object) -> int:
    if type(value) is int and 0 <= value <= _EXACT_INT:
        return value  # what int(float(value)) gives for it, without the float
    return int(_usd(value))


def when_ns(value: object) -> int | None:
    """Seconds (or ms) since the epoch, as Hermes writes ``started_at``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        return None
    ms = value if value > 1e12 else value * 1000
    return int(ms) * 1_000_000 if ms < 1e15 else None


def provider_of(raw: object, model: str) -> str:
    text = raw.strip().lower().replace("-", "_") if isinstance(raw, str) else ""
    if text:
        return _PROVIDERS.get(text, text)
    lower = model.lower()
    if lower.startswith(("claude-", "claude/")):
        return "anthropic"
    if lower.startswith(("gpt", "chatgpt")) or (lower[:1] == "o" and lower[1:2].isdigit()):
        return "openai"
    return "google" if lower.startswith(("gemini-", "gemini/")) else ""


class HermesReader(SessionTotalsReader):
    """Reads the changed Hermes state databases."""

    what = WHAT
    file_label = "Hermes state.db"
    columns = COLUMNS
    later_columns = ("updated_at", "ended_at")
    required = "model"
    width = 5  # input, output, cache read, cache write, cost in micro-USD
    counted = 4  # the cost alone growing is no request
    # the totals and the billed cost in micro-USD (Hermes's estimate is not used); not the
    # session's start: a row without one is not recorded, so it is read again anyway
    digest_terms = (
        *(f"ifnull({c}, 0)" for c in COLUMNS[4:9]),
        "CAST(round(ifnull(actual_cost_usd, 0) * 1000000) AS INTEGER)",
    )
    ids_across_databases = True

    def row(self, db: str, row: Row, out: list[UsageRecord]) -> None:
        ident = str(row[0] or "")
        model = str(row[1]).strip()
        if not ident or not model or ident in self.seen:
            return  # a session another home holds counts once (the first)
        inp, output, read, write, reasoning = map(_count, row[4:9])
        cost = _usd(row[10])  # the billed cost; Hermes's estimate is not used (as ccusage)
        totals = [inp, output + reasoning, read, write, round(cost * 1e6)]
        key = f"h:{ident}"
        part = self.part_of(key)  # its bucket worked out once for the row
        if self.unchanged(part, key, totals):
            self.seen.add(ident)
            return  # most sessions of a re-read: nothing added, no time to work out
        started = when_ns(row[3])
        if started is None:
            return
        self.seen.add(ident)
        if not any(totals):
            return
        found = self.grew(part, key, totals, started, when_ns(row[11]))
        if found is not None:
            key, at, counts = found
            out.append(self._record(key, at, model, provider_of(row[2], model), ident, counts))

    def _record(  # noqa: PLR0917 - a record's parts
        self, key: str, ts: int, model: str, provider: str, session: str, totals: list[int]
    ) -> UsageRecord:
        inp, out, read, write, micro_usd = totals
        if micro_usd > 0:
            cost: float | None = micro_usd / 1e6
        else:
            cost = self._prices.cost(provider, model, inp, out, read, write)
        return UsageRecord(ts, provider, model, inp, out, read, write, cost, key, session,
                           cost_from_upstream=micro_usd > 0)  # fmt: skip
