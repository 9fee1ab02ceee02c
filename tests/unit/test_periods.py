"""Usage by day, by session, and Claude's 5-hour blocks (as ccusage's ``blocks`` counts them)."""

from __future__ import annotations

import datetime as dt

import pytest

from burntray.model.blocks import BLOCK_NS, current_block, usage_blocks
from burntray.model.periods import by_day, by_session
from burntray.model.timefmt import NS_PER_HOUR
from burntray.model.usage import UsageRecord

H = NS_PER_HOUR
BASE = int(dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC).timestamp()) * 10**9


def rec(ts_ns: int, cost: float | None = 1.0, session: str = "s", model: str = "m") -> UsageRecord:
    return UsageRecord(ts_ns, "anthropic", model, 10, 20, 30, 40, cost, f"k{ts_ns}", session, "p")


def test_by_day_in_a_zone_and_by_session() -> None:
    records = [rec(BASE), rec(BASE + 14 * H, None, "t"), rec(BASE + 16 * H, 2.0, "t", "n")]
    days = by_day(records, dt.UTC)
    assert [(d.key, d.reqs, d.cost_usd, d.unpriced_reqs) for d in days] == [
        ("2026-11-20", 2, 1.0, 1),
        ("2026-11-21", 1, 2.0, 0),
    ]
    assert days[0].tokens == 200
    tokyo = by_day(records, dt.timezone(dt.timedelta(hours=9)))
    assert [d.key for d in tokyo] == ["2026-11-20", "2026-11-21"] and tokyo[1].reqs == 2
    sessions = by_session(records)
    assert [(s.key, s.reqs, s.models) for s in sessions] == [("t", 2, ("m", "n")), ("s", 1, ("m",))]


def test_blocks_start_on_the_hour_and_end_after_5_hours_or_a_5_hour_gap() -> None:
    start = BASE + 20 * 60 * 10**9  # 09:20 -> the block starts at 09:00
    records = [rec(start), rec(start + 2 * H), rec(BASE + BLOCK_NS + 60 * 10**9)]
    blocks = usage_blocks(records, now_ns=BASE + 7 * H)
    assert [(b.start_ns, b.reqs) for b in blocks] == [(BASE, 2), (BASE + BLOCK_NS, 1)]
    assert blocks[0].burn_usd_per_hour == pytest.approx(1.0)  # $2 over 2 h of requests
    assert not blocks[0].active and blocks[1].active
    gap = usage_blocks([rec(BASE), rec(BASE + H), rec(BASE + H + BLOCK_NS + 1)], BASE + 20 * H)
    assert [b.start_ns for b in gap] == [BASE, BASE + 6 * H]  # a gap over 5 h ends a block


def test_current_block_projects_its_spend_to_the_end() -> None:
    records = [rec(BASE), rec(BASE + H, 3.0)]  # $4 over 1 h of requests
    now = BASE + 2 * H
    block = current_block(records, now)
    assert block is not None and block.active
    assert (block.cost_usd, block.burn_usd_per_hour) == (4.0, 4.0)
    assert block.projected_cost_usd == pytest.approx(4.0 + 4.0 * 3)  # 3 h left at $4/h
    assert current_block(records, BASE + BLOCK_NS) is None  # the block is over
    assert current_block([], now) is None
