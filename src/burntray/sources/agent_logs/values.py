"""The small value rules every agent's parser applies to what it decodes: a token count is a
whole number above 0 (anything else counts 0), a name is a trimmed string, a cost the agent
recorded itself counts only when above 0, and prices are looked up once per provider and model."""

from __future__ import annotations

import datetime as _dt
import functools
from typing import TYPE_CHECKING

from burntray.model.rates import Rates, priced, rates_of
from burntray.model.timefmt import parse_rfc3339_ns
from burntray.model.usage import UsageRecord

if TYPE_CHECKING:
    from burntray.model.pricing import PriceTable

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)

# ``UsageRecord(*fields)`` made in C, all its fields given (``record_defaults``: those after the
# ones a reader gives): the NamedTuple's own ``__new__`` is a Python call, ~5 % of a loop over a
# first scan's 20,000 rows
new_record = functools.partial(tuple.__new__, UsageRecord)


def record_defaults(given: int) -> tuple[object, ...]:
    """The defaults of ``UsageRecord``'s fields after the first ``given``."""
    return tuple(UsageRecord._field_defaults[f] for f in UsageRecord._fields[given:])


_from_iso = _dt.datetime.fromisoformat


def count(value: object) -> int:
    """A token count as the agents write it (a whole number >= 0); anything else counts 0."""
    if type(value) is int:  # the usual case first: agents with 20,000 sessions re-read them
        return value if value > 0 else 0
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def count_sql(*columns: str) -> str:
    """``count`` of a column in SQLite's SQL: a whole number above 0 as it is, anything else
    0 (a reader of many rows has SQLite pick its counts: selection only, no arithmetic, so the
    same numbers as ``count``, a Python call a count fewer). Given more columns, the first
    whose count is above 0 (``count(a) or count(b)``), in one ``CASE``: each tested once."""
    picks = " ".join(f"WHEN typeof({c}) = 'integer' AND {c} > 0 THEN {c}" for c in columns)
    return f"CASE {picks} ELSE 0 END"


def blank(value: object) -> bool:
    """Whether SQLite's ``trim(value) != ''`` is not true: NULL, or only spaces."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip(" ")
    return isinstance(value, bytes) and not value.strip(b" ")


def text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def stamp_ns(text: str) -> int:
    """``parse_rfc3339_ns(text)``: the same instant, or the same ``TimeFormatError``. The form
    the agents write, ``2026-11-20T09:05:07.123Z``, is parsed in C (``fromisoformat``: 0.5 us
    against 2.5 us, a tenth of a JSONL agent's first-scan read); anything else, and anything
    that form's parse refuses, by ``parse_rfc3339_ns``."""
    if (
        len(text) == 24
        and text[23] == "Z"
        and text[19] == "."
        and text[10] == "T"
        and text[4] == text[7] == "-"
        and text[13] == text[16] == ":"
        and text.isascii()  # fromisoformat takes digits only there, but says it: to be sure
    ):
        try:
            since = _from_iso(text) - _EPOCH
        except ValueError:  # no such date or time: the exact parser says why
            return parse_rfc3339_ns(text)
        return (since.days * 86400 + since.seconds) * 1_000_000_000 + since.microseconds * 1000
    return parse_rfc3339_ns(text)


def own_cost(value: object) -> float | None:
    """The agent's own cost in USD when it recorded one above 0 (a subscription records 0:
    then the tokens are priced from the table instead), else None."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


class ModelPrices:
    """Prices by model, looked up once each (a lookup costs far more than pricing a request,
    and a first scan prices the same few models a hundred thousand times)."""

    def __init__(self, table: PriceTable, provider: str = "") -> None:
        self.table = table
        self.provider = provider
        self._cache: dict[str, Rates | None] = {}

    def cost(self, model: str, inp: int, out: int, read: int, write: int) -> float | None:
        """USD for one request (the 200k tier, Anthropic's cache rule); None when unpriced:
        ``Price.tiered_cost``'s very float from the model's rates worked out once
        (``model.rates``), without its five calls (a first scan prices every request)."""
        try:  # not ``rates``: a call less per request
            rates = self._cache[model]
        except KeyError:
            rates = self.rates(model)
        return None if rates is None else priced(rates, inp, out, write, 0, read, False)

    def rates(self, model: str) -> Rates | None:
        """The model's rates (None: unpriced), looked up the first time it is asked for."""
        try:
            return self._cache[model]
        except KeyError:
            rates = self._cache[model] = rates_of(self.table.lookup(self.provider, model))
            return rates


class ProviderPrices:
    """``ModelPrices`` per provider, for agents whose records name the provider."""

    def __init__(self, table: PriceTable) -> None:
        self.table = table
        self._by_provider: dict[str, ModelPrices] = {}

    def cost(  # noqa: PLR0917 - a request's provider, model and counts
        self, provider: str, model: str, inp: int, out: int, read: int, write: int
    ) -> float | None:
        prices = self._by_provider.get(provider)  # not ``_of``: a call less per request
        if prices is None:
            prices = self._of(provider)
        return prices.cost(model, inp, out, read, write)

    def rates(self, provider: str, model: str) -> Rates | None:
        """The model's rates from ``provider`` (None: unpriced), for a reader that prices its
        requests itself (``rates.priced``)."""
        return self._of(provider).rates(model)

    def _of(self, provider: str) -> ModelPrices:
        prices = self._by_provider.get(provider)
        if prices is None:
            prices = self._by_provider[provider] = ModelPrices(self.table, provider)
        return prices
