"""Goose's and Hermes's warm reads: only the sessions that can have changed reach Python (the
block digests of ``agent_logs.blocks``), and what is recorded stays what a whole read records.

Each step restarts the reader from its saved state, as a new ``burntray status`` does, on real
SQLite databases; ``visited`` is every row the reader's own rows rule (``use_rows``) was
handed."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from burntray.model.pricing import build_price_table
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.blocks import SHIFT, BlockDigests
from burntray.sources.agent_logs.databases import Row
from burntray.sources.goose.reader import GooseReader
from burntray.sources.hermes.reader import HermesReader
from tests.agent_logs_support import goose_db, goose_put, hermes_db, hermes_put

SONNET = "claude-sonnet-4-5-20250929"
CREATED = "2026-11-20 09:00:00"


class _Seen:
    """A reader that notes the session ids of the rows it was handed."""

    def __init__(self, databases: list[Path]) -> None:
        super().__init__(databases, build_price_table(), lambda: 10**18)  # type: ignore[call-arg]
        self.visited: list[str] = []

    def use_rows(self, db: str, rows: list[Row], out: list[UsageRecord]) -> list[int]:
        self.visited += [str(row[0]) for row in rows]
        return super().use_rows(db, rows, out)  # type: ignore[misc,no-any-return]


class SeenGoose(_Seen, GooseReader):
    pass


class SeenHermes(_Seen, HermesReader):
    pass


def _restart(cls: type, dbs: list[Path], state: str | None) -> SeenGoose:
    reader = cls(dbs)
    if state is not None:
        reader.load_state(state)
    return reader


def _goose_sessions(db: Path, n: int) -> sqlite3.Connection:
    conn = goose_db(db)
    for i in range(n):
        goose_put(conn, f"s{i:04d}", SONNET, "anthropic", CREATED, (1000 + i, 10, 1010 + i))
    return conn


def _pass(reader: SeenGoose) -> tuple[list[tuple[str, int, int]], str]:
    records = reader.read_new()
    return [(r.key, r.input_tokens, r.output_tokens) for r in records], reader.save_state()


def test_a_warm_goose_read_hands_python_only_new_and_grown_sessions(tmp_path: Path) -> None:
    db = tmp_path / "sessions.db"
    conn = _goose_sessions(db, 1000)
    first = SeenGoose([db])
    records, state = _pass(first)
    assert len(records) == 1000 and len(first.visited) == 1000

    again = _restart(SeenGoose, [db], state)  # nothing changed: not even opened
    assert _pass(again)[0] == [] and again.visited == [] and again.progress == 0

    goose_put(conn, "new", SONNET, "anthropic", CREATED, (5, 6, 11))  # a new session
    warm = _restart(SeenGoose, [db], state)
    records, state = _pass(warm)
    assert records == [(f"g:{db}:new", 5, 6)] and warm.visited == ["new"]

    # a session in the middle grows: its block of 256 rows is read, not the 1,001
    goose_put(conn, "s0500", SONNET, "anthropic", CREATED, (1700, 40, 1740), "2026-11-21 10:00:00")
    warm = _restart(SeenGoose, [db], state)
    records, state = _pass(warm)
    assert records == [(f"g:{db}:s0500:1795255200000000000", 200, 30)]
    assert "s0500" in warm.visited and len(warm.visited) <= 256
    conn.close()


def test_a_session_filled_in_later_without_its_totals_moving_is_recorded(tmp_path: Path) -> None:
    """A row not recorded (no model yet, or one Goose has not named) is read every time: its
    model can come later while its totals stay, which no digest of the totals would show."""
    db = tmp_path / "sessions.db"
    conn = _goose_sessions(db, 600)
    goose_put(conn, "late", None, "anthropic", CREATED, (700, 70, 770))  # no model yet
    conn.execute("UPDATE sessions SET model_config_json = '{}' WHERE id = 's0100'")  # no name
    conn.execute("UPDATE sessions SET accumulated_input_tokens = 0, accumulated_output_tokens = 0, "
                 "accumulated_total_tokens = 0, input_tokens = 0, output_tokens = 0, "
                 "total_tokens = 0 WHERE id = 's0200'")  # fmt: skip
    conn.commit()
    records, state = _pass(SeenGoose([db]))
    assert len(records) == 598
    conn.execute("UPDATE sessions SET model_config_json = ? WHERE id IN ('late', 's0100')",
                 (f'{{"model_name": "{SONNET}"}}',))  # fmt: skip
    conn.commit()
    warm = _restart(SeenGoose, [db], state)
    records, state = _pass(warm)
    assert sorted(records) == [(f"g:{db}:late", 700, 70), (f"g:{db}:s0100", 1100, 10)]
    assert sorted(warm.visited) == ["late", "s0100", "s0200"]  # the three not recorded
    conn.close()


def test_deleted_vacuumed_and_replaced_databases_record_what_a_whole_read_does(
    tmp_path: Path,
) -> None:
    """Random growth, new sessions, deletions, a VACUUM (it renumbers rows) and a database put
    in place of another: restarted from its state at each step, the reader's records add up to
    each live session's totals, as one whole read of the last database records them."""
    rng = random.Random(24)
    db = tmp_path / "sessions.db"
    conn = _goose_sessions(db, 700)
    totals = {f"s{i:04d}": (1000 + i, 10) for i in range(700)}
    added: dict[str, list[int]] = {}
    state = None
    for step in range(40):
        action = rng.choice(["grow", "grow", "new", "delete", "vacuum", "replace", "none"])
        if action == "grow":
            for ident in rng.sample(sorted(totals), 3):
                inp, out = totals[ident]
                totals[ident] = (inp + rng.randint(1, 500), out + rng.randint(0, 50))
                goose_put(conn, ident, SONNET, "anthropic", CREATED,
                          (*totals[ident], sum(totals[ident])))  # fmt: skip
        elif action == "new":
            ident = f"n{step}"
            totals[ident] = (rng.randint(1, 9000), rng.randint(1, 90))
            grown = (*totals[ident], sum(totals[ident]))
            goose_put(conn, ident, SONNET, "anthropic", CREATED, grown)
        elif action == "delete":
            gone = rng.choice(sorted(totals))
            conn.execute("DELETE FROM sessions WHERE id = ?", (gone,))
            conn.commit()
            added.pop(gone, None)
            del totals[gone]
        elif action == "vacuum":
            conn.execute("VACUUM")
        elif action == "replace":  # a copy with every session grown, moved into place
            conn.close()
            copy = tmp_path / "copy.db"
            copy.unlink(missing_ok=True)
            conn = sqlite3.connect(db)
            conn.execute("VACUUM INTO ?", (str(copy),))
            conn.close()
            other = sqlite3.connect(copy)
            other.execute("UPDATE sessions SET accumulated_input_tokens = "
                          "accumulated_input_tokens + 1")  # fmt: skip
            other.commit()
            other.close()
            for wal in ("-wal", "-shm"):
                Path(f"{db}{wal}").unlink(missing_ok=True)
            copy.replace(db)
            totals = {k: (i + 1, o) for k, (i, o) in totals.items()}
            conn = sqlite3.connect(db)
        reader = _restart(SeenGoose, [db], state)
        for r in reader.read_new():
            ident = r.key.split(":")[2]
            seen = added.setdefault(ident, [0, 0])
            seen[0] += r.input_tokens
            seen[1] += r.output_tokens
        state = reader.save_state()
        live = {k: tuple(v) for k, v in added.items() if k in totals}
        assert live == totals, f"step {step} ({action})"
    conn.close()
    whole = SeenGoose([db])
    assert {r.key.split(":")[2]: (r.input_tokens, r.output_tokens) for r in whole.read_new()} == (
        totals
    )


def test_a_state_without_digests_or_with_a_bad_one_reads_whole(tmp_path: Path) -> None:
    db = tmp_path / "sessions.db"
    conn = _goose_sessions(db, 300)
    first = SeenGoose([db])
    _, state = _pass(first)
    goose_put(conn, "new", SONNET, "anthropic", CREATED, (5, 6, 11))
    conn.close()
    for broken in (
        state.replace('"blocks":{', '"blocks":{"x":1,'),  # another database's part: bad
        state.replace(f'"{db}":[[', f'"{db}":[["dev",'),  # this one's: bad, read whole
    ):
        reader = _restart(SeenGoose, [db], broken)
        records, _ = _pass(reader)
        assert records == [(f"g:{db}:new", 5, 6)]  # the totals kept: only the new one counts
        expected = 1 if broken.count('"x":1') else 301
        assert len(reader.visited) == expected


def test_hermes_warm_reads_new_sessions_and_counts_a_copy_in_two_homes_once(
    tmp_path: Path,
) -> None:
    one, two = tmp_path / "a" / "state.db", tmp_path / "b" / "state.db"
    first_home = hermes_db(one)
    for i in range(400):
        hermes_put(first_home, f"h{i}", SONNET, "anthropic", 1.76e9, (10 + i, 5, 0, 0, 0))
    records, state = _pass(SeenHermes([one]))
    assert len(records) == 400
    hermes_put(first_home, "h7", SONNET, "anthropic", 1.76e9, (30, 5, 0, 0, 0), cost=0.25)
    warm = _restart(SeenHermes, [one], state)
    records, state = _pass(warm)
    assert [(k.split(":")[1], i) for k, i, _ in records] == [("h7", 13)]
    assert "h7" in warm.visited and len(warm.visited) <= 256

    # a second home holding a copy of h7 (older totals): it counts in the first home only, even
    # when the second home alone changed
    second_home = hermes_db(two)
    hermes_put(second_home, "h7", SONNET, "anthropic", 1.76e9, (20, 5, 0, 0, 0))
    both = _restart(SeenHermes, [one, two], state)
    assert _pass(both)[0] == []
    state = both.save_state()
    hermes_put(second_home, "h7", SONNET, "anthropic", 1.76e9, (25, 5, 0, 0, 0))
    both = _restart(SeenHermes, [one, two], state)
    records, state = _pass(both)
    assert records == []
    hermes_put(first_home, "h7", SONNET, "anthropic", 1.76e9, (31, 5, 0, 0, 0), cost=0.25)
    both = _restart(SeenHermes, [one, two], state)
    assert [(k.split(":")[1], i) for k, i, _ in _pass(both)[0]] == [("h7", 1)]
    first_home.close()
    second_home.close()


def test_a_sessions_table_without_rowid_is_read_whole_every_time(tmp_path: Path) -> None:
    """No rowid, no blocks: a changed database is read whole, as before, never an error."""
    db = tmp_path / "sessions.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE sessions (id TEXT PRIMARY KEY, name TEXT, working_dir TEXT, "
                 "model_config_json TEXT, "
                 "provider_name TEXT, created_at TEXT, updated_at TEXT, total_tokens INTEGER, "
                 "input_tokens INTEGER, output_tokens INTEGER, accumulated_total_tokens INTEGER, "
                 "accumulated_input_tokens INTEGER, accumulated_output_tokens INTEGER) "
                 "WITHOUT ROWID")  # fmt: skip
    conn.commit()
    for i in range(3):
        goose_put(conn, f"s{i}", SONNET, "anthropic", CREATED, (100 + i, 1, 101 + i))
    records, state = _pass(SeenGoose([db]))
    assert len(records) == 3
    goose_put(conn, "s1", SONNET, "anthropic", CREATED, (150, 1, 151), "2026-11-21 10:00:00")
    warm = _restart(SeenGoose, [db], state)
    records, _ = _pass(warm)
    assert [(k.split(":")[2], i) for k, i, _ in records] == [("s1", 49)]
    assert sorted(warm.visited) == ["s0", "s1", "s2"] and warm.unreadable() == {}
    conn.close()


def test_a_tables_block_digests_are_one_group_bys_however_its_rowids_lie(tmp_path: Path) -> None:
    """The whole table's digests per block of 256 rowids: a query per block where the rows fill
    their blocks, else one GROUP BY - the same digests either way (a state saved by one is read
    by the other), with rows deleted, rowids far apart and below 0."""
    conn = _goose_sessions(tmp_path / "sessions.db", 1000)
    digests = BlockDigests(GooseReader.digest_terms)
    group_by = f"SELECT rowid >> {SHIFT}, count(*), sum({digests.digest}) FROM sessions GROUP BY 1"
    columns = "id, accumulated_input_tokens, accumulated_output_tokens, total_tokens"
    for change in (
        "",  # rowids 1 to 1,000: a query per block
        "DELETE FROM sessions WHERE rowid % 3 = 0",  # two in three rows left: still
        f"INSERT INTO sessions (rowid, {columns}) VALUES (-300, 'low', 5, 6, 11)",
        f"INSERT INTO sessions (rowid, {columns}) VALUES (9000000000, 'far', 7, 8, 15)",
    ):
        if change:
            conn.execute(change)
            conn.commit()
        expected = {b: (n, s) for b, n, s in conn.execute(group_by)}
        assert digests._blocks(conn, "", ()) == expected, change
    conn.close()
