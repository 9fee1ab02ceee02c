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

from burntray.model.rates import Rates, priced
from burntray.model.timefmt import TimeFormatError, parse_rfc3339_ns
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.databases import Row, SessionTotalsReader
from burntray.sources.agent_logs.state_parts import bucket
from burntray.sources.agent_logs.values import (
    blank,
    count_sql,
    new_record,
    record_defaults,
)

WHAT = "Goose session database"
_MAX_NAMES = 1024  # (configuration, provider) pairs kept decoded
COLUMNS = (
    "id", "model_config_json", "provider_name", "created_at", "total_tokens", "input_tokens",
    "output_tokens", "accumulated_total_tokens", "accumulated_input_tokens",
    "accumulated_output_tokens",
)  # fmt: skip


# what ``GooseReader.use_rows`` reads of a session: its id, configuration, provider and start
# as they are, and its input, output and total tokens, each the accumulated count where there
# is one above 0, else the last turn's (worked out by SQLite: three values a row handed to
# Python instead of six, each of which took a Python call to check; a fifth of a first scan's
# read). Selection only: no arithmetic that SQLite would do in 64 bits, Python in whole
# numbers. One CASE each, not a CASE of two: the accumulated count was worked out twice (a
# first scan's fetch of 20,000 rows took 12 % more instructions so)
SELECTED = (
    *COLUMNS[:4],
    count_sql("accumulated_input_tokens", "input_tokens"),
    count_sql("accumulated_output_tokens", "output_tokens"),
    count_sql("accumulated_total_tokens", "total_tokens"),
)

# a row as ``SessionTotalsReader.query`` reads it: ``SELECTED``, the update time, the rowid
_Selected = tuple[object, object, object, object, int, int, int, object, object]

_AFTER_SESSION = record_defaults(10)  # a record's fields after its session
_NONE = object()  # no row yet
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
        # (configuration, provider) -> model, provider and the model's rates (None: unpriced)
        self._names: dict[tuple[object, object], tuple[str, str, Rates | None]] = {}

    def _names_of(self, config: object, provider_name: object) -> tuple[str, str, Rates | None]:
        """The model and provider of a session's configuration and provider, and the model's
        rates: sessions share a few configurations, each decoded and looked up once."""
        names = (config, provider_name)
        try:
            return self._names[names]
        except (KeyError, TypeError):  # new, or not text (unhashable: not cached)
            pass
        model = model_of(config)
        provider = provider_of(provider_name, model)
        rates = self._prices.rates(provider, model) if model else None
        found = (model, provider, rates)
        if len(self._names) < _MAX_NAMES:
            with contextlib.suppress(TypeError):
                self._names[names] = found
        return found

    def use_rows(self, db: str, rows: list[Row], out: list[UsageRecord]) -> list[int]:
        """What each session's row adds, in one loop (a first scan goes through 20,000: the
        row rule, its bucket, totals and price inline took ~45 % less than a method per step):
        ``SessionTotalsReader.use_rows`` with the rule of a row below, ``grew`` inline for a
        session seen the first time."""
        pending: list[int] = []  # rowids read but not recorded: read again next time
        prefix = f"g:{db}:"
        parts: dict[str, dict[str, list[int]]] = {}  # those asked for, by name: no call
        touched: set[str] = set()  # the parts a session was recorded in
        # the names of the last row's configuration and provider: most rows share them, and
        # telling them equal costs less than hashing them (the configuration is JSON)
        last_config: object = _NONE
        last_provider: object = _NONE
        model, provider, rates = "", "", None
        try:
            for row in cast("list[_Selected]", rows):
                ident, config, provider_name, created, inp, output, total, updated, rowid = row
                if blank(config):  # what SQLite's "trim(x) != ''" does not keep
                    if type(rowid) is int:
                        pending.append(rowid)
                    continue
                # the counts as ``SELECTED`` worked them out: whole numbers >= 0 (``count``)
                reasoning = (total or inp + output) - inp - output
                if reasoning > 0:
                    output += reasoning  # billed as output
                key = f"{prefix}{ident}"
                part = bucket(key)
                sessions = parts.get(part)
                if sessions is None:
                    sessions = parts[part] = self.parts.get(part)
                before = sessions.get(key)
                totals = [inp, output]
                if before == totals:
                    continue  # most sessions of a re-read: nothing added, nothing to work out
                if config != last_config or provider_name != last_provider:
                    model, provider, rates = self._names_of(config, provider_name)
                    last_config, last_provider = config, provider_name
                created_ns = when_ns(created)
                if not model or created_ns is None:
                    if model or created is not None:
                        self.bad(f"{db} session {ident}", "no model or time")
                    if type(rowid) is int:
                        pending.append(rowid)
                    continue
                if not (inp or output):
                    if type(rowid) is int:
                        pending.append(rowid)
                    continue
                if before is None:  # ``grew`` for a session seen the first time
                    sessions[key] = totals
                    touched.add(part)
                    at, add_in, add_out = created_ns, inp, output
                else:  # the update time dates a growth
                    found = self.grew((part, sessions), key, totals, created_ns, when_ns(updated))
                    if found is None:
                        continue
                    key, at, (add_in, add_out) = found
                cost = None if rates is None else priced(rates, add_in, add_out, 0, 0, 0, False)
                fields = (at, provider, model, add_in, add_out, 0, 0, cost, key, str(ident))
                out.append(new_record(fields + _AFTER_SESSION))
        finally:
            for part in touched:
                self.parts.changed(part)
        return pending
