"""Goose's and Hermes's resume state in parts (issue 24): the sessions' totals in buckets under
history keys of their own, the state an index of them; a warm pass reads and writes back only the
buckets of the sessions it met - with what is recorded exactly what a whole read records across
restarts, a pass cut between a part's write and the index's, a cleared history, a lost or
malformed part, a replaced or vacuumed database and a state of the former layout.

Real SQLite databases in Goose's and Hermes's schemas, burntray's real history, the real source
(``PartsSource``) restarted as a new ``burntray status`` is."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from burntray.model.pricing import build_price_table
from burntray.sources.agent_logs.databases import SessionTotalsReader
from burntray.sources.agent_logs.state_parts import PartsSource, bucket
from burntray.sources.goose.reader import GooseReader
from burntray.sources.hermes.reader import HermesReader
from burntray.store.history import RESUME_STATE_PREFIX, HistoryStore
from burntray.store.usage_events import UsageEvents
from tests.agent_logs_support import goose_db, goose_put, hermes_db, hermes_put

SONNET = "claude-sonnet-4-5-20250929"
CREATED = "2026-11-20 09:00:00"
NOW_NS = 1_800_000_000 * 10**9
STATE = f"{RESUME_STATE_PREFIX}goose"


class _Goose:
    """A Goose database and burntray's source over it, restarted at will."""

    def __init__(self, tmp: Path, sessions: int) -> None:
        self.db = tmp / "sessions.db"
        self.conn = goose_db(self.db)
        self.totals: dict[str, tuple[int, int]] = {}
        self._tick = 0
        for i in range(sessions):
            self.put(f"s{i:04d}", (1000 + i, 10 + i % 7))
        self.history = HistoryStore(tmp / "history.sqlite3")
        self.source = self._source()

    def put(self, ident: str, totals: tuple[int, int]) -> None:
        """A session at ``totals``, updated a second after the last put (a growth is dated so,
        and keyed by its date)."""
        self.totals[ident] = totals
        grown = (*totals, sum(totals))
        goose_put(self.conn, ident, SONNET, "anthropic", CREATED, grown, self.tick())

    def tick(self) -> str:
        """An update time a second after the last one."""
        self._tick += 1
        hours, minutes, seconds = self._tick // 3600, self._tick // 60 % 60, self._tick % 60
        return f"2026-11-21 {hours:02d}:{minutes:02d}:{seconds:02d}"

    def _source(self, reader: SessionTotalsReader | None = None) -> PartsSource:
        reader = reader or GooseReader([self.db], build_price_table(), lambda: NOW_NS)
        return PartsSource("goose", "Goose", reader, [self.db.parent], self.history,
                           lambda: NOW_NS, watch=False)  # fmt: skip

    @property
    def reader(self) -> GooseReader:
        reader = self.source.store_reader
        assert isinstance(reader, GooseReader)
        return reader

    def restart(self) -> None:
        self.source.close()
        self.source = self._source()

    def recorded(self) -> dict[str, tuple[int, int]]:
        """After a pass: each session's input and output summed over the history's records."""
        self.source.poll()
        assert not self.source.problem and not self.source.partial_reason, self.source.status
        sums: dict[str, list[int]] = {}
        for r in self.source.records(0, 2**62):
            seen = sums.setdefault(str(r.session), [0, 0])
            seen[0] += r.input_tokens
            seen[1] += r.output_tokens
        return {k: (v[0], v[1]) for k, v in sums.items()}

    def meta(self) -> dict[str, str]:
        rows = self.history.execute(
            "SELECT key, value FROM meta WHERE substr(key, 1, ?) = ?", (len(STATE), STATE)
        )
        return {str(k): str(v) for k, v in rows}

    def count_fetches(self) -> list[str]:
        """The part keys the history is asked for from now on (by the current source)."""
        asked: list[str] = []
        parts = self.reader.parts
        fetch = parts.fetch
        assert fetch is not None

        def counted(key: str) -> str | None:
            asked.append(key)
            return fetch(key)

        parts.fetch = counted
        return asked

    def part_key(self, ident: str) -> str:
        """The key its session's bucket is under now (the version the index names)."""
        name = bucket(f"g:{self.db}:{ident}")
        return f"{STATE}/{name}#{self.reader.parts.versions[name] % 2}"


def test_a_warm_pass_reads_and_writes_only_the_parts_of_the_sessions_it_met(
    tmp_path: Path,
) -> None:
    goose = _Goose(tmp_path, 2000)
    assert goose.recorded() == goose.totals
    before = goose.meta()
    assert len(before[STATE]) < 20_000  # the index; the 2,000 sessions' totals are in parts
    assert sum(k.startswith(f"{STATE}/s:") for k in before) == 64

    goose.restart()
    asked = goose.count_fetches()
    goose.put("new", (5, 6))
    assert goose.recorded() == goose.totals
    after = goose.meta()
    written = {k for k in after if before.get(k) != after[k]}
    name = bucket(f"g:{goose.db}:new")
    assert asked == [f"{STATE}/{name}#1"]  # the only bucket read: the new session's
    assert written == {STATE, f"{STATE}/{name}#0"}  # its next version, under the other key

    goose.restart()  # nothing changed: the database is not even opened, no part is read
    asked = goose.count_fetches()
    assert goose.recorded() == goose.totals and asked == []


def test_a_state_of_the_former_layout_is_taken_without_recounting(tmp_path: Path) -> None:
    goose = _Goose(tmp_path, 300)
    whole = GooseReader([goose.db], build_price_table(), lambda: NOW_NS)
    records = whole.read_new()
    goose.put("s0007", (2000, 20))
    records += whole.read_new()  # its growth is a record of its own
    former = whole.save_state()  # no history to keep parts in: one document, as main wrote it
    assert '"sessions":{' in former and '"v":' not in former
    goose.history.close()
    goose.history = HistoryStore(tmp_path / "kept-by-main.sqlite3")
    UsageEvents(goose.history).ingest("goose", records, (STATE, former))  # as main kept them
    goose.source = goose._source()
    goose.put("s0007", (2500, 25))  # grows again: only what it adds is recorded
    assert goose.recorded() == goose.totals
    assert '"v":2' in goose.meta()[STATE]  # taken into parts, saved in the new layout
    goose.restart()
    goose.put("s0008", (3000, 30))
    assert goose.recorded() == goose.totals


def test_a_pass_cut_between_its_parts_and_its_index_counts_once(tmp_path: Path) -> None:
    goose = _Goose(tmp_path, 500)
    assert goose.recorded() == goose.totals
    goose.put("s0001", (5000, 50))
    goose.reader.read_new()
    goose.reader.save_state()  # the parts are written; the process ends before the records
    goose.restart()
    assert goose.recorded() == goose.totals
    goose.put("s0001", (6000, 60))
    goose.restart()
    assert goose.recorded() == goose.totals


def test_a_lost_or_malformed_part_reads_whole_as_a_cleared_history_does(tmp_path: Path) -> None:
    goose = _Goose(tmp_path, 400)
    assert goose.recorded() == goose.totals
    for broken in ('{"version": 1, "data": {"x": [1]}}', "not json", None):
        inp, out = goose.totals["s0003"]
        goose.put("s0003", (inp + 100, out + 5))  # a growth is on record
        assert goose.recorded() == goose.totals
        goose.put("s0003", (inp + 200, out + 9))
        key = goose.part_key("s0003")
        if broken is None:
            goose.history.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            goose.history.set_meta(key, broken)
        goose.restart()
        assert goose.recorded() == goose.totals, broken


def test_a_cleared_history_reads_every_session_once_again(tmp_path: Path) -> None:
    goose = _Goose(tmp_path, 300)
    assert goose.recorded() == goose.totals
    goose.history.clear_usage()
    assert goose.recorded() == {}  # this pass says so; the next one reads
    assert goose.recorded() == goose.totals
    goose.restart()
    goose.put("s0009", (9000, 19))
    assert goose.recorded() == goose.totals


def test_a_part_that_cannot_be_written_is_named_and_written_later(tmp_path: Path) -> None:
    goose = _Goose(tmp_path, 300)
    assert goose.recorded() == goose.totals
    for op in ("INSERT", "UPDATE"):  # a real write failure of SQLite's, for the parts only
        goose.history.execute(
            f"CREATE TRIGGER full_{op} BEFORE {op} ON meta WHEN NEW.key LIKE '%/s:%' "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )
    goose.put("s0004", (7000, 70))
    goose.source.poll()
    assert "history write failed" in str(goose.source.status.detail)
    goose.history.execute("DROP TRIGGER full_INSERT")
    goose.history.execute("DROP TRIGGER full_UPDATE")
    assert goose.recorded() == goose.totals
    goose.restart()
    goose.put("s0004", (8000, 80))
    assert goose.recorded() == goose.totals


def test_random_growth_vacuum_and_replacement_across_restarts_and_cuts(tmp_path: Path) -> None:
    """Restarted at every step (some passes cut before their index), the history's records of
    each session add up to its totals, as one whole read of the last database records them."""
    rng = random.Random(2024)
    goose = _Goose(tmp_path, 600)
    for step in range(30):
        action = rng.choice(["grow", "grow", "new", "vacuum", "replace", "cut", "none"])
        if action in {"grow", "cut"}:
            for ident in rng.sample(sorted(goose.totals), 4):
                inp, out = goose.totals[ident]
                goose.put(ident, (inp + rng.randint(1, 500), out + rng.randint(0, 50)))
        elif action == "new":
            goose.put(f"n{step}", (rng.randint(1, 9000), rng.randint(1, 90)))
        elif action == "vacuum":
            goose.conn.execute("VACUUM")
        elif action == "replace":  # a copy with every session grown, moved into place
            goose.conn.close()
            copy = tmp_path / "copy.db"
            copy.unlink(missing_ok=True)
            with sqlite3.connect(goose.db) as conn:
                conn.execute("VACUUM INTO ?", (str(copy),))
            conn.close()
            with sqlite3.connect(copy) as other:
                other.execute("UPDATE sessions SET accumulated_input_tokens = "
                              "accumulated_input_tokens + 1, updated_at = ?",
                              (goose.tick(),))  # fmt: skip
            other.close()
            for wal in ("-wal", "-shm"):
                Path(f"{goose.db}{wal}").unlink(missing_ok=True)
            copy.replace(goose.db)
            goose.totals = {k: (i + 1, o) for k, (i, o) in goose.totals.items()}
            goose.conn = sqlite3.connect(goose.db)
        if action == "cut":
            goose.reader.read_new()
            goose.reader.save_state()
        goose.restart()
        assert goose.recorded() == goose.totals, f"step {step} ({action})"
    goose.conn.close()
    whole = GooseReader([goose.db], build_price_table(), lambda: NOW_NS)
    assert {str(r.session): (r.input_tokens, r.output_tokens) for r in whole.read_new()} == (
        goose.totals
    )


def test_hermes_keeps_its_sessions_in_parts_too(tmp_path: Path) -> None:
    db = tmp_path / "home" / "state.db"
    conn = hermes_db(db)
    for i in range(300):
        hermes_put(conn, f"h{i}", SONNET, "anthropic", 1.76e9, (10 + i, 5, 0, 0, 0))
    history = HistoryStore(tmp_path / "history.sqlite3")

    def inputs() -> int:
        reader = HermesReader([db], build_price_table(), lambda: NOW_NS)
        source = PartsSource("hermes", "Hermes Agent", reader, [db.parent], history,
                             lambda: NOW_NS, watch=False)  # fmt: skip
        source.poll()
        return sum(r.input_tokens for r in source.records(0, 2**62))

    assert inputs() == sum(10 + i for i in range(300))
    hermes_put(conn, "h7", SONNET, "anthropic", 1.76e9, (1000, 5, 0, 0, 0))
    assert inputs() == sum(10 + i for i in range(300)) + 1000 - 17
    state = history.get_meta(f"{RESUME_STATE_PREFIX}hermes")
    assert state is not None and '"v":2' in state and '"h7"' not in state
    conn.close()
