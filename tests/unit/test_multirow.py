"""Many rows in a few statements (issue 22): every row stored, in order, whatever the count
and SQLite's limit on bound values; and the history's record ingest steps per chunk, not per
row (each step lets go of the GIL, and under a busy receiver each taking back waited)."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest

from burntray.model.usage import UsageRecord
from burntray.store.history import HistoryStore
from burntray.store.multirow import CHUNK, insert_rows, insert_values
from burntray.store.usage_events import UsageEvents

MIN = 60_000_000_000


@pytest.mark.parametrize("n", [0, 1, 2, 3, 255, 256, 257, 511, 1000, 1023])
def test_every_row_goes_in_once_in_order_in_few_statements(n: int) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (i INTEGER, s TEXT, f REAL)")
    rows = [(i, f"r{i}", i / 3) for i in range(n)]
    statements = insert_rows(conn, "INSERT INTO t (i, s, f)", 3, rows)
    assert conn.execute("SELECT i, s, f FROM t ORDER BY rowid").fetchall() == rows
    # whole chunks, then one statement per set bit of the rest
    assert statements == n // CHUNK + bin(n % CHUNK).count("1")


def test_chunks_shrink_to_sqlites_limit_on_bound_values() -> None:
    conn = sqlite3.connect(":memory:")
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 50)  # as an old SQLite's 999 would
    conn.execute("CREATE TABLE t (a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p)")
    rows = [tuple(range(r, r + 16)) for r in range(100)]
    statements = insert_rows(conn, "INSERT INTO t", 16, rows)
    assert conn.execute("SELECT * FROM t ORDER BY rowid").fetchall() == rows
    assert statements == math.ceil(100 / 3)  # 3 rows of 16 values under 50


def test_inserted_counts_rows_and_stops_at_the_first_chunk_that_passed_one_over() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (i INTEGER PRIMARY KEY)")
    conn.execute("CREATE TABLE log (i)")  # a trigger's writes are not the statement's rows
    conn.execute("CREATE TRIGGER t_log AFTER INSERT ON t BEGIN INSERT INTO log VALUES (1); END")
    counted: list[int] = []
    assert (
        insert_rows(conn, "INSERT OR IGNORE INTO t", 1, [(i,) for i in range(600)], counted) == 5
    )  # fmt: skip  (256 + 256 + 64 + 16 + 8)
    assert counted == [600]
    counted.clear()
    rows = [(i,) for i in range(1000, 1300)] + [(5,)] + [(i,) for i in range(2000, 2700)]
    statements = insert_rows(conn, "INSERT OR IGNORE INTO t", 1, rows, counted)
    assert statements == 2 and counted == [2 * CHUNK - 1]  # the second chunk held row 5


def _records(n: int, first: int = 0, inp: int = 10) -> list[UsageRecord]:
    return [
        UsageRecord(MIN + i * 1000, "anthropic", "m", inp, 5, 3, 2, 0.5, f"k{i}", session="s")
        for i in range(first, first + n)
    ]


@pytest.mark.parametrize("changed", [False, True], ids=["new records", "changed records"])
def test_record_ingest_steps_per_chunk_not_per_row(tmp_path: Path, changed: bool) -> None:
    history = HistoryStore(tmp_path / "h.sqlite3")
    store = UsageEvents(history)
    if changed:  # stored before with other values: the general (temp table) path
        store.ingest("otel", _records(2000, inp=1))
    steps: list[str] = []
    with history.transaction() as conn:
        conn.set_trace_callback(steps.append)
    try:
        assert store.ingest("otel", _records(2000)) == 2000
    finally:
        with history.transaction() as conn:
            conn.set_trace_callback(None)
    # Each statement run is traced with its values (a row trigger's runs repeat its text):
    # 2,000 rows are 7 chunks of 256 and 208 = 128 + 64 + 16, not 2,000 runs of one row.
    heads = ("INSERT INTO usage_events", "INSERT OR IGNORE INTO usage_events", "INSERT INTO temp")
    inserts = {s for s in steps if s.startswith(heads)}
    assert 7 + 3 <= len(inserts) <= 16  # the changed path adds three INSERT ... SELECTs
    totals, _rows = store.summarise("otel", 0, 10 * MIN, 10 * MIN)
    assert (totals.reqs, totals.input_tokens) == (2000, 20_000)
    history.close()


@pytest.mark.parametrize("n", [1, 3, 256, 300])
def test_values_every_row_shares_are_bound_once_and_an_upsert_adds_up(n: int) -> None:
    """``shared`` values go where ``select`` puts them in every row; with an ON CONFLICT tail a
    key seen again adds to its row, within one statement and across statements."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (src TEXT, k INTEGER, v INTEGER, tag TEXT, PRIMARY KEY (src, k))")
    values = [x for i in range(n) for x in (i % 200, i)]
    tail = " ON CONFLICT (src, k) DO UPDATE SET v = v + excluded.v"
    for _ in range(2):
        insert_values(conn, "INSERT INTO t", 2, values, tail=tail, shared=("s", "x"),
                      select="?1, {}, ?2")  # fmt: skip
    want: dict[int, int] = {}
    for i in range(n):
        want[i % 200] = want.get(i % 200, 0) + 2 * i
    got = conn.execute("SELECT src, k, v, tag FROM t ORDER BY k").fetchall()
    assert got == [("s", k, v, "x") for k, v in sorted(want.items())]
