"""The history write of a long read (issue 22): a first scan cut between two of its batches
leaves a history whose records, rollups and resume state agree, and the next run resumes it to
exactly the figures of a scan that was never cut. Real processes, real logs, real histories."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from burntray.model.blocks import usage_blocks
from burntray.model.pricing import build_price_table
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs import streaming
from burntray.sources.agent_logs.parallel import START_METHOD
from burntray.sources.agent_logs.source import claude_source
from burntray.sources.agent_logs.streaming import writer_process_wanted
from burntray.sources.agent_logs.write_process import ProcessWriter
from burntray.sources.claude import logs
from burntray.store.blocks import all_block_sums
from burntray.store.history import HistoryStore
from burntray.store.usage_events import UsageEvents
from burntray.store.views import grouped
from tests.agent_logs_support import generate_heavy_week

T0 = 1_765_000_000 * 10**9

# A first scan that dies (the process ends at once, as on a crash or a kill) right after its
# third batch is committed, while the reader has more to hand on.
_CUT_SCAN = """
import os, sys
from pathlib import Path
from burntray.model.pricing import build_price_table
from burntray.paths import app_paths
from burntray.sources.agent_logs.source import claude_source
from burntray.sources.claude import logs
from burntray.store.history import HistoryStore
from burntray.store.usage_events import UsageEvents

logs.FLUSH_RECORDS = 150
ingest = UsageEvents.ingest
batches = []

def cut_after_three(self, *args, **kwargs):
    written = ingest(self, *args, **kwargs)
    batches.append(written)
    if len(batches) == 3:
        os._exit(3)
    return written

UsageEvents.ingest = cut_after_three
history = HistoryStore(app_paths().history_db)
source = claude_source([Path(sys.argv[1])], build_price_table(), history, watch=False)
source.reader.workers = 1
source.write_process = False  # the cut is made in this process's ingest
source.poll()
"""


def _history(home: Path) -> Path:
    return (
        home / "data" / "history.sqlite3"
        if (home / "data").is_dir()
        else next(home.rglob("history.sqlite3"))
    )


def _rollups_and_records(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """The records, both rollups (costs to 1e-9: sums in another order) and the same sums
    made from the records by SQLite."""
    sums = (
        "count(*), sum(input), sum(output), sum(cache_read), sum(cache_write), "
        "round(total(cost), 9), sum(cost IS NULL)"
    )
    kept = "reqs, input, output, cache_read, cache_write, round(cost, 9), unpriced"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return {
            "records": conn.execute("SELECT * FROM usage_events ORDER BY 1, 2").fetchall(),
            "minutes": conn.execute(
                f"SELECT source, minute, provider, model, {kept} FROM usage_minutes "
                "ORDER BY 1, 2, 3, 4"
            ).fetchall(),
            "minutes summed": conn.execute(
                f"SELECT source, ts_ns / 60000000000, provider, model, {sums} "
                "FROM usage_events GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
            ).fetchall(),
            "quarters": conn.execute(
                f"SELECT source, quarter, provider, model, {kept} FROM usage_quarters "
                "ORDER BY 1, 2, 3, 4"
            ).fetchall(),
            "quarters summed": conn.execute(
                f"SELECT source, ts_ns / 900000000000, provider, model, {sums} "
                "FROM usage_events GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
            ).fetchall(),
            "state": conn.execute(
                "SELECT key FROM meta WHERE key LIKE 'source_state:%'"
            ).fetchall(),
            "pending": conn.execute("SELECT source, minute FROM rollup_pending").fetchall(),
        }


def _answers_at(db: Path) -> list[tuple[object, ...]]:
    """Per UTC day and model, and each 5-hour block, as the readers answer from ``db``'s
    rollups (the part a long read left pending from its records): costs to 1e-9."""
    history = HistoryStore(db)
    try:
        events = UsageEvents(history)
        days = grouped(history, "claude", 0, 2**62, ("model",), by_period=True,
                       offsets=lambda first, end: [(first, 0)])  # fmt: skip
        per: dict[tuple[object, ...], list[float]] = {}
        for g in days:  # a day's groups may come in parts (rollups, records)
            day = g.day if g.day is not None else g.slot // 96
            acc = per.setdefault((day, *g.values), [0, 0, 0.0])
            acc[0] += g.reqs
            acc[1] += g.input_tokens + g.output_tokens + g.cache_read_tokens
            acc[2] += g.cost_usd
        blocks = [(b.first_ns, b.last_ns, b.reqs, b.tokens, round(b.cost_usd, 9))
                  for b in all_block_sums(events, "claude", 0, 2**62)]  # fmt: skip
        return [*sorted((*k, a[0], a[1], round(a[2], 9)) for k, a in per.items()), *blocks]
    finally:
        history.close()


def _summed_at(db: Path) -> list[tuple[object, ...]]:
    """The same from the records alone (the blocks by ``model.blocks`` over every record)."""
    history = HistoryStore(db)
    try:
        rows = history.execute(
            "SELECT ts_ns / 86400000000000, model, count(*), "
            "sum(input + output + cache_read), round(total(cost), 9) FROM usage_events "
            "GROUP BY 1, 2 ORDER BY 1, 2"
        )
        records = UsageEvents(history).records("claude", 0, 2**62)
        blocks = [(b.first_ns, b.last_ns, b.reqs, b.tokens, round(b.cost_usd, 9))
                  for b in usage_blocks(records, 2**62)]  # fmt: skip
        return [*rows, *blocks]
    finally:
        history.close()


def _status(env: dict[str, str]) -> tuple[int, dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "burntray", "status", "--source", "claude", "--by", "day",
         "--window", "all", "--format", "json"],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def test_a_first_scan_cut_between_batches_resumes_to_the_figures_of_an_uncut_one(
    tmp_path: Path,
) -> None:
    config = tmp_path / "claude"
    generate_heavy_week(config, requests=1800, total_bytes=900_000, sessions=6, seed=24)
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(config)}
    cut = subprocess.run(
        [sys.executable, "-c", _CUT_SCAN, str(config)],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert cut.returncode == 3, cut.stderr
    home = Path(env["BURNTRAY_HOME"])
    at_cut = _rollups_and_records(_history(home))
    # what the three batches wrote is all there, resume state with it; their rollups are left
    # to the read's end, the source marked from the first minute they hold (``store.pending``)
    assert 3 * 150 <= len(at_cut["records"]) <= 1800 - 300  # three of six files
    assert at_cut["state"] == [("source_state:claude",)]
    [(source, minute)] = at_cut["pending"]
    assert source == "claude"
    assert minute <= min(m for _, m, *_ in at_cut["minutes summed"])  # type: ignore[type-var]
    assert _answers_at(_history(home)) == _summed_at(_history(home))  # exact meanwhile

    code, resumed = _status(env)  # the next run reads on from the state the cut left
    assert code == 0, resumed
    clean_env = {**env, "BURNTRAY_HOME": str(tmp_path / "clean")}
    code, clean = _status(clean_env)  # one scan that was never cut
    assert code == 0, clean
    assert resumed == clean
    after = _rollups_and_records(_history(home))
    never_cut = _rollups_and_records(_history(tmp_path / "clean"))
    assert after == never_cut
    assert after["minutes"] == after["minutes summed"]
    assert after["quarters"] == after["quarters summed"]
    assert after["pending"] == []  # the resumed read summed them
    assert len(after["records"]) > len(at_cut["records"])


def _scan_into(db: Path, config: Path, write_process: bool, long_read_bytes: int = 0) -> int:
    """A first scan of ``config`` into the history ``db``, its batches written by a process of
    their own or on a thread; the cores it kept busy besides reading processes.
    ``long_read_bytes``: the new bytes that make a long read (as reading processes would
    take it) when not 0."""
    history = HistoryStore(db)
    source = claude_source([config], build_price_table(), history, watch=False)
    source.reader.workers = 0
    if long_read_bytes:
        source.reader.parallel_min_bytes = long_read_bytes
    source.write_process = write_process
    try:
        source.poll()
        assert source.status.state == "ok", source.status.detail
        return source.reader.kept_cores
    finally:
        source.close()
        history.close()


def test_a_first_scan_written_by_a_process_of_its_own_equals_one_written_on_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batches a long read writes in a writing process land exactly as the thread writes
    them: the same records, rollups and resume state."""
    config = tmp_path / "claude"
    generate_heavy_week(config, requests=1800, total_bytes=900_000, sessions=6, seed=25)
    monkeypatch.setattr(logs, "FLUSH_RECORDS", 150)  # a dozen batches
    started: list[ProcessWriter] = []

    class Counted(ProcessWriter):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            started.append(self)

    monkeypatch.setattr(streaming, "ProcessWriter", Counted)
    assert _scan_into(tmp_path / "process.sqlite3", config, write_process=True) == 2
    assert len(started) == 1 and started[0].failed == [] and not started[0].problem
    assert _scan_into(tmp_path / "thread.sqlite3", config, write_process=False) == 1
    by_process = _rollups_and_records(tmp_path / "process.sqlite3")
    assert by_process == _rollups_and_records(tmp_path / "thread.sqlite3")
    assert len(by_process["records"]) == 1800
    assert by_process["minutes"] == by_process["minutes summed"]
    assert by_process["quarters"] == by_process["quarters summed"]


@pytest.mark.parametrize("flush_records", [150, 10**6])
def test_a_long_read_starts_its_writing_process_before_its_first_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flush_records: int
) -> None:
    """A long read's writing process starts as the read does (it takes a while to start),
    not with the first batch; a read that then hands on no batch (10**6: all its records go
    to the caller) ends as well. Either way the history is the thread's."""
    config = tmp_path / "claude"
    generate_heavy_week(config, requests=1800, total_bytes=900_000, sessions=6, seed=25)
    monkeypatch.setattr(logs, "FLUSH_RECORDS", flush_records)
    seen: list[str] = []

    class Told(ProcessWriter):
        def __init__(self, *args: Any) -> None:
            seen.append("started")
            super().__init__(*args)

        def put(self, *args: Any) -> None:
            seen.append("batch")
            super().put(*args)

    read_file = logs.ClaudeLogReader._read_file

    def told_read_file(self: logs.ClaudeLogReader, *args: Any) -> None:
        seen.append("file")
        read_file(self, *args)

    monkeypatch.setattr(streaming, "ProcessWriter", Told)
    monkeypatch.setattr(logs.ClaudeLogReader, "_read_file", told_read_file)
    _scan_into(tmp_path / "process.sqlite3", config, write_process=True, long_read_bytes=1)
    handed_on = flush_records < 1800
    assert seen[:2] == ["started", "file"] and seen.count("started") == 1
    assert ("batch" in seen) is handed_on
    _scan_into(tmp_path / "thread.sqlite3", config, write_process=False, long_read_bytes=1)
    assert _rollups_and_records(tmp_path / "process.sqlite3") == _rollups_and_records(
        tmp_path / "thread.sqlite3"
    )
    seen.clear()  # a short read: the process starts with its first batch, if any, as before
    _scan_into(tmp_path / "short.sqlite3", config, write_process=True)
    assert seen[0] == "file" and seen.count("started") == handed_on
    assert _rollups_and_records(tmp_path / "short.sqlite3") == _rollups_and_records(
        tmp_path / "thread.sqlite3"
    )


def _records(first: int, n: int) -> list[UsageRecord]:
    return [
        UsageRecord(T0 + i * 61 * 10**9, "anthropic", "m", 3, 4, 5, 6, 0.01, f"k{i}", "s")
        for i in range(first, first + n)
    ]


def _keys(db: Path) -> set[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return {str(k) for (k,) in conn.execute("SELECT key FROM usage_events")}


def test_batches_a_dead_writing_process_held_come_back_to_be_written_here(
    tmp_path: Path,
) -> None:
    db = tmp_path / "h.sqlite3"
    HistoryStore(db).close()
    writer = ProcessWriter(db, "claude", START_METHOD)
    writer.put(_records(0, 50), ("source_state:claude", "1"))
    writer.drain()
    assert writer.failed == [] and _keys(db) == {f"k{i}" for i in range(50)}
    writer._process.kill()  # as a crash or an out-of-memory kill would
    writer._process.join()
    later = _records(50, 50)
    writer.put(later, ("source_state:claude", "2"))
    writer.close()
    assert writer.failed == later  # handed back: the caller writes them itself
    assert "history writer stopped" in writer.problem
    assert _keys(db) == {f"k{i}" for i in range(50)}


def test_a_writing_process_that_does_not_answer_is_stopped_and_its_batch_comes_back(
    tmp_path: Path,
) -> None:
    db = tmp_path / "h.sqlite3"
    HistoryStore(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock: the batch cannot go in
    writer = ProcessWriter(db, "claude", START_METHOD)
    writer.answer_timeout_s = 0.5  # below SQLite's own wait for the lock
    batch = _records(0, 20)
    try:
        writer.put(batch, ("source_state:claude", "1"))
        writer.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert writer.failed == batch
    assert "did not answer" in writer.problem
    assert not writer._process.is_alive()


@pytest.mark.parametrize(("cpus", "wanted"), [(1, False), (2, True), (8, True)])
def test_a_writing_process_wherever_there_is_a_second_core_however_busy(
    cpus: int, wanted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "getloadavg", lambda: (9.0, 9.0, 9.0))
    assert writer_process_wanted(cpus) is wanted
