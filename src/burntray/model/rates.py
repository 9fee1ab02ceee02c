"""A model's per-token rates, worked out once per model from its ``Price``, and a request priced
from them: a scan prices the same few models hundreds of thousands of times, nearly always below
the 200k tier, where every field is tokens x its base rate. The float is ``Price.tiered_cost``'s
own (the same sum in the same order); past the tier it is ``Price.tiered_cost`` itself.
"""

from __future__ import annotations

from typing import NamedTuple

from burntray.model.pricing import TIER_THRESHOLD_TOKENS, Price


class Rates(NamedTuple):
    """A model's per-token rates as ``Price.tiered_cost`` takes them, worked out once per model:
    a scan prices the same few models a million times, nearly always below the 200k tier."""

    price: Price
    input: float
    output: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float
    fast_multiplier: float


def rates_of(price: Price | None) -> Rates | None:
    if price is None:
        return None
    return Rates(
        price,
        price.input,
        price.output,
        price.cache_write if price.cache_write is not None else price.input * 1.25,
        price.cache_write_1h if price.cache_write_1h is not None else price.input * 2,
        price.cache_read if price.cache_read is not None else price.input * 0.1,
        price.fast_multiplier,
    )


def priced(  # noqa: PLR0917 - a request's token fields, in their own order
    rates: Rates, inp: int, out: int, write_5m: int, write_1h: int, read: int, fast: bool
) -> float:
    """What a request of these tokens costs at ``rates``."""
    tier = TIER_THRESHOLD_TOKENS
    if inp > tier or out > tier or read > tier or write_5m > tier or write_1h > tier:  # not max()
        # a field past the tier: the table's own rule, field by field
        return rates.price.tiered_cost(inp, out, read, write_5m, write_1h, fast=fast)
    # below the tier every field is tokens x its base rate: the same sum, in the same order,
    # as ``Price.tiered_cost`` (so the same float), without its five calls
    total = (
        inp * rates.input
        + out * rates.output
        + write_5m * rates.cache_write_5m
        + write_1h * rates.cache_write_1h
        + read * rates.cache_read
    )
    return total * (rates.fast_multiplier if fast else 1.0) / 1_000_000
