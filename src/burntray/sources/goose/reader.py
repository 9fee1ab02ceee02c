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

import contextlib
import datetime as _dt
from typing import Any, cast

import msgspec

from burntray.model.timefmt import TimeFormatError, parse_rfc3339_ns
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.databases import Row, SessionTotalsReader
from burntray.sources.agent_logs.values import count_sql

WHAT = "Goose session database"
_MAX_NAMES = 1024  # (configuration, provider) pairs kept decoded
COLUMNS = (
    "id", "model_config_json", "provider_name", "created_at", "total_tokens", "input_tokens",
    "output_tokens", "accumulated_total_tokens", "accumulated_input_tokens",
    "accumulated_output_tokens",
)  # fmt: skip


def _either(accumulated: str, last: str) -> str:
    """``count(accumulated) or count(last)``, in SQL (selection only: no arithmetic that
    SQLite would do in 64 bits, Python in whole numbers)."""
    first = count_sql(accumulated)
    return f"CASE WHEN {first} > 0 THEN {first} ELSE {count_sql(last)} END"


# what ``GooseReader.row`` reads of a session: its id, configuration, provider and start as
# they are, and its input, output and total tokens, each the accumulated count where there is
# one above 0, else the last turn's (worked out by SQLite: three values a row handed to Python
# instead of six, each of which took a Python call to check; a fifth of a first scan's read)
SELECTED = (
    *COLUMNS[:4],
    _either("accumulated_input_tokens", "input_tokens"),
    _either("accumulated_output_tokens", "output_tokens"),
    _either("accumulated_total_tokens", "total_tokens"),
)

_EPOCH = _dt.datetime(1970, 1, 1)  # naive: Goose's own form is UTC without saying so
_from_iso = _dt.datetime.fromisoformat


def _goose_form(text: str) -> int | None:
    """``YYYY-MM-DD HH:MM:SS`` (or with a ``T``; the caller checked that and the length),
    parsed in C: the separators checked here and every other place an ASCII digit, the date
    one that exists, hour <= 23, minute and second <= 59, as RFC 3339 reads them (a first scan
    reads 20,000 sessions: a regular expression each, then string slicing, cost ~2 us, this
    ~0.5 us). None: not this form (the RFC 3339 reading then says why)."""
    if not (text[4] == text[7] == "-" and text[13] == text[16] == ":" and text.isascii()):
        return None
    try:
        since = _from_iso(text) - _EPOCH
    except ValueError:
        return None
    return (since.days * 86400 + since.seconds) * 1_000_000_000


def when_ns(value: object) -> int | None:
    """Goose's ``created_at``: seconds or ms, RFC 3339, ``YYYY-MM-DD HH:MM:SS`` (UTC) or a day."""
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    if len(text) == 19 and text[10] in " T":
        # Goose's own form first (SQLite's CURRENT_TIMESTAMP, UTC), read as RFC 3339 with a Z
        # (many times faster than strptime): 19 characters are never a number with a "T" or a
        # space in them, nor an RFC 3339 time with an offset (20 at least), so nothing before
        # could have read it; what it cannot read goes on to strptime
        quick = _goose_form(text)
        if quick is not None:
            return quick
        try:
            return parse_rfc3339_ns(f"{text[:10]}T{text[11:]}Z")
        except TimeFormatError:
            pass
    elif text.lstrip("-").isdigit():
        number = int(text)
        ms = number if number > 1_000_000_000_000 else number * 1000
        return ms * 1_000_000 if ms > 0 else None
    else:
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


class _Config(msgspec.Struct, gc=False):
    model_name: object = None


_CONFIG = msgspec.json.Decoder(_Config)  # only the model's name is decoded


def model_of(config: object) -> str:
    try:
        doc = _CONFIG.decode(config) if isinstance(config, str | bytes) else None
    except msgspec.DecodeError:  # not JSON, or not an object (a ValidationError)
        return ""
    name = doc.model_name if doc is not None else None
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


class GooseReader(SessionTotalsReader):
    """Reads the changed Goose session databases."""

    what = WHAT
    file_label = "Goose sessions.db"
    columns = COLUMNS
    selected = SELECTED
    later_columns = ("updated_at",)
    required = "model_config_json"
    width = 2  # input, output
    digest_terms = tuple(f"ifnull({c}, 0)" for c in COLUMNS[4:])  # last turn's, accumulated

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._names: dict[tuple[object, object], tuple[str, str]] = {}

    def row(self, db: str, row: Row, out: list[UsageRecord]) -> None:
        # the counts as ``SELECTED`` worked them out: whole numbers >= 0 (``count``)
        ident, config, provider_name, created, inp, output, total, updated = cast(
            "tuple[object, object, object, object, int, int, int, object]", row[:8]
        )
        total = total or inp + output
        output += max(0, total - inp - output)  # reasoning, billed as output
        key = f"g:{db}:{ident}"
        totals = [inp, output]
        part = self.part_of(key)  # its bucket worked out once for the row
        if self.unchanged(part, key, totals):
            return  # most sessions of a re-read: nothing added, nothing more to work out
        names = (config, provider_name)
        try:  # sessions share a few configurations: each decoded once
            model, provider = self._names[names]
        except (KeyError, TypeError):  # new, or not text (unhashable: not cached)
            model = model_of(config)
            provider = provider_of(provider_name, model)
            if len(self._names) < _MAX_NAMES and isinstance(names, tuple):
                with contextlib.suppress(TypeError):
                    self._names[names] = (model, provider)
        created_ns = when_ns(created)
        if not model or created_ns is None:
            if model or created is not None:
                self.bad(f"{db} session {ident}", "no model or time")
            return
        if not (inp or output):
            return
        # the update time dates a growth only: not worked out for a session seen the first time
        later = when_ns(updated) if key in part[1] else None
        found = self.grew(part, key, totals, created_ns, later)
        if found is not None:
            key, at, (add_in, add_out) = found
            cost = self._prices.cost(provider, model, add_in, add_out, 0, 0)
            out.append(UsageRecord(at, provider, model, add_in, add_out, 0, 0, cost, key,
                                   str(ident)))  # fmt: skip
