"""The small value rules every agent's parser applies to what it decodes: a token count is a
whole number above 0 (anything else counts 0), a name is a trimmed string, a cost the agent
recorded itself counts only when above 0, and prices are looked up once per provider and model."""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, NamedTuple

from burntray.model.pricing import TIER_THRESHOLD_TOKENS as _TIER
from burntray.model.timefmt import parse_rfc3339_ns

if TYPE_CHECKING:
    from burntray.model.pricing import Price, PriceTable

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_from_iso = _dt.datetime.fromisoformat


def count(value: object) -> int:
    """A token count as the agents write it (a whole number >= 0); anything else counts 0."""
    if type(value) is int:  # the usual case first: agents with 20,000 sessions re-read them
        return value if value > 0 else 0
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


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


class _Rates(NamedTuple):
    """A model's per-token rates as ``Price.tiered_cost`` takes them: each field's base rate
    and its rate above the 200k tier (None: none), worked out once per model."""

    input: float
    input_above: float | None
    output: float
    output_above: float | None
    cache_write_5m: float
    cache_write_above: float | None
    cache_write_1h: float
    cache_read: float
    cache_read_above: float | None


def _rates_of(price: Price | None) -> _Rates | None:
    if price is None:
        return None
    return _Rates(
        price.input,
        price.input_above_200k,
        price.output,
        price.output_above_200k,
        price.cache_write if price.cache_write is not None else price.input * 1.25,
        price.cache_write_above_200k,
        price.cache_write_1h if price.cache_write_1h is not None else price.input * 2,
        price.cache_read if price.cache_read is not None else price.input * 0.1,
        price.cache_read_above_200k,
    )


class ModelPrices:
    """Prices by model, looked up once each (a lookup costs far more than pricing a request,
    and a first scan prices the same few models a hundred thousand times)."""

    def __init__(self, table: PriceTable, provider: str = "") -> None:
        self.table = table
        self.provider = provider
        self._cache: dict[str, _Rates | None] = {}

    def cost(self, model: str, inp: int, out: int, read: int, write: int) -> float | None:
        """USD for one request (the 200k tier, Anthropic's cache rule); None when unpriced:
        ``Price.tiered_cost`` without 1-hour cache writes, not fast, worked out here from the
        model's rates in the same order, so the very same float, without its five calls (a
        first scan prices every request: a sixth of the read of an agent's sessions)."""
        try:
            r = self._cache[model]
        except KeyError:
            r = self._cache[model] = _rates_of(self.table.lookup(self.provider, model))
        if r is None:
            return None
        if inp > _TIER or out > _TIER or read > _TIER or write > _TIER:
            # a field past the tier at its own rate above it, where the table has one
            above = r.input_above
            i = inp * r.input if above is None or inp <= _TIER else _tiered(inp, r.input, above)
            above = r.output_above
            o = out * r.output if above is None or out <= _TIER else _tiered(out, r.output, above)
            above = r.cache_write_above
            w = (
                write * r.cache_write_5m
                if above is None or write <= _TIER
                else _tiered(write, r.cache_write_5m, above)
            )
            above = r.cache_read_above
            c = (
                read * r.cache_read
                if above is None or read <= _TIER
                else _tiered(read, r.cache_read, above)
            )
            return (i + o + w + 0 * r.cache_write_1h + c) / 1_000_000
        return (
            inp * r.input
            + out * r.output
            + write * r.cache_write_5m
            + 0 * r.cache_write_1h
            + read * r.cache_read
        ) / 1_000_000


def _tiered(tokens: int, base: float, above: float) -> float:
    """``pricing._tiered`` of a field past the tier."""
    return _TIER * base + (tokens - _TIER) * above


class ProviderPrices:
    """``ModelPrices`` per provider, for agents whose records name the provider."""

    def __init__(self, table: PriceTable) -> None:
        self.table = table
        self._by_provider: dict[str, ModelPrices] = {}

    def cost(  # noqa: PLR0917 - a request's provider, model and counts
        self, provider: str, model: str, inp: int, out: int, read: int, write: int
    ) -> float | None:
        prices = self._by_provider.get(provider)
        if prices is None:
            prices = self._by_provider[provider] = ModelPrices(self.table, provider)
        return prices.cost(model, inp, out, read, write)
