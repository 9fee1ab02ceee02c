"""Issue 22: windows and 5-hour blocks come from the rollups and the index over record times,
with exact edges, and give the same answer as summing every record.

- the same generated history answered both ways: every block (start, first and last request,
  requests, tokens, unpriced, cost) and windows of many lengths and edges;
- blocks split exactly at their edges, inside one minute, after gaps of exactly 5 h;
- the work an answer costs (SQLite's VM steps, counted by its progress handler: no clock) does
  not grow with the requests in the history, and a week reads quarter hours, not minutes;
- the quarter-hour rollup stays the sum of the minutes through ingest, replacement, prune and
  clear;
- a history written before the quarter-hour rollup upgrades with its quarters summed and kept.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from burntray.model.blocks import BLOCK_NS, current_block, usage_blocks
from burntray.model.pricing import build_price_table
from burntray.model.timefmt import NS_PER_HOUR, NS_PER_MINUTE
from burntray.model.usage import UsageRecord, summarise_records
from burntray.sources.agent_logs.source import BLOCK_LOOKBACK_NS, ClaudeSource, claude_source
from burntray.store.blocks import all_block_sums
from burntray.store.history import HistoryStore
from burntray.store.schema import USAGE_QUARTERS
from burntray.store.usage_events import UsageEvents
from tests.agent_logs_support import generate_heavy_week

S = 10**9
END = 1_796_617_650.0  # a fixed "now" for the generated week (2026-12-07 04:27:30 UTC)
SONNET = "claude-sonnet-4-5-20250929"


def _read_week(tmp_path: Path, requests: int, sessions: int = 3) -> tuple[ClaudeSource, int]:
    config = tmp_path / "claude"
    generate_heavy_week(
        config, requests=requests, total_bytes=requests * 500, sessions=sessions, end_ts=END
    )
    store = HistoryStore(tmp_path / "history.sqlite3")
    source = claude_source([config], build_price_table(), store, watch=False)
    source.poll()
    assert source.status.state == "ok", source.status
    return source, int(END * S)


def _same_block(new: object, old: object) -> None:
    assert (new is None) == (old is None)
    if new is None or old is None:
        return
    for field in ("start_ns", "end_ns", "first_ns", "last_ns", "reqs", "tokens", "unpriced_reqs",
                  "active"):  # fmt: skip
        assert getattr(new, field) == getattr(old, field), field
    for field in ("cost_usd", "burn_usd_per_hour", "projected_cost_usd"):
        assert getattr(new, field) == pytest.approx(getattr(old, field), rel=1e-12), field


def test_every_block_and_window_equals_the_sum_of_the_records(tmp_path: Path) -> None:
    source, now = _read_week(tmp_path, 6000)
    events = source._events
    assert events is not None
    records = events.records("claude", 0, now + 1)
    assert len(records) == 6000
    # every block of the week: the chain of seeks, summed from the rollups
    old = usage_blocks(records, now)
    new = all_block_sums(events, "claude", 0, now + 1)
    assert len(new) == len(old) > 7  # several blocks a day, a night between days
    for sums, block in zip(new, old, strict=True):
        assert (sums.start_ns, sums.first_ns, sums.last_ns) == (
            block.start_ns,
            block.first_ns,
            block.last_ns,
        )
        assert (sums.reqs, sums.tokens, sums.unpriced_reqs) == (
            block.reqs,
            block.tokens,
            block.unpriced_reqs,
        )
        assert sums.cost_usd == pytest.approx(block.cost_usd, rel=1e-12)
    # the current block at many instants: active, just over, in the night, mid-day
    for at in (now, now + 3 * NS_PER_HOUR, now + 6 * NS_PER_HOUR, now - 9 * NS_PER_HOUR,
               now - 20 * NS_PER_HOUR, now - 3 * 86400 * S + 12_345_678_901):  # fmt: skip
        lookback = events.records("claude", at - BLOCK_LOOKBACK_NS, at + 1)
        _same_block(source.current_block(at), current_block(lookback, at))
    assert source.current_block(now) is not None
    # windows with edges anywhere: whole hours, whole minutes and parts of minutes
    rng = random.Random(3)
    spans = [7 * 86400 * S, 86400 * S, 5 * 3600 * S, 3600 * S, 90 * S, 7 * S]
    for span in spans:
        for _ in range(4):
            end = now - rng.randrange(0, 2 * 86400 * S)
            totals, rows = events.summarise("claude", end - span, end + 1, span)
            want, want_rows = summarise_records(
                (r for r in records if end - span <= r.ts_ns <= end), span
            )
            assert (totals.reqs, totals.tokens, totals.unpriced_reqs) == (
                want.reqs,
                want.tokens,
                want.unpriced_reqs,
            )
            assert totals.cost_usd == pytest.approx(want.cost_usd, rel=1e-12, abs=1e-12)
            mine = {(r.model, r.reqs, r.tokens) for r in rows}
            assert mine == {(r.model, r.reqs, r.tokens) for r in want_rows}


def _rec(ts: int, key: str, out: int = 10, cost: float | None = 0.01) -> UsageRecord:
    return UsageRecord(ts, "anthropic", SONNET, 1, out, 0, 0, cost, key)


def test_blocks_split_exactly_at_their_edges(tmp_path: Path) -> None:
    """A request exactly 5 h after its block's hour stays in it, one a nanosecond later starts
    the next (in the same minute); a gap of exactly 5 h does not end a block, 5 h + 1 ns does."""
    h9 = 1_796_547_600 * S  # 2026-12-06 09:00 UTC
    recs = [
        _rec(h9 + 17 * 60 * S, "a"),  # block 09:00-14:00
        _rec(h9 + BLOCK_NS, "b"),  # exactly 14:00: still the 09:00 block
        _rec(h9 + BLOCK_NS + 1, "c", cost=None),  # 1 ns later, same minute: the 14:00 block
        _rec(h9 + BLOCK_NS + 30 * S, "d"),
        _rec(h9 + BLOCK_NS + 30 * S + BLOCK_NS + 1, "e"),  # a gap of 5 h + 1 ns: 19:00 block
        _rec(h9 + 2 * BLOCK_NS + 30 * S + 1 + BLOCK_NS, "f"),  # exactly 5 h later: 00:00 block
    ]
    store = HistoryStore(tmp_path / "history.sqlite3")
    events = UsageEvents(store)
    events.ingest("claude", recs)
    now = recs[-1].ts_ns + 60 * S
    new = all_block_sums(events, "claude", 0, now + 1)
    old = usage_blocks(recs, now)
    assert [(b.first_ns, b.reqs, b.unpriced_reqs) for b in new] == [
        (b.first_ns, b.reqs, b.unpriced_reqs) for b in old
    ]
    assert [b.reqs for b in new] == [2, 2, 1, 1]
    assert [b.start_ns for b in new] == [h9, h9 + BLOCK_NS, h9 + 2 * BLOCK_NS, h9 + 3 * BLOCK_NS]


class _Steps:
    """SQLite VM steps taken while inside (its progress handler, every 100 instructions)."""

    def __init__(self, store: HistoryStore) -> None:
        self.store = store
        self.count = 0

    def measure(self, work: object) -> int:
        self.count = 0
        with self.store.transaction() as conn:
            conn.set_progress_handler(self._step, 100)
            try:
                work()  # type: ignore[operator]
            finally:
                conn.set_progress_handler(None, 0)
        return self.count

    def _step(self) -> int:
        self.count += 1
        return 0


def _uniform(tmp_path: Path, name: str, per_minute: int, minutes: int, now: int) -> HistoryStore:
    """``per_minute`` requests in each of the last ``minutes`` minutes (one model)."""
    store = HistoryStore(tmp_path / f"{name}.sqlite3")
    first = now // NS_PER_MINUTE - minutes
    recs = [
        _rec((first + m) * NS_PER_MINUTE + i * (NS_PER_MINUTE // per_minute), f"{m}-{i}")
        for m in range(minutes)
        for i in range(per_minute)
    ]
    UsageEvents(store).ingest("claude", recs)
    return store


def test_an_answer_costs_the_same_whatever_the_requests_in_the_history(tmp_path: Path) -> None:
    now = int(END * S)
    minutes = 2 * 24 * 60
    light = _uniform(tmp_path, "light", 1, minutes, now)
    heavy = _uniform(tmp_path, "heavy", 20, minutes, now)
    cost = {}
    for name, store in (("light", light), ("heavy", heavy)):
        source = ClaudeSource(_NoReader(), [], store, lambda: now, watch=False)
        events = UsageEvents(store)
        steps = _Steps(store)
        cost[name] = (
            steps.measure(lambda s=source: s.current_block(now)),
            steps.measure(lambda e=events: e.summarise("claude", now - 86400 * S, now + 1, 1)),
        )
        assert source.current_block(now) is not None
    # 20 times the requests: the block and the window cost the same (the old block read all)
    assert cost["heavy"][0] <= 1.5 * cost["light"][0] + 20, cost
    assert cost["heavy"][1] <= 1.5 * cost["light"][1] + 20, cost
    # a week reads 672 quarter hours and the minutes at its edges, not 10,080 minutes
    week = _uniform(tmp_path, "week", 1, 7 * 24 * 60, now)
    events, steps = UsageEvents(week), _Steps(week)
    day = steps.measure(lambda: events.summarise("claude", now - 86400 * S, now + 1, 1))
    seven = steps.measure(lambda: events.summarise("claude", now - 7 * 86400 * S, now + 1, 1))
    week_of_minutes = steps.measure(
        lambda: week.execute(
            "SELECT provider, model, sum(reqs), total(cost) FROM usage_minutes "
            "WHERE source = 'claude' AND minute >= ? GROUP BY provider, model",
            (now // NS_PER_MINUTE - 7 * 24 * 60,),
        )
    )
    assert seven <= 8 * day, (day, seven)  # 7 days of quarters and two edges, no more
    assert 4 * seven < week_of_minutes, (seven, week_of_minutes)


class _NoReader:
    """A Claude source with nothing to read: only its history is asked."""

    def __init__(self) -> None:
        self.dedup = None


def _quarters_of_minutes(store: HistoryStore) -> list[tuple[object, ...]]:
    return store.execute(
        "SELECT source, minute / 15, provider, model, sum(reqs), sum(input), sum(output), "
        "sum(cache_read), sum(cache_write), round(total(cost), 9), sum(unpriced) "
        "FROM usage_minutes GROUP BY 1, 2, 3, 4 HAVING sum(reqs) != 0 ORDER BY 1, 2, 3, 4"
    )


def _quarters(store: HistoryStore) -> list[tuple[object, ...]]:
    return store.execute(
        "SELECT source, quarter, provider, model, reqs, input, output, cache_read, "
        "cache_write, round(cost, 9), unpriced FROM usage_quarters ORDER BY 1, 2, 3, 4"
    )


def test_the_quarter_rollup_follows_ingest_replacement_prune_and_clear(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "history.sqlite3")
    events = UsageEvents(store)
    base = 1_796_547_600 * S
    rng = random.Random(5)
    keys = [f"k{i}" for i in range(300)]
    for _ in range(6):  # new records, records seen again, changed ones, repeats in a batch
        batch = [
            _rec(base + rng.randrange(0, 5 * NS_PER_HOUR), rng.choice(keys), rng.randrange(1, 99),
                 rng.choice([None, 0.02, 0.5]))
            for _ in range(200)
        ]  # fmt: skip
        events.ingest("claude", batch)
        events.ingest("codex", batch[:50])
        assert _quarters(store) == _quarters_of_minutes(store)
    assert len(_quarters(store)) >= 10
    store.prune(base + 2 * NS_PER_HOUR + 17 * NS_PER_MINUTE)  # mid-hour: the quarter is reduced
    assert _quarters(store) == _quarters_of_minutes(store)
    events.clear("codex")
    assert _quarters(store) == _quarters_of_minutes(store)
    assert {row[0] for row in _quarters(store)} == {"claude"}
    store.clear_usage()
    assert _quarters(store) == []


def test_a_history_without_the_quarter_rollup_upgrades_and_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    base = 1_796_547_600 * S
    recs = [_rec(base + i * 97 * S, f"r{i}") for i in range(500)]
    HistoryStore(path).close()
    # the history as the previous burntray left it: no quarter-hour table nor its triggers (every
    # other table at its version), and records with their minutes written
    conn = sqlite3.connect(path)
    conn.executescript(
        "DROP TRIGGER IF EXISTS usage_quarters_add; DROP TRIGGER IF EXISTS usage_quarters_change; "
        "DROP TRIGGER IF EXISTS usage_quarters_drop; DROP TABLE usage_quarters; "
        "DELETE FROM schema_versions WHERE name = 'usage_quarters';"
    )
    conn.close()
    _write_without_quarters(path, recs[:400])
    store = HistoryStore(path)  # the ladder adds the quarters, summed from the minutes
    version = "SELECT version FROM schema_versions WHERE name = 'usage_quarters'"
    assert store.execute(version) == [(USAGE_QUARTERS.version,)]
    assert _quarters(store) == _quarters_of_minutes(store)
    assert len(_quarters(store)) == 44
    events = UsageEvents(store)
    assert events.summarise("claude", base, base + 86400 * S, 86400 * S)[0].reqs == 400
    events.ingest("claude", recs[400:])  # and keeps them from then on
    assert _quarters(store) == _quarters_of_minutes(store)
    totals, _rows = events.summarise("claude", base, base + 86400 * S, 86400 * S)
    assert totals.reqs == 500
    assert totals.cost_usd == pytest.approx(5.0)
    store.close()


def _write_without_quarters(path: Path, recs: list[UsageRecord]) -> None:
    """Records and their minutes written with no quarter-hour table (SQLite only: what an older
    burntray's ingest left)."""
    conn = sqlite3.connect(path)
    for r in recs:
        conn.execute(
            "INSERT INTO usage_events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            ("claude", r.key, r.ts_ns, r.provider, r.model, r.input_tokens, r.output_tokens,
             r.cache_read_tokens, r.cache_write_tokens, r.cost_usd, "", "", 0, "", "", ""),
        )  # fmt: skip
        conn.execute(
            "INSERT INTO usage_minutes VALUES ('claude', ?, ?, ?, 1, ?, ?, 0, 0, ?, 0) "
            "ON CONFLICT DO UPDATE SET reqs = reqs + 1, input = input + excluded.input, "
            "output = output + excluded.output, cost = cost + excluded.cost",
            (r.ts_ns // NS_PER_MINUTE, r.provider, r.model, r.input_tokens, r.output_tokens,
             r.cost_usd),
        )  # fmt: skip
    conn.commit()
    conn.close()


def test_the_block_chain_of_a_source_in_use_around_the_clock_goes_back_to_its_start(
    tmp_path: Path,
) -> None:
    """Three days without a 5-hour gap: the current block is the one the whole chain gives
    (ccusage follows it from the first request), not one restarted two days back."""
    first = 1_796_290_620 * S  # 2026-12-03 09:17 UTC
    recs = [_rec(first + i * 7 * 60 * S + (i % 5) * S, f"c{i}") for i in range(3 * 24 * 60 // 7)]
    now = recs[-1].ts_ns + 60 * S
    store = HistoryStore(tmp_path / "history.sqlite3")
    UsageEvents(store).ingest("claude", recs)
    source = ClaudeSource(_NoReader(), [], store, lambda: now, watch=False)
    whole_chain = usage_blocks(recs, now)[-1]
    _same_block(source.current_block(now), whole_chain)
    restarted = current_block([r for r in recs if r.ts_ns >= now - BLOCK_LOOKBACK_NS], now)
    assert restarted is not None
    assert restarted.start_ns != whole_chain.start_ns  # what a 48-hour lookback got wrong
    # a night (five idle hours) ends the chain: only what follows it is walked
    later = [_rec(now + 6 * NS_PER_HOUR + i * 60 * S, f"n{i}") for i in range(30)]
    UsageEvents(store).ingest("claude", later)
    at = later[-1].ts_ns + S
    _same_block(source.current_block(at), usage_blocks(recs + later, at)[-1])


def test_the_block_is_worked_out_once_per_snapshot(tmp_path: Path) -> None:
    """The facts of a snapshot and the JSON's block at its instant (and later figures of the
    same minute, as the alerts take) share one working-out: no query the second time."""
    now = int(END * S)
    store = _uniform(tmp_path, "once", 2, 600, now)
    logs = [tmp_path / "no-logs"]
    source = claude_source(logs, build_price_table(), store, lambda: now + 5 * S, watch=False)
    steps = _Steps(store)
    snapshot = steps.measure(lambda: source.snapshot(3600 * S, now))
    assert steps.count > 0
    assert any(f.label == "5-hour block" for f in source.facts())
    block = steps.measure(lambda: source.current_block(now))  # status JSON: the same instant
    later = steps.measure(lambda: source.current_block(now + 2 * S))  # an alert's snapshot
    assert (block, later) == (0, 0), snapshot
    at_snapshot, at_alert = source.current_block(now), source.current_block(now + 2 * S)
    assert at_snapshot is not None and at_alert is not None
    assert (at_snapshot.start_ns, at_snapshot.reqs) == (at_alert.start_ns, at_alert.reqs)
