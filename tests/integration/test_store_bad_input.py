"""Bad input for the SQLite stores (roder, ctm): every case gives a named status, no exception,
and nothing in the tool's folder changes (checksums and listing before and after)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from burntray.io.sqlite_ro import RETRY_NS
from burntray.model.pricing import build_price_table
from burntray.sources.ctm.source import CtmSource
from burntray.sources.roder.source import RoderSource
from tests.store_writers import CTM_SCHEMA, RODER_SCHEMA_V1, WriterProcess

NOW_NS = 1_790_000_000_000 * 1_000_000
HOUR_NS = 3600 * 10**9


def roder(path: Path) -> Any:
    return RoderSource(path, build_price_table(), clock_ns=lambda: NOW_NS)


def ctm(path: Path) -> Any:
    return CtmSource(path, clock_ns=lambda: NOW_NS)


KINDS: dict[str, tuple[Callable[[Path], Any], str, str]] = {
    # kind: (build, file name, main table)
    "roder": (roder, "usage.sqlite3", "token_usage"),
    "ctm": (ctm, "ctm.db", "cost_points"),
}


def folder_state(folder: Path) -> dict[str, str]:
    out = {}
    for p in sorted(folder.iterdir()):
        out[p.name] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir/other"
    return out


def read_status(source: Any) -> Any:
    """poll and snapshot as the monitor would; neither may raise."""
    source.poll()
    snap = source.snapshot(HOUR_NS, NOW_NS)
    assert snap.status == source.status
    return snap


def schema_db(kind: str, path: Path, wal: bool = True) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(RODER_SCHEMA_V1 if kind == "roder" else CTM_SCHEMA)
    if kind == "roder":
        conn.execute(
            "CREATE TABLE analytics_schema_migrations (version INTEGER PRIMARY KEY,"
            " applied_at_ms INTEGER NOT NULL)"
        )
        conn.execute("INSERT INTO analytics_schema_migrations VALUES (1, 0)")
    conn.close()


@pytest.fixture(params=sorted(KINDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Path]:
    folder = tmp_path / f"{request.param}-folder"
    folder.mkdir()
    return request.param, folder / KINDS[request.param][1]


def test_missing_database_is_empty_not_an_error(store: tuple[str, Path]) -> None:
    kind, path = store
    snap = read_status(KINDS[kind][0](path))
    assert snap.status.state == "empty"
    assert str(path) in snap.status.detail and "does not exist" in snap.status.detail
    assert snap.totals.reqs == 0
    assert list(path.parent.iterdir()) == []


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("directory", "is a directory"),
        ("fifo", "FIFO"),
        ("garbage", "not a SQLite database"),
        ("truncated", "not a SQLite database"),
        ("damaged", "corrupt"),
        ("no_table", "table"),
    ],
)
def test_unreadable_database_names_the_problem(
    store: tuple[str, Path], case: str, expected: str
) -> None:
    kind, path = store
    if case == "directory":
        path.mkdir()
    elif case == "fifo":
        os.mkfifo(path)
    elif case == "garbage":
        path.write_bytes(os.urandom(8192))
    elif case == "truncated":
        path.write_bytes(b"SQLite format 3\x00" + b"\x00" * 20)
    elif case == "damaged":
        schema_db(kind, path, wal=False)
        data = bytearray(path.read_bytes())
        data[100:] = os.urandom(len(data) - 100)  # header intact, every page garbage
        path.write_bytes(bytes(data))
    elif case == "no_table":
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE something_else (x)")
        conn.commit()
        conn.close()
    before = folder_state(path.parent)
    snap = read_status(KINDS[kind][0](path))
    assert snap.status.state == "error", snap.status
    assert expected in snap.status.detail, snap.status.detail
    assert str(path) in snap.status.detail
    assert snap.totals.reqs == 0
    assert folder_state(path.parent) == before


def test_newer_schema_is_named_and_still_read(store: tuple[str, Path]) -> None:
    kind, path = store
    schema_db(kind, path, wal=False)
    conn = sqlite3.connect(path, isolation_level=None)
    if kind == "roder":
        conn.execute("INSERT INTO analytics_schema_migrations VALUES (2, 0)")
    else:
        conn.execute("UPDATE schema_meta SET value = '3' WHERE key = 'version'")
    conn.close()
    before = folder_state(path.parent)
    snap = read_status(KINDS[kind][0](path))
    assert snap.status.state == "ok"
    assert "newer than this burntray knows" in snap.status.detail
    assert folder_state(path.parent) == before


def test_locked_rollback_journal_database(store: tuple[str, Path]) -> None:
    """A writer holding an exclusive lock on a rollback-journal database: "locked", no wait
    beyond a few ms, and the writer is not disturbed (it commits afterwards)."""
    kind, path = store
    schema_db(kind, path, wal=False)
    with WriterProcess("plain", path) as writer:
        writer.send(op="sql", sql="BEGIN EXCLUSIVE")
        writer.send(op="sql", sql=f"DELETE FROM {KINDS[kind][2]}")
        snap = read_status(KINDS[kind][0](path))
        assert snap.status.state == "error"
        assert "locked by a writer" in snap.status.detail
        writer.send(op="sql", sql="COMMIT")  # the writer goes on as if nobody had looked
        source = KINDS[kind][0](path)
        assert read_status(source).status.state == "ok"


def test_wal_writer_holding_a_write_transaction_is_not_disturbed(
    store: tuple[str, Path],
) -> None:
    """In WAL mode a writer's open transaction blocks nobody: burntray reads the last commit,
    and the writer commits afterwards without an error."""
    kind, path = store
    with WriterProcess(kind, path) as writer:
        if kind == "roder":
            writer.send(
                op="turn",
                thread="a",
                turn="1",
                recorded_ms=NOW_NS // 10**6 - 5,
                provider="openai",
                model="gpt-5",
                usage={"prompt": 10, "completion": 5},
            )
        else:
            writer.send(op="point", ts_ms=NOW_NS // 10**6 - 5, session="s", input=10, output=5)
        writer.send(op="hold")
        source = KINDS[kind][0](path)
        snap = read_status(source)
        assert snap.status.state == "ok", snap.status
        assert snap.totals.reqs == 1  # the uncommitted row is not seen
        writer.send(op="release")
        writer.send(op="sql", sql="BEGIN IMMEDIATE")
        writer.send(op="sql", sql="COMMIT")


def test_writer_committing_while_burntray_reads(store: tuple[str, Path]) -> None:
    """A writer commits hundreds of rows while burntray polls and snapshots as fast as it can:
    every commit succeeds (burntray never holds a lock or a transaction that would make the
    writer wait past its own busy timeout), and the final figures count every row once."""
    kind, path = store
    base_ms = NOW_NS // 10**6 - 3_000_000
    with WriterProcess(kind, path) as writer:
        if kind == "roder":
            writer.send(
                op="turn",
                thread="t",
                turn="first",
                recorded_ms=base_ms,
                provider="openai",
                model="gpt-5",
                usage={"prompt": 1, "completion": 1},
            )
            batch = [
                {
                    "thread": "t",
                    "turn": f"u{i}",
                    "recorded_ms": base_ms + i,
                    "provider": "openai",
                    "model": "gpt-5",
                    "usage": {"prompt": 10 + i, "completion": 5},
                }
                for i in range(1, 601)
            ]
            writer.start(op="turns", turns=batch)
        else:
            writer.send(op="point", ts_ms=base_ms, session="s", input=1, output=1)
            batch = [
                {"ts_ms": base_ms + i, "session": f"s{i % 3}", "input": 10 * i, "output": i}
                for i in range(1, 601)
            ]
            writer.start(op="points", points=batch)
        source = KINDS[kind][0](path)
        reads = 0
        while writer.proc.poll() is None and reads < 5000:
            source.poll()
            source.snapshot(HOUR_NS, NOW_NS)
            reads += 1
            if reads % 50 == 0 and _answered(writer):
                break
        writer.wait("the batch")  # "ok": no commit failed
    source.poll()
    snap = source.snapshot(HOUR_NS, NOW_NS)
    assert snap.status.state == "ok", snap.status
    if kind == "roder":
        assert snap.totals.reqs == 601
        assert snap.totals.output_tokens == 1 + 600 * 5
    else:
        # per session the increase since its first row: s0, s1, s2 (s starts at zero)
        assert snap.totals.input_tokens == 1 + 10 * (600 + 599 + 598)
    assert reads > 0


def _answered(writer: WriterProcess) -> bool:
    import selectors

    assert writer.proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(writer.proc.stdout, selectors.EVENT_READ)
        return bool(sel.select(0))


def test_a_lock_released_without_a_write_is_noticed(store: tuple[str, Path]) -> None:
    """A lock taken and given back with nothing written leaves every file as it was: the error
    is looked at again after a few seconds all the same."""
    kind, path = store
    schema_db(kind, path, wal=False)
    clock = [NOW_NS]
    build = KINDS[kind][0]
    with WriterProcess("plain", path) as writer:
        writer.send(op="sql", sql="BEGIN EXCLUSIVE")
        source = build(path)
        source._clock_ns = lambda: clock[0]
        source.poll()
        assert source.status.state == "error" and "locked" in source.status.detail
        writer.send(op="sql", sql="COMMIT")
        assert not source.poll()  # nothing changed on disk, too soon to look again
        clock[0] += RETRY_NS
        assert source.poll()
        assert source.status.state == "ok", source.status
