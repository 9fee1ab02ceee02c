"""History store: idempotent ingest, exact window queries (rollups + edges), prune, clear."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from burntray.model.timefmt import NS_PER_MINUTE
from burntray.sources.hexai import history as hexai_history
from burntray.sources.hexai.history import HexaiEvent, HistoryWindow
from burntray.store.history import PAGE_SIZE, SPILL_BYTES, HistoryStore

S = 10**9
T0 = 1_790_000_000 * S


def totals(
    counters: list[tuple[str, str, int, int, int]],
) -> dict[tuple[str, str], tuple[int, int, int]]:
    out: dict[tuple[str, str], list[int]] = {}
    for provider, model, reqs, sent, recv in counters:
        acc = out.setdefault((provider, model), [0, 0, 0])
        acc[0] += reqs
        acc[1] += sent
        acc[2] += recv
    return {k: (v[0], v[1], v[2]) for k, v in out.items() if v[0]}


def brute(
    events: list[HexaiEvent], start: int, end: int
) -> dict[tuple[str, str], tuple[int, int, int]]:
    return totals(
        [(e.provider, e.model, 1, e.sent, e.recv) for e in events if start <= e.ts_ns < end]
    )


def make_events(seed: int, n: int, span_ns: int) -> list[HexaiEvent]:
    rng = random.Random(seed)
    models = [("openai", "gpt-4.1"), ("anthropic", "claude-sonnet-4-5"), ("ollama", "qwen")]
    return [
        HexaiEvent(
            T0 + rng.randrange(span_ns),
            *rng.choice(models),
            rng.randrange(5000),
            rng.randrange(800),
        )
        for _ in range(n)
    ]


def test_ingest_is_idempotent(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    events = make_events(1, 500, 3 * 3600 * S)
    assert hexai_history.ingest(store, events) == 500
    assert hexai_history.ingest(store, events) == 0
    assert hexai_history.ingest(store, list(reversed(events[:100]))) == 0
    assert hexai_history.count_events(store) == 500
    whole = hexai_history.counters(store, T0, T0 + 4 * 3600 * S)
    assert totals(whole) == brute(events, T0, T0 + 4 * 3600 * S)
    store.close()


def test_identical_events_count_once_each(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    twins = [HexaiEvent(T0, "openai", "gpt-4.1", 5, 5, dup) for dup in (0, 1)]
    assert hexai_history.ingest(store, twins) == 2
    assert hexai_history.ingest(store, twins) == 0
    store.close()


@settings(max_examples=60, deadline=None)
@given(
    start=st.integers(0, 4 * 3600), length=st.integers(0, 4 * 3600), start_ns=st.integers(0, S - 1)
)
def test_rollup_queries_equal_brute_force(
    tmp_path_factory, start: int, length: int, start_ns: int
) -> None:
    store = _shared_store(tmp_path_factory)
    lo = T0 + start * S + start_ns
    hi = lo + length * S
    assert totals(hexai_history.counters(store, lo, hi)) == brute(_EVENTS, lo, hi)
    window = HistoryWindow(store, "hexai")
    assert totals(window.counters(lo, hi)) == brute(_EVENTS, lo, hi)


_EVENTS = make_events(7, 3000, 4 * 3600 * S)
_STORE: dict[str, HistoryStore] = {}


def _shared_store(factory) -> HistoryStore:  # type: ignore[no-untyped-def]
    if "s" not in _STORE:
        store = HistoryStore(factory.mktemp("hist") / "h.sqlite3")
        hexai_history.ingest(store, _EVENTS)
        # Events exactly on minute boundaries, the edge that rollups get wrong most easily.
        _EVENTS.extend(
            HexaiEvent(T0 + k * NS_PER_MINUTE, "openai", "gpt-4.1", 1, 1, 9)
            for k in range(0, 240, 7)
        )
        hexai_history.ingest(store, _EVENTS)
        _STORE["s"] = store
    return _STORE["s"]


def test_window_cache_sees_new_ingest(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    window = HistoryWindow(store, "hexai")
    lo, hi = T0, T0 + 3600 * S
    assert window.counters(lo, hi) == []
    hexai_history.ingest(store, [HexaiEvent(T0 + 30 * NS_PER_MINUTE, "openai", "gpt-4.1", 10, 1)])
    assert totals(window.counters(lo, hi)) == {("openai", "gpt-4.1"): (1, 10, 1)}
    store.close()


def test_prune_in_batches_and_clear_keeps_state(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    events = make_events(3, 2000, 10 * 3600 * S)
    hexai_history.ingest(store, events)
    store.set_meta("alert_state", "keep me")
    cutoff = T0 + 5 * 3600 * S
    removed = 0
    while (step := store.prune(cutoff, batch=300)) > 0:
        assert step <= 301 + 60  # one batch, rounded to whole minutes
        removed += step
    bound = (cutoff // NS_PER_MINUTE) * NS_PER_MINUTE
    assert removed == sum(1 for e in events if e.ts_ns < bound)
    assert totals(hexai_history.counters(store, bound, T0 + 11 * 3600 * S)) == brute(
        events, bound, T0 + 11 * 3600 * S
    )
    assert store.clear_usage()["hexai_events"] == len(events) - removed
    assert hexai_history.count_events(store) == 0
    assert store.get_meta("alert_state") == "keep me"
    store.close()


def test_reopen_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    store = HistoryStore(path)
    hexai_history.ingest(store, make_events(5, 10, 3600 * S))
    store.close()
    again = HistoryStore(path)
    assert hexai_history.count_events(again) == 10
    again.close()


def test_a_new_history_has_large_pages_and_an_old_one_keeps_its_own(tmp_path: Path) -> None:
    """A new file gets ``PAGE_SIZE`` pages (a first scan's write splits and commits fewer);
    an existing one, of SQLite's default size, keeps it and its rows (WAL cannot change it)."""
    fresh = HistoryStore(tmp_path / "new.sqlite3")
    assert PAGE_SIZE == 16384
    assert fresh.execute("PRAGMA page_size") == [(PAGE_SIZE,)]
    fresh.close()
    old = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(old)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE kept (n INTEGER)")
    conn.execute("INSERT INTO kept VALUES (7)")
    conn.commit()
    conn.close()
    old.chmod(0o600)
    store = HistoryStore(old)
    assert store.execute("PRAGMA page_size") == [(4096,)]
    assert store.execute("PRAGMA cache_spill") == [(SPILL_BYTES // 4096 - 1,)]
    assert store.execute("SELECT n FROM kept") == [(7,)]
    store.close()


def spill_pages(page_size: int) -> int:
    return SPILL_BYTES // page_size - 1


@pytest.mark.parametrize("page", [1024, 4096, 16384, 65536])
def test_a_transaction_spills_its_pages_only_past_its_bound_whatever_the_page_size(
    tmp_path: Path, page: int
) -> None:
    """Changed pages stay in memory up to ``SPILL_BYTES`` (a first scan's batch of random keys
    is not written out and read back); SQLite takes the number as a boolean by its low byte
    too, so spilling (and the bound on memory) is never turned off by it."""
    conn = sqlite3.connect(tmp_path / "h.sqlite3")
    conn.execute(f"PRAGMA page_size={page}")
    conn.execute(f"PRAGMA cache_spill={spill_pages(page)}")
    assert conn.execute("PRAGMA cache_spill").fetchone()[0] == spill_pages(page) > 0
    assert spill_pages(page) * page < SPILL_BYTES
    conn.close()
    fresh = HistoryStore(tmp_path / "store.sqlite3")
    assert fresh.execute("PRAGMA cache_spill") == [(spill_pages(PAGE_SIZE),)]
    fresh.close()


def test_a_history_another_process_holds_past_the_wait_is_called_busy_not_broken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A big history's one-time upgrade holds the write lock for seconds: a second burntray
    # opening it meanwhile must say so, not call the file unusable.
    from burntray.store import history as history_module
    from burntray.store.schema import HistoryError

    path = tmp_path / "history.sqlite3"
    HistoryStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA user_version=0")  # the next opener must migrate: it needs the lock
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(history_module, "WRITER_WAIT_MS", 20)
    try:
        with pytest.raises(HistoryError) as caught:
            HistoryStore(path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "is busy: another burntray process held it" in str(caught.value)
    assert "unusable" not in str(caught.value)
    HistoryStore(path).close()  # once let go, it opens


def test_opening_an_up_to_date_history_writes_nothing(tmp_path: Path) -> None:
    """An open finds every table at its version and the schema's version recorded: it commits
    nothing (written at every open, the version made each short command's close checkpoint
    the WAL with four syncs); a new or older history gets its version written."""
    path = tmp_path / "h.sqlite3"
    HistoryStore(path).close()
    watcher = sqlite3.connect(path)
    try:
        before = watcher.execute("PRAGMA data_version").fetchone()[0]
        store = HistoryStore(path)
        assert watcher.execute("PRAGMA data_version").fetchone()[0] == before
        store.close()
        watcher.execute("PRAGMA user_version=1")  # as a history of before recorded versions
        HistoryStore(path).close()
        assert watcher.execute("PRAGMA user_version").fetchone()[0] == 2
    finally:
        watcher.close()
