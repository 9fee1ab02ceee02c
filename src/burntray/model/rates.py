"""A model's per-token rates, worked out once per model from its ``Price``, and a request priced
from them: a scan prices the same few models hundreds of thousands of times, nearly always below
the 200k tier, where every field is tokens x its base rate. The float is ``Price.tiered_cost``'s
own (the same sum in the same order), past the tier too.
"""

from __future__ import annotations

from typing import NamedTuple

from burntray.model.pricing import TIER_THRESHOLD_TOKENS, Price


class Rates(NamedTuple):
    """A model's per-token rates as ``Price.tiered_cost`` takes them, worked out once per model:
    a scan prices the same few models a million times, nearly always below the 200k tier. Each
    ``*_above`` is the field's rate past the tier (None: the base rate throughout)."""

    price: Price
    input: float
    output: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float
    fast_multiplier: float
    input_above: float | None
    output_above: float | None
    cache_write_5m_above: float | None
    cache_write_1h_above: float | None
    cache_read_above: float | None


def rates_of(price: Price | None) -> Rates | None:
    if price is None:
        return None
    above = price.input_above_200k
    return Rates(
        price,
        price.input,
        price.output,
        price.cache_write if price.cache_write is not None else price.input * 1.25,
        price.cache_write_1h if price.cache_write_1h is not None else price.input * 2,
        price.cache_read if price.cache_read is not None else price.input * 0.1,
        price.fast_multiplier,
        above,
        price.output_above_200k,
        price.cache_write_above_200k,
        None if above is None else above * 2,  # a 1-hour write: 2x the tiered input rate
        price.cache_read_above_200k,
    )


def priced(  # noqa: PLR0917 - a request's token fields, in their own order
    rates: Rates, inp: int, out: int, write_5m: int, write_1h: int, read: int, fast: bool
) -> float:
    """What a request of these tokens costs at ``rates``: ``Price.tiered_cost``'s sum, term for
    term and in its order (so the very same float), without its calls. A field past the tier
    costs the tier at its base rate and the rest at its rate above, where it has one (agents
    that record a session's running totals, Goose's and Hermes's, are past it often)."""
    t = TIER_THRESHOLD_TOKENS
    if inp > t or out > t or read > t or write_5m > t or write_1h > t:
        r = rates
        a = r.input_above
        i = inp * r.input if a is None or inp <= t else t * r.input + (inp - t) * a
        a = r.output_above
        o = out * r.output if a is None or out <= t else t * r.output + (out - t) * a
        a = r.cache_write_5m_above
        w5 = (
            write_5m * r.cache_write_5m
            if a is None or write_5m <= t
            else t * r.cache_write_5m + (write_5m - t) * a
        )
        a = r.cache_write_1h_above
        w1 = (
            write_1h * r.cache_write_1h
            if a is None or write_1h <= t
            else t * r.cache_write_1h + (write_1h - t) * a
        )
        a = r.cache_read_above
        c = read * r.cache_read if a is None or read <= t else t * r.cache_read + (read - t) * a
        total = i + o + w5 + w1 + c
    else:  # every field at its base rate
        total = (
            inp * rates.input
            + out * rates.output
            + write_5m * rates.cache_write_5m
            + write_1h * rates.cache_write_1h
            + read * rates.cache_read
        )
    return total * (rates.fast_multiplier if fast else 1.0) / 1_000_000
