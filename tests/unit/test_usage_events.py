"""The record history: idempotent ingest, replacement of changed records, exact windows."""

from __future__ import annotations

import random
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
