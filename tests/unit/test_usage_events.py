"""The record history: idempotent ingest, replacement of changed records, exact windows."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from burntray.model.usage import UsageRecord, group_records, summarise_records
from burntray.store.history import HistoryStore
from burntray.store.usage_events import UsageEvents

MIN = 60_000_000_000


def _rec(
    ts: int, key: str, model: str = "m", inp: int = 10, cost: float | None = 0.5
) -> UsageRecord:
    return UsageRecord(ts, "anthropic", model, inp, 5, 3, 2, cost, key, session="s1")


def test_ingest_is_idempotent_and_replaces_changed_records(tmp_path: Path) -> None:
    store = UsageEvents(HistoryStore(tmp_path / "h.sqlite3"))
    assert store.ingest("claude", [_rec(MIN, "a"), _rec(2 * MIN, "b")]) == 2
    assert store.ingest("claude", [_rec(MIN, "a"), _rec(2 * MIN, "b")]) == 0
    # a streamed message written again with more tokens replaces the first write
    assert store.ingest("claude", [_rec(MIN, "a", inp=100)]) == 1
    totals, rows = store.summarise("claude", 0, 10 * MIN, 10 * MIN)
    assert totals.reqs == 2
    assert totals.input_tokens == 110
    assert totals.tokens == 110 + 2 * (5 + 3 + 2)
    assert rows[0].cache_write_tokens == 4
    # other sources are separate; clear is per source
    store.ingest("codex", [_rec(MIN, "a")])
    assert store.count("codex") == 1
    assert store.clear("claude") == 2
    assert store.summarise("claude", 0, 10 * MIN, 10 * MIN)[0].reqs == 0
    assert store.count("codex") == 1


def test_unpriced_requests_are_counted_not_free(tmp_path: Path) -> None:
    store = UsageEvents(HistoryStore(tmp_path / "h.sqlite3"))
    store.ingest("x", [_rec(MIN, "a", model="new", cost=None), _rec(MIN, "b", cost=1.25)])
    totals, rows = store.summarise("x", 0, 2 * MIN, 2 * MIN)
    assert totals.unpriced_reqs == 1
    assert totals.cost_usd == 1.25
    unpriced = next(r for r in rows if r.model == "new")
    assert unpriced.cost_usd is None and unpriced.unpriced_reqs == 1


def test_windows_equal_a_plain_sum_at_every_edge(tmp_path: Path) -> None:
    """Random records, random replacements, random windows: the rollup path must equal a sum
    over the records themselves, to the token and the request."""
    rng = random.Random(7)
    store = UsageEvents(HistoryStore(tmp_path / "h.sqlite3"))
    truth: dict[str, UsageRecord] = {}
    for step in range(60):
        batch = []
        for _ in range(rng.randint(1, 30)):
            key = f"k{rng.randint(0, 400)}"
            rec = _rec(
                rng.randint(0, 120 * MIN),
                key,
                model=rng.choice(["a", "b", "c"]),
                inp=rng.randint(0, 1000),
                cost=rng.choice([None, rng.random()]),
            )
            batch.append(rec)
            truth[key] = rec
        store.ingest("s", batch)
        if step % 5 == 0:
            for _ in range(20):
                start = rng.randint(0, 120 * MIN)
                # whole hours, parts of one minute, and spans across one minute boundary: every
                # path (rollup, raw records, a minute's rollup less its other records)
                end = start + rng.choice([rng.randint(0, 60 * MIN), rng.randint(0, 90 * 10**9)])
                got, _ = store.summarise("s", start, end, end - start or 1)
                want, _ = summarise_records(
                    (r for r in truth.values() if start <= r.ts_ns < end), end - start or 1
                )
                assert (got.reqs, got.input_tokens, got.tokens, got.unpriced_reqs) == (
                    want.reqs,
                    want.input_tokens,
                    want.tokens,
                    want.unpriced_reqs,
                )
                assert abs(got.cost_usd - want.cost_usd) < 1e-9
    stored = store.records("s", 0, 10**15)
    assert sorted(stored) == sorted(truth.values())
    assert sorted(g[:7] for g in group_records(stored)) == sorted(
        g[:7] for g in group_records(truth.values())
    )


def test_windows_over_bursts_equal_a_plain_sum(tmp_path: Path) -> None:
    """Records in bursts (a busy sender's current minute: everything in its first seconds,
    nothing after now): whichever side of a minute is read, the figure is the plain sum. Edges
    fall on, just before and just after record times, where the first/last-record judgement
    of each minute's side changes."""
    rng = random.Random(11)
    store = UsageEvents(HistoryStore(tmp_path / "h.sqlite3"))
    truth: dict[str, UsageRecord] = {}
    for burst in range(12):
        base = rng.randint(0, 10) * MIN + rng.randint(0, 59) * 10**9
        batch = [
            _rec(
                base + rng.randint(0, 3 * 10**9),
                f"b{burst}-{i}",
                model=rng.choice(["a", "b"]),
                inp=rng.randint(0, 500),
                cost=rng.choice([None, rng.random()]),
            )
            for i in range(rng.randint(1, 60))
        ]
        store.ingest("s", batch)
        truth.update((r.key, r) for r in batch)
        times = sorted(r.ts_ns for r in truth.values())
        for _ in range(40):
            t = rng.choice(times) + rng.choice([-1, 0, 1])
            start = rng.choice(
                [t - rng.randint(0, 12 * MIN), rng.choice(times) + rng.choice([0, 1])]
            )
            end = max(start, t)
            got, _ = store.summarise("s", start, end, end - start or 1)
            want, _ = summarise_records(
                (r for r in truth.values() if start <= r.ts_ns < end), end - start or 1
            )
            assert (got.reqs, got.input_tokens, got.tokens, got.unpriced_reqs) == (
                want.reqs,
                want.input_tokens,
                want.tokens,
                want.unpriced_reqs,
            ), (start, end)
            assert abs(got.cost_usd - want.cost_usd) < 1e-9
    assert store.has_records("s")
    assert not store.has_records("other")
    store.clear("s")
    assert not store.has_records("s")


def test_resume_state_is_written_with_the_records(tmp_path: Path) -> None:
    history = HistoryStore(tmp_path / "h.sqlite3")
    store = UsageEvents(history)
    assert store.ingest("s", [_rec(MIN, "a")], ("source_state:s", "offset 1")) == 1
    assert history.get_meta("source_state:s") == "offset 1"
    # a batch whose write fails (a count SQLite cannot hold) leaves the old state and records
    bad = UsageRecord(MIN, "anthropic", "m", 2**70, 1, 1, 1, 0.5, "b")
    for batch in ([_rec(MIN, "c"), bad], [_rec(MIN, "c"), bad, bad]):  # new keys; the general case
        with pytest.raises(OverflowError):
            store.ingest("s", batch, ("source_state:s", "offset 3"))
    assert history.get_meta("source_state:s") == "offset 1"
    assert store.count("s") == 1


def test_a_batch_of_new_records_needs_no_statement_journal(tmp_path: Path) -> None:
    """A first scan writes 240,000 new records: a savepoint or an insert that may abort half
    done makes SQLite copy every page it touches to a temp file first (2.4 million writes,
    half the scan's write time). The new-records path uses neither; a batch holding a stored
    key is undone whole and written by the general path, its state with it."""
    history = HistoryStore(tmp_path / "h.sqlite3")
    store = UsageEvents(history)
    statements: list[str] = []
    history._conn.set_trace_callback(statements.append)
    batch = [_rec(MIN + n, f"k{n}") for n in range(50)]
    assert store.ingest("s", batch, ("source_state:s", "offset 50")) == 50
    history._conn.set_trace_callback(None)
    assert not [s for s in statements if "SAVEPOINT" in s.upper()]
    inserts = [s for s in statements if s.startswith("INSERT") and "usage_events" in s]
    assert inserts and all(s.startswith("INSERT OR IGNORE") for s in inserts)
    # new keys and one stored with other values: the general path, exactly once each
    mixed = [_rec(2 * MIN, "new1"), _rec(MIN + 3, "k3", inp=1000), _rec(3 * MIN, "new2")]
    assert store.ingest("s", mixed, ("source_state:s", "offset 53")) == 3
    assert history.get_meta("source_state:s") == "offset 53"
    totals, _ = store.summarise("s", 0, 10 * MIN, 10 * MIN)
    assert totals.reqs == 52
    assert totals.input_tokens == 49 * 10 + 1000 + 2 * 10
    minutes = history.execute("SELECT sum(reqs), sum(input) FROM usage_minutes")
    assert minutes == [(52, 49 * 10 + 1000 + 2 * 10)]


def _rollups_equal_the_records(history: HistoryStore) -> None:
    """Both rollups hold exactly the records' sums per minute and per quarter hour: a GROUP BY
    over the records themselves (no group left with no request)."""
    for table, per in (("usage_minutes", MIN), ("usage_quarters", 15 * MIN)):
        kept = history.execute(
            "SELECT source, " + table[6:-1] + ", provider, model, reqs, input, output, "
            f"cache_read, cache_write, round(cost, 9), unpriced FROM {table} ORDER BY 1, 2, 3, 4"
        )
        summed = history.execute(
            f"SELECT source, ts_ns / {per}, provider, model, count(*), sum(input), sum(output), "
            "sum(cache_read), sum(cache_write), round(total(cost), 9), sum(cost IS NULL) "
            "FROM usage_events GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
        )
        assert kept == summed, table


def test_rollups_equal_the_records_after_interleaved_new_repeated_and_changed_batches(
    tmp_path: Path,
) -> None:
    """Batches of only new records (the fast path), of records seen before unchanged, of
    changed ones (moved to another minute, another model, priced or not), of keys repeated
    within the batch, and mixes of all: after each, on two sources, both rollups equal a
    GROUP BY over the records, and so after a prune mid-quarter and a clear."""
    rng = random.Random(24)
    history = HistoryStore(tmp_path / "h.sqlite3")
    store = UsageEvents(history)
    seen: dict[str, list[UsageRecord]] = {"a": [], "b": []}
    fresh = 0

    def new(n: int) -> list[UsageRecord]:
        nonlocal fresh
        fresh += n
        return [
            _rec(rng.randint(0, 600 * MIN), f"n{fresh - i}", model=rng.choice("xyz"),
                 inp=rng.randint(0, 900), cost=rng.choice([None, rng.random()]))
            for i in range(n)
        ]  # fmt: skip

    for step in range(40):
        source = rng.choice("ab")
        kind = step % 4
        if kind == 0 or not seen[source]:  # only new keys
            batch = new(rng.randint(1, 300))
        elif kind == 1:  # seen before, unchanged
            batch = rng.sample(seen[source], min(len(seen[source]), 50))
        elif kind == 2:  # changed: moved, another model, another cost
            batch = [
                r._replace(ts_ns=r.ts_ns + rng.randint(-90, 90) * 10**9, model=rng.choice("xyz"),
                           cost_usd=rng.choice([None, 0.25]))
                for r in rng.sample(seen[source], min(len(seen[source]), 40))
            ]  # fmt: skip
        else:  # new and changed, and a key twice (the last wins)
            batch = new(20) + [r._replace(output_tokens=77) for r in seen[source][:10]]
            batch += [batch[0]._replace(input_tokens=5)]
        store.ingest(source, batch)
        latest = {r.key: r for r in [*seen[source], *batch]}
        seen[source] = list(latest.values())
        _rollups_equal_the_records(history)
    assert store.count("a") + store.count("b") == len(seen["a"]) + len(seen["b"])
    assert store.prune(200 * MIN + 7 * MIN) > 0  # mid-quarter: that quarter is summed again
    _rollups_equal_the_records(history)
    store.clear("a")
    _rollups_equal_the_records(history)
    assert history.execute("SELECT DISTINCT source FROM usage_quarters") == [("b",)]


def test_new_records_are_written_in_a_few_statements_with_no_trigger_run(tmp_path: Path) -> None:
    """A first scan's batch: the records, the minutes and the quarter hours each in multi-row
    statements, and the team's queue looked up once - no statement run per record or per
    minute (a trigger body's run is traced with its name: the quarter-hour triggers ran theirs
    once per minute row and the team's once per record, a third of a first scan's write)."""
    history = HistoryStore(tmp_path / "h.sqlite3")
    store = UsageEvents(history)
    statements: list[str] = []
    history._conn.set_trace_callback(statements.append)
    batch = [_rec(n * 7 * 10**9, f"k{n}", model="xy"[n % 2], cost=None if n % 9 else 0.5)
             for n in range(3000)]  # fmt: skip  # 350 minutes, 24 quarter hours, two models
    assert store.ingest("s", batch, ("source_state:s", "3000")) == 3000
    history._conn.set_trace_callback(None)
    assert not [s for s in statements if "TRIGGER" in s.upper()]
    # a statement is traced again each time a trigger of its table is looked at: count each once
    writes = list(dict.fromkeys(s for s in statements if s.startswith("INSERT")))
    assert not [s for s in statements if "history_writer" in s]  # no trigger to hold off
    # 3,000 records: 11 chunks of 256, then 128 + 32 + 16 + 8; 700 minute groups: 2 chunks,
    # then 128 + 32 + 16 + 8 + 4; 48 quarter hours: 32 + 16; the resume state
    assert len(writes) == 15 + 7 + 2 + 1
    assert len([s for s in statements if "team_cursor" in s]) == 1
    _rollups_equal_the_records(history)
    totals, _ = store.summarise("s", 0, 400 * MIN, 400 * MIN)
    assert (totals.reqs, totals.unpriced_reqs) == (3000, 3000 - 334)


def test_no_value_of_a_record_write_goes_through_sqlite3s_adapters(tmp_path: Path) -> None:
    """sqlite3 binds an exact int, float or str as it is, but looks anything else up in its
    adapters (a bool: a failed lookup per value, a tenth of a first scan's write). A record's
    upstream flag and a minute's unpriced count reach it as ints: an adapter registered for
    bool is never called, for new records nor for changed ones."""
    calls: list[bool] = []
    sqlite3.register_adapter(bool, lambda value: calls.append(value) or int(value))
    try:
        store = UsageEvents(HistoryStore(tmp_path / "h.sqlite3"))
        batch = [_rec(n * MIN, f"k{n}", cost=None if n % 2 else 0.5)._replace(
                     cost_from_upstream=n % 3 == 0) for n in range(40)]  # fmt: skip
        assert store.ingest("s", batch) == 40
        assert store.ingest("s", [r._replace(output_tokens=9) for r in batch[:5]]) == 5
    finally:
        del sqlite3.adapters[(bool, sqlite3.PrepareProtocol)]
    assert calls == []
    stored = store.records("s", 0, 100 * MIN)
    assert [r.cost_from_upstream for r in stored] == [n % 3 == 0 for n in range(40)]
    totals, _ = store.summarise("s", 0, 100 * MIN, 100 * MIN)
    assert (totals.reqs, totals.unpriced_reqs) == (40, 20)


def test_new_unpriced_records_are_stored_null_without_sqlite3s_adapters(tmp_path: Path) -> None:
    """sqlite3 looks a None up in its adapters before binding it (~3,300 instructions a value);
    new records' costs are bound as floats, an unpriced one as NaN, which SQLite stores as
    NULL: the same stored value, unpriced in both rollups, and no adapter asked."""
    calls: list[None] = []
    sqlite3.register_adapter(type(None), calls.append)
    try:
        history = HistoryStore(tmp_path / "h.sqlite3")
        store = UsageEvents(history)
        batch = [_rec(n * MIN, f"k{n}", cost=None if n % 2 else 0.5) for n in range(40)]
        assert store.ingest("s", batch) == 40
    finally:
        del sqlite3.adapters[(type(None), sqlite3.PrepareProtocol)]
    assert calls == []
    stored = history.execute("SELECT key, cost, typeof(cost) FROM usage_events ORDER BY rowid")
    assert stored == [(f"k{n}", None, "null") if n % 2 else (f"k{n}", 0.5, "real")
                      for n in range(40)]  # fmt: skip
    assert [r.cost_usd for r in store.records("s", 0, 100 * MIN)] == [r.cost_usd for r in batch]
    _rollups_equal_the_records(history)
    totals, _ = store.summarise("s", 0, 100 * MIN, 100 * MIN)
    assert (totals.reqs, totals.unpriced_reqs, totals.cost_usd) == (40, 20, 10.0)
