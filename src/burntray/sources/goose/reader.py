"""Goose's session database: each session's running token totals, as they grow.

Where (see ``.paths``): ``sessions.db`` (SQLite), table ``sessions``: per session ``id``,
``model_config_json`` (its ``model_name``), ``provider_name``, ``created_at`` and the totals so
far, ``accumulated_input_tokens``/``accumulated_output_tokens``/``accumulated_total_tokens``
(else the last turn's ``input_tokens``/``output_tokens``/``total_tokens``). Goose records no
cache tokens; what the total holds beyond input and output (reasoning) is billed as output.

Goose keeps no per-request usage: burntray records what a session adds. The first time a
session is seen, its totals are one record at ``created_at`` (as ccusage dates the session);
each later growth is a record of the difference, dated the row's ``updated_at`` where the table
has one, else when it was read. The totals seen are kept with the resume state, so a restart
records only what was added meanwhile. The database is read only when its files changed,
read-only, in one short transaction (``io.sqlite_ro``). Priced from the table by provider and
model; an unknown model is unpriced, never $0.
"""

from __future__ import annotations

import datetime as _dt
import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import msgspec

from burntray.io.sqlite_ro import StoreProblem, describe_error, open_readonly, signature
from burntray.model.pricing import PriceTable
from burntray.model.timefmt import TimeFormatError, parse_rfc3339_ns
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.stores import dump_state, load_state_parts
from burntray.sources.agent_logs.values import ModelPrices

WHAT = "Goose session database"
COLUMNS = (
    "id", "model_config_json", "provider_name", "created_at", "total_tokens", "input_tokens",
    "output_tokens", "accumulated_total_tokens", "accumulated_input_tokens",
    "accumulated_output_tokens",
)  # fmt: skip


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def when_ns(value: object) -> int | None:
    """Goose's ``created_at``: seconds or ms, RFC 3339, ``YYYY-MM-DD HH:MM:SS`` (UTC) or a day."""
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    if text.lstrip("-").isdigit():
        number = int(text)
        ms = number if number > 1_000_000_000_000 else number * 1000
        return ms * 1_000_000 if ms > 0 else None
    try:
        return parse_rfc3339_ns(text)
    except TimeFormatError:
        pass
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            at = _dt.datetime.strptime(text, fmt).replace(tzinfo=_dt.UTC)
        except ValueError:
            continue
        return int(at.timestamp()) * 1_000_000_000
    return None


def model_of(config: object) -> str:
    try:
        doc = msgspec.json.decode(config) if isinstance(config, str | bytes) else None
    except msgspec.DecodeError:
        return ""
    name = doc.get("model_name") if isinstance(doc, dict) else None
    return name.strip() if isinstance(name, str) else ""


def provider_of(name: object, model: str) -> str:
    text = name.strip() if isinstance(name, str) else ""
    if text:
        return text.replace("-", "_")
    if model.startswith("claude-"):
        return "anthropic"
    if model.startswith(("gpt-", "chatgpt-", "o")):
        return "openai"
    return "google" if model.startswith("gemini-") else ""


class GooseReader:
    """Reads the changed Goose session databases."""

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
        self._sessions: dict[str, list[int]] = {}  # "db:id" -> [input, output] recorded so far
        self._bad = 0
        self._first_bad = ""
        self._progress = 0

    @property
    def progress(self) -> int:
        return self._progress

    @property
    def malformed_lines(self) -> int:
        return self._bad

    @property
    def first_malformed(self) -> str:
        return self._first_bad

    def folders(self) -> list[str]:
        return [str(d.parent) for d in self.databases if d.parent.is_dir()]

    def unreadable(self) -> dict[str, str]:
        return dict(self._problems)

    def read_new(self, active_since_ns: int | None = None) -> list[UsageRecord]:
        out: list[UsageRecord] = []
        present = [db for db in self.databases if db.exists()]
        for db in present:
            self._read(db, out)
        self.files_seen = len(present)
        self.missing = (
            "" if present else "no Goose sessions.db at " + ", ".join(map(str, self.databases))
        )
        return out

    def _read(self, db: Path, out: list[UsageRecord]) -> None:
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
            updated = ", updated_at" if "updated_at" in have else ", NULL"
            rows = conn.execute(
                f"SELECT {', '.join(COLUMNS)}{updated} FROM sessions "  # noqa: S608
                "WHERE model_config_json IS NOT NULL AND trim(model_config_json) != ''"
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
            self._row(name, row, now, out)
        self._progress += 1

    def _row(self, db: str, row: tuple[object, ...], now: int, out: list[UsageRecord]) -> None:
        ident, config, provider_name, created = row[0], row[1], row[2], row[3]
        total_last, in_last, out_last, total_acc, in_acc, out_acc, updated = row[4:11]
        model = model_of(config)
        created_ns = when_ns(created)
        if not model or created_ns is None:
            if model or created is not None:
                self._bad += 1
                self._first_bad = self._first_bad or f"{db} session {ident}: no model or time"
            return
        inp = _count(in_acc) or _count(in_last)
        output = _count(out_acc) or _count(out_last)
        total = _count(total_acc) or _count(total_last) or inp + output
        output += max(0, total - inp - output)  # reasoning, billed as output
        if not (inp or output):
            return
        key = f"g:{db}:{ident}"
        provider = provider_of(provider_name, model)
        seen = self._sessions.get(key)
        self._sessions[key] = [inp, output]
        if seen is None:
            out.append(self._record(key, created_ns, model, provider, str(ident), inp, output))
            return
        add_in, add_out = max(0, inp - seen[0]), max(0, output - seen[1])
        if add_in or add_out:
            at = when_ns(updated) or now
            out.append(
                self._record(f"{key}:{at}", at, model, provider, str(ident), add_in, add_out)
            )

    def _record(  # noqa: PLR0917 - a record's parts
        self, key: str, ts: int, model: str, provider: str, session: str, inp: int, out: int
    ) -> UsageRecord:
        prices = self._prices.get(provider)
        if prices is None:
            prices = self._prices[provider] = ModelPrices(self.prices, provider)
        cost = prices.cost(model, inp, out, 0, 0)
        return UsageRecord(ts, provider, model, inp, out, 0, 0, cost, key, session)

    def save_state(self) -> str:
        return dump_state(sessions=self._sessions)

    def load_state(self, text: str) -> None:
        sessions = load_state_parts(text).get("sessions")
        if isinstance(sessions, dict):
            self._sessions = {
                k: [int(x) for x in v]
                for k, v in sessions.items()
                if isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) for x in v)
            }

    def reset(self) -> None:
        self._signatures = {}
        self._sessions = {}
        self._bad = 0
        self._first_bad = ""
        self._progress += 1
