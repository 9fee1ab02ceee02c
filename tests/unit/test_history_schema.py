"""The history database's one schema owner: a database written before schema versions were
recorded opens with every row kept, each table's migration ladder runs once, and a table
written by a newer burntray is refused with a clear message."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from burntray.model.usage import UsageRecord
from burntray.sources.cburn import history as cburn_history
from burntray.sources.hexai import history as hexai_history
from burntray.sources.registry import REGISTRY
from burntray.store.alert_store import AlertStore
from burntray.store.history import HistoryError, HistoryStore
from burntray.store.schema import (
    GENERIC_TABLES,
    SCHEMA_VERSION,
    TEAM_OUTBOX,
    USAGE_EVENTS,
    USAGE_QUARTERS,
    TableSchema,
    migrate,
)
from burntray.store.usage_events import UsageEvents

FIXTURE = Path(__file__).parent.parent / "fixtures" / "history_v1.sql"
T0 = 1_700_000_000_000_000_000
S = 1_000_000_000


def old_database(tmp_path: Path) -> Path:
    path = tmp_path / "history.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(FIXTURE.read_text(encoding="utf-8"))
    conn.close()
    path.chmod(0o600)
    return path


def test_a_database_of_the_previous_schema_opens_with_every_row(tmp_path: Path) -> None:
    path = old_database(tmp_path)
    store = HistoryStore(path, REGISTRY.history_tables())
    # hexai: events, the twin (dup 1) and the rollup, through the source's own queries
    assert hexai_history.count_events(store) == 3
    whole = hexai_history.counters(store, T0, T0 + 120 * S)
    assert sorted((p, m, n, s, r) for p, m, n, s, r in whole) == [
        ("anthropic", "claude-sonnet-4-5", 1, 8000, 800),
        ("openai", "gpt-4.1", 2, 8000, 800),
    ]
    # cburn: the samples and their running sums
    assert cburn_history.count_samples(store) == 2
    assert cburn_history.window(store, T0, T0 + 60 * S) == (10, 6000, 0.25)
    # the shared per-request records and their rollup
    records = UsageEvents(store)
    claude = records.rows("claude", T0, T0 + 60 * S)  # the whole minute: from the rollup
    assert [(g.model, g.reqs, g.input_tokens) for g in claude] == [("claude-sonnet-4-5", 1, 1000)]
    assert [r.key for r in records.records("codex", T0, T0 + 60 * S)] == ["r-2"]
    # state: resume offsets, the clear counter, alert memory and the alert log
    assert store.get_meta("source_state:claude") == '{"offset": 42}'
    assert store.get_meta("usage_cleared") == "2"
    alerts = AlertStore(store)
    assert [a.message for a in alerts.recent(T0)] == ["spend spiked"]
    assert store.execute("SELECT source FROM alert_state") == [("hexai",)]
    # every table now has its version recorded, and the file says so
    versions = dict(store.execute("SELECT name, version FROM schema_versions"))
    declared = [*GENERIC_TABLES, *REGISTRY.history_tables()]
    assert versions == {t.name: t.version for t in declared}
    assert store.execute("PRAGMA user_version") == [(SCHEMA_VERSION,)]
    # and it keeps working: a new event is added beside the old ones
    new = hexai_history.HexaiEvent(T0 + 200 * S, "openai", "gpt-4.1", 1, 1)
    assert hexai_history.ingest(store, [new]) == 1
    store.close()
    again = HistoryStore(path, REGISTRY.history_tables())
    assert hexai_history.count_events(again) == 4
    again.close()


def test_a_ladder_step_runs_once_and_keeps_the_rows(tmp_path: Path) -> None:
    one = TableSchema("notes", ("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY)",))
    two = one._replace(steps=(*one.steps, "ALTER TABLE notes ADD COLUMN body TEXT DEFAULT 'x'"))
    path = tmp_path / "history.sqlite3"
    store = HistoryStore(path, [one])
    with store.transaction() as conn:
        conn.execute("INSERT INTO notes (id) VALUES (7)")
    store.close()
    store = HistoryStore(path, [two])  # step 2 runs: the column is added, the row stays
    assert store.execute("SELECT id, body FROM notes") == [(7, "x")]
    store.close()
    store = HistoryStore(path, [two])  # nothing left to run: adding the column twice would fail
    assert store.execute("SELECT version FROM schema_versions WHERE name = 'notes'") == [(2,)]
    store.close()


def test_a_table_of_a_newer_burntray_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = old_database(tmp_path)
    HistoryStore(path, REGISTRY.history_tables()).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_versions SET version = 9 WHERE name = 'cburn_snapshots'")
    conn.commit()
    conn.close()
    with pytest.raises(HistoryError, match=r"table cburn_snapshots .* newer burntray .*9") as err:
        HistoryStore(path, REGISTRY.history_tables())
    assert str(path) in str(err.value)  # names the file too
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM cburn_snapshots").fetchone() == (2,)
    conn.close()


def test_a_file_of_a_newer_burntray_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    path.chmod(0o600)
    with pytest.raises(HistoryError) as err:
        HistoryStore(path)
    assert str(err.value) == (
        f"{path}: written by a newer burntray (schema {SCHEMA_VERSION + 1}, this one reads "
        f"{SCHEMA_VERSION}); upgrade burntray or clear the history"
    )


def test_one_prune_drops_what_every_declared_table_holds_before_the_cutoff(tmp_path: Path) -> None:
    """The monitor's one call prunes the shared records and a source's own tables alike, each
    as its ``TableSchema`` says, and keeps everything from the cutoff's minute on."""
    store = HistoryStore(tmp_path / "history.sqlite3", REGISTRY.history_tables())
    old, new = T0 - 3600 * S, T0 + 30 * S
    hexai_history.ingest(
        store,
        [
            hexai_history.HexaiEvent(old, "openai", "gpt-4.1", 1, 1),
            hexai_history.HexaiEvent(new, "openai", "gpt-4.1", 2, 2),
        ],
    )
    records = UsageEvents(store)
    records.ingest(
        "claude",
        [
            UsageRecord(old, "anthropic", "claude-sonnet-4-5", 10, 1, 0, 0, 0.1, "a"),
            UsageRecord(new, "anthropic", "claude-sonnet-4-5", 20, 2, 0, 0, 0.2, "b"),
        ],
    )
    assert store.prune(T0) == 2  # one event and one record
    assert hexai_history.count_events(store) == 1
    assert [r.key for r in records.records("claude", 0, T0 + 3600 * S)] == ["b"]
    assert store.execute("SELECT count(*) FROM usage_minutes") == [(1,)]
    assert store.execute("SELECT count(*) FROM hexai_minutes") == [(1,)]
    store.close()


def test_an_old_history_gains_the_branch_column_and_keeps_its_records(tmp_path: Path) -> None:
    path = old_database(tmp_path)
    store = HistoryStore(path, REGISTRY.history_tables())
    records = UsageEvents(store)
    old = records.records("codex", T0, T0 + 60 * S)
    assert [(r.key, r.branch) for r in old] == [("r-2", "")]  # kept, its branch unknown
    new = UsageRecord(T0 + 90 * S, "anthropic", "claude-sonnet-4-5", 1, 2, 0, 0, 0.5, "n-1",
                      "s", "p", branch="feature/x")  # fmt: skip
    assert records.ingest("claude", [new]) == 1
    # the same request seen again on another branch is a change, not a duplicate
    assert records.ingest("claude", [new._replace(branch="main")]) == 1
    store.close()
    again = UsageEvents(HistoryStore(path, REGISTRY.history_tables()))
    got = again.records("claude", T0 + 90 * S, T0 + 91 * S)
    assert [(r.key, r.branch) for r in got] == [("n-1", "main")]
    assert again.history.execute(
        "SELECT version FROM schema_versions WHERE name = 'usage_events'"
    ) == [(USAGE_EVENTS.version,)]
    again.history.close()


def _quarters_equal_minutes(store: HistoryStore) -> None:
    quarters = store.execute(
        "SELECT source, quarter, provider, model, reqs, input, output, cache_read, cache_write, "
        "round(cost, 9), unpriced FROM usage_quarters ORDER BY 1, 2, 3, 4"
    )
    summed = store.execute(
        "SELECT source, minute / 15, provider, model, sum(reqs), sum(input), sum(output), "
        "sum(cache_read), sum(cache_write), round(total(cost), 9), sum(unpriced) "
        "FROM usage_minutes GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
    )
    assert quarters == summed


def test_the_quarter_hour_rollup_follows_the_minutes_through_every_write(tmp_path: Path) -> None:
    path = old_database(tmp_path)
    store = HistoryStore(path, REGISTRY.history_tables())  # an existing history: summed once
    assert store.execute("SELECT count(*) FROM usage_quarters")[0][0] > 0
    _quarters_equal_minutes(store)
    records = UsageEvents(store)
    batch = [
        UsageRecord(T0 + i * 97 * S, "anthropic", "m" + str(i % 3), i, 1, 0, 0,
                    None if i % 5 == 0 else 0.1, f"q-{i}")
        for i in range(200)
    ]  # fmt: skip
    records.ingest("claude", batch)  # new records
    _quarters_equal_minutes(store)
    records.ingest("claude", [r._replace(output_tokens=9, ts_ns=r.ts_ns + 3600 * S)
                              for r in batch[:50]])  # fmt: skip  # replaced, moved
    _quarters_equal_minutes(store)
    records.prune(T0 + 5000 * S)
    _quarters_equal_minutes(store)
    records.clear("claude")
    _quarters_equal_minutes(store)
    store.clear_usage()
    assert store.execute("SELECT count(*) FROM usage_quarters") == [(0,)]
    store.close()


def _previous_schema(path: Path) -> None:
    """A history as the burntray before the writers kept the rollups left it: the quarter-hour
    rollup and the team's queue at version 1, with their triggers, and a machine reporting to
    a hub (its cursor set). Its records are written as that burntray wrote them: the records
    and their minutes; the triggers added the quarter hours and queued the records."""
    previous = [
        t._replace(steps=t.steps[:1]) if t in (USAGE_QUARTERS, TEAM_OUTBOX) else t
        for t in (*GENERIC_TABLES, *REGISTRY.history_tables())
    ]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    migrate(conn, previous)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    conn.execute("INSERT INTO team_cursor VALUES ('hub', 0)")
    _write_as_version_1(conn, range(300))
    conn.execute("COMMIT")
    conn.close()
    path.chmod(0o600)


def _write_as_version_1(conn: sqlite3.Connection, numbers: range, prefix: str = "old") -> None:
    """Records written as the burntray before the writers kept the rollups wrote them: each
    record and its minute, relying on the triggers for the quarter hours and the team's queue."""
    for i in numbers:
        ts = T0 + i * 41 * S
        cost = None if i % 7 == 0 else 0.01 * (i % 5)
        model = "m" + str(i % 3)
        conn.execute(
            "INSERT INTO usage_events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            ("claude", f"{prefix}-{i}", ts, "anthropic", model, i, 2 * i, 3, 4, cost, "s", "p",
             0, "", "", ""),
        )  # fmt: skip
        conn.execute(
            "INSERT INTO usage_minutes VALUES ('claude', ?, 'anthropic', ?, 1, ?, ?, 3, 4, ?, ?) "
            "ON CONFLICT DO UPDATE SET reqs = reqs + 1, input = input + excluded.input, "
            "output = output + excluded.output, cache_read = cache_read + 3, "
            "cache_write = cache_write + 4, cost = cost + excluded.cost, "
            "unpriced = unpriced + excluded.unpriced",
            (ts // (60 * S), model, i, 2 * i, cost or 0.0, int(cost is None)),
        )


def _figures(store: HistoryStore) -> list[tuple[object, ...]]:
    return store.execute(
        "SELECT quarter, model, reqs, input, output, cache_read, cache_write, round(cost, 9), "
        "unpriced FROM usage_quarters ORDER BY 1, 2"
    )


def _summed_from_records(store: HistoryStore) -> list[tuple[object, ...]]:
    """What the quarter hours must hold: the records summed per quarter hour and model."""
    return store.execute(
        "SELECT ts_ns / (15 * 60 * 1000000000), model, count(*), sum(input), sum(output), "
        "sum(cache_read), sum(cache_write), round(total(cost), 9), sum(cost IS NULL) "
        "FROM usage_events GROUP BY 1, 2 ORDER BY 1, 2"
    )


def test_the_previous_schema_migrates_to_writer_kept_rollups_with_the_same_figures(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.sqlite3"
    _previous_schema(path)
    conn = sqlite3.connect(path)
    before = conn.execute(
        "SELECT quarter, model, reqs, input, output, cache_read, cache_write, round(cost, 9), "
        "unpriced FROM usage_quarters ORDER BY 1, 2"
    ).fetchall()
    queued = conn.execute("SELECT key FROM team_outbox ORDER BY seq").fetchall()
    conn.close()
    assert len(before) == 3 * 15 and len(queued) == 300  # the old triggers did their part

    store = HistoryStore(path, REGISTRY.history_tables())
    # no trigger is left to run per record or per minute row (they kept the rollups and the
    # queue for writers that did not keep them; ``schema.WRITER_MARK`` says why they went)
    triggers = store.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' "
        "AND tbl_name IN ('usage_events', 'usage_minutes')"
    )
    assert triggers == []
    versions = store.execute("SELECT name, version FROM schema_versions")
    assert {USAGE_QUARTERS.name: 3, TEAM_OUTBOX.name: 3}.items() <= dict(versions).items()
    assert _figures(store) == before  # the same figures, the window's as well
    records = UsageEvents(store)
    totals, _ = records.summarise("claude", T0, T0 + 300 * 41 * S, 300 * 41 * S)
    assert (totals.reqs, totals.input_tokens, totals.unpriced_reqs) == (300, 44850, 43)
    # and from now on the writers keep the rollups and the queue: new records, changed ones
    new = [UsageRecord(T0 + i * 53 * S, "anthropic", "m1", 5, 5, 0, 0, 0.5, f"new-{i}")
           for i in range(100)]  # fmt: skip
    assert records.ingest("claude", new) == 100
    changed = UsageRecord(T0 + 5 * S, "anthropic", "m2", 1000, 0, 0, 0, None, "old-3")
    assert records.ingest("claude", [changed]) == 1
    assert _figures(store) == _summed_from_records(store)
    keys = [k for (k,) in store.execute("SELECT key FROM team_outbox ORDER BY seq")]
    assert keys == [*(q for (q,) in queued), *(r.key for r in new), "old-3"]
    store.close()


def test_records_keyed_by_their_text_key_move_to_a_rowid_table_in_time_order(
    tmp_path: Path,
) -> None:
    """A history whose records were a table clustered on (source, key) (usage_events version
    3) keeps every record, every column, and its dedup when it becomes a rowid table with a
    unique (source, key) index, its rows copied in time order."""
    path = tmp_path / "history.sqlite3"
    before = [t._replace(steps=t.steps[:3]) if t is USAGE_EVENTS else t for t in GENERIC_TABLES]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    migrate(conn, [t._replace(steps=t.steps[:2]) if t is TEAM_OUTBOX else t for t in before])
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    rows = [
        (src, f"k-{(i * 7919) % 101}", T0 + (i * 37 % 50) * S, "anthropic", f"m{i % 2}", i, 2,
         3, 4, None if i % 9 == 0 else i / 8, "s", "p", i % 2, f"b{i % 3}", "", "")
        for src in ("codex", "claude") for i in range(101)
    ]  # fmt: skip
    conn.executemany(f"INSERT INTO usage_events VALUES ({','.join('?' * 16)})", rows)
    conn.execute("INSERT INTO team_cursor VALUES ('hub', 0)")
    conn.execute("COMMIT")
    old_sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'usage_events'")
    assert "WITHOUT ROWID" in old_sql.fetchone()[0]
    conn.close()
    path.chmod(0o600)

    store = HistoryStore(path, REGISTRY.history_tables())
    kept = store.execute("SELECT * FROM usage_events ORDER BY rowid")
    assert sorted(kept, key=repr) == sorted(rows, key=repr)  # every record, as it was
    assert [r[:3:2] for r in kept] == sorted(r[:3:2] for r in rows)  # in time order per source
    indexes = store.execute("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'usage_events'")
    sql = dict(indexes)
    assert "WITHOUT ROWID" not in str(sql["usage_events"])
    assert "UNIQUE INDEX usage_events_keys ON usage_events (source, key)" in str(
        sql["usage_events_keys"]
    )
    assert "usage_events_by_time" in sql and "team_outbox_add" not in sql
    records = UsageEvents(store)
    again = [UsageRecord(r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[1], r[10], r[11],
                         bool(r[12]), r[13]) for r in rows if r[0] == "claude"]  # fmt: skip
    assert records.ingest("claude", again) == 0  # stored already: nothing twice
    assert records.ingest("claude", [again[5]._replace(input_tokens=10**6)]) == 1  # replaced
    assert store.execute("SELECT count(*), sum(input) FROM usage_events WHERE key = ?",
                         (again[5].key,)) == [(2, 10**6 + 5)]  # fmt: skip
    store.close()
