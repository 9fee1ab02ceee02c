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
import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from burntray.io.sqlite_ro import StoreProblem, describe_error, open_readonly, signature
from burntray.model.pricing import PriceTable
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.stores import dump_state, load_state_parts
from burntray.sources.agent_logs.values import ModelPrices

WHAT = "Hermes state database"
COLUMNS = (
    "id", "model", "billing_provider", "started_at", "input_tokens", "output_tokens",
    "cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "estimated_cost_usd",
    "actual_cost_usd",
)  # fmt: skip
_PROVIDERS = {"claude": "anthropic", "openai_codex": "openai", "google_ai": "google",
              "gemini": "google", "vertex": "google", "vertex_ai": "google"}  # fmt: skip


def _usd(value: object) -> float:
    """A non-negative finite number (SQLite may hand an int or a float), else 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return max(0.0, float(value)) if math.isfinite(value) else 0.0


def _count(value: object) -> int:
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


class HermesReader:
    """Reads the changed Hermes state databases."""

    def __init__(
        self,
        databases: Iterable[Path],
        prices: PriceTable,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.databases = [Path(d) for d in databases]
        self.prices = prices
        self._prices: dict[str, ModelPrices] = {}
        self._clock_ns = clock_ns
        self.missing = ""
        self.files_seen = 0
        self._signatures: dict[str, object] = {}
        self._problems: dict[str, str] = {}
        # session -> [input, output, cache read, cache write, cost in micro-USD] recorded so far
        self._sessions: dict[str, list[int]] = {}
        self._progress = 0

    @property
    def progress(self) -> int:
        return self._progress

    @property
    def malformed_lines(self) -> int:
        return 0

    @property
    def first_malformed(self) -> str:
        return ""

    def folders(self) -> list[str]:
        return [str(d.parent) for d in self.databases if d.parent.is_dir()]

    def unreadable(self) -> dict[str, str]:
        return dict(self._problems)

    def read_new(self, active_since_ns: int | None = None) -> list[UsageRecord]:
        out: list[UsageRecord] = []
        present = [db for db in self.databases if db.exists()]
        seen: set[str] = set()
        for db in present:
            self._read(db, seen, out)
        self.files_seen = len(present)
        self.missing = (
            "" if present else "no Hermes state.db at " + ", ".join(map(str, self.databases))
        )
        return out

    def _read(self, db: Path, seen: set[str], out: list[UsageRecord]) -> None:
        name = str(db)
        sig = signature(db)
        if self._signatures.get(name) == sig and name not in self._problems:
            return
        try:
            conn = open_readonly(db, WHAT)
        except StoreProblem as exc:
            self._problems[name] = exc.detail
            return
        try:
            have = {row[1] for row in conn.execute("PRAGMA table_info(sessions)")}
            missing = [c for c in COLUMNS if c not in have]
            if missing:
                raise sqlite3.OperationalError(f"no such column: {missing[0]}")
            later = next((c for c in ("updated_at", "ended_at") if c in have), "NULL")
            rows = conn.execute(
                f"SELECT {', '.join(COLUMNS)}, {later} FROM sessions "  # noqa: S608
                "WHERE model IS NOT NULL AND trim(model) != ''"
            ).fetchall()
        except sqlite3.Error as exc:
            self._problems[name] = describe_error(exc, db, WHAT)
            return
        finally:
            conn.close()
        self._problems.pop(name, None)
        self._signatures[name] = sig
        now = self._clock_ns()
        for row in rows:
            self._row(row, now, seen, out)
        self._progress += 1

    def _row(
        self, row: tuple[object, ...], now: int, seen: set[str], out: list[UsageRecord]
    ) -> None:
        ident = str(row[0] or "")
        model = str(row[1]).strip()
        started = when_ns(row[3])
        if not ident or not model or started is None or ident in seen:
            return  # a session another home holds counts once (the first)
        seen.add(ident)
        inp, output, read, write, reasoning = (_count(v) for v in row[4:9])
        cost = _usd(row[10])  # the billed cost; Hermes's estimate is not used (as ccusage)
        totals = [inp, output + reasoning, read, write, round(cost * 1e6)]
        if not any(totals):
            return
        provider = provider_of(row[2], model)
        key = f"h:{ident}"
        before = self._sessions.get(key)
        self._sessions[key] = totals
        if before is None:
            out.append(self._record(key, started, model, provider, ident, totals))
            return
        delta = [max(0, a - b) for a, b in zip(totals, before, strict=True)]
        if any(delta[:4]):
            at = when_ns(row[11]) or now
            out.append(self._record(f"{key}:{at}", at, model, provider, ident, delta))

    def _record(  # noqa: PLR0917 - a record's parts
        self, key: str, ts: int, model: str, provider: str, session: str, totals: list[int]
    ) -> UsageRecord:
        inp, out, read, write, micro_usd = totals
        if micro_usd > 0:
            cost: float | None = micro_usd / 1e6
        else:
            prices = self._prices.get(provider)
            if prices is None:
                prices = self._prices[provider] = ModelPrices(self.prices, provider)
            cost = prices.cost(model, inp, out, read, write)
        return UsageRecord(ts, provider, model, inp, out, read, write, cost, key, session,
                           cost_from_upstream=micro_usd > 0)  # fmt: skip

    def save_state(self) -> str:
        return dump_state(sessions=self._sessions)

    def load_state(self, text: str) -> None:
        sessions = load_state_parts(text).get("sessions")
        if isinstance(sessions, dict):
            self._sessions = {
                k: [int(x) for x in v]
                for k, v in sessions.items()
                if isinstance(v, list) and len(v) == 5 and all(isinstance(x, int) for x in v)
            }

    def reset(self) -> None:
        self._signatures = {}
        self._sessions = {}
        self._progress += 1
