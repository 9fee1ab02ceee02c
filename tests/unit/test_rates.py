"""``model.rates``: a request priced from a model's rates worked out once is
``Price.tiered_cost``'s very float, for every price shipped (the readers that price through it
must give the same costs as before, to the last bit)."""

from __future__ import annotations

import random

from burntray.model.pricing import TIER_THRESHOLD_TOKENS, build_price_table
from burntray.model.rates import priced, rates_of


def test_priced_is_tiered_costs_float_for_every_shipped_price() -> None:
    rng = random.Random(24)
    table = build_price_table()
    assert len(table.prices) > 100
    sizes = (0, 1, 3, 999, 40_000, TIER_THRESHOLD_TOKENS, TIER_THRESHOLD_TOKENS + 1, 1_500_000)
    for price in table.prices.values():
        rates = rates_of(price)
        assert rates is not None
        for _ in range(12):
            inp, out, read, w5, w1 = (rng.choice(sizes) + rng.randrange(50) for _ in range(5))
            fast = rng.random() < 0.2
            want = price.tiered_cost(inp, out, read, w5, w1, fast=fast)
            assert priced(rates, inp, out, w5, w1, read, fast) == want, (price, inp, out, read)
