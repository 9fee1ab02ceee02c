"""The history's background WAL checkpointer: the WAL stays bounded under a continuous writer,
is emptied once the writes pause and at close, readers keep their snapshot, and short commands
start no thread.

Real SQLite files in the test's tmp dir and the real thread; every wait is on a condition with a
deadline (no timing asserts). Small bounds (tens of kB) stand in for the real 16 MB.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from burntray.store.history import CHECKPOINTER_THREAD, HistoryStore

HARD = 128 * 1024
ROW = "x" * 4000  # a commit of one row: a page or two of WAL


def wal_size(db: Path) -> int:
    wal = db.with_name(db.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def checkpointer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == CHECKPOINTER_THREAD]


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds:.0f} s: {what}"
        time.sleep(0.01)


def write(store: HistoryStore, first: int, n: int, seen: list[int] | None = None) -> None:
    for i in range(first, first + n):
        store.set_meta(f"row{i}", ROW)
        if seen is not None:
            seen.append(wal_size(store.path))


def test_the_wal_stays_bounded_under_a_continuous_writer(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    store = HistoryStore(db)
    # the thread is slow on purpose (a starved thread): the bound must hold all the same
    assert store.start_checkpointer(tick_s=0.5, idle_s=60, wal_hard_bytes=HARD)
    sizes: list[int] = []
    try:
        write(store, 0, 1500, sizes)  # ~6 MB through the WAL, 45x the bound
        # past twice the bound the writer truncates it itself; one commit may go over
        assert max(sizes) <= 2 * HARD + 4 * 4096, max(sizes)
        rows = store.execute("SELECT count(*) FROM meta WHERE key LIKE 'row%'")
        assert rows == [(1500,)]
    finally:
        store.close()
    # without the checkpointer SQLite lets the same writes grow the WAL to ~4 MB
    plain = HistoryStore(tmp_path / "plain.sqlite3")
    plain_sizes: list[int] = []
    write(plain, 0, 1500, plain_sizes)
    plain.close()
    assert max(plain_sizes) > 8 * HARD


def test_commits_leave_the_checkpoints_to_the_thread(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    store = HistoryStore(db)
    # a thread that does not come round during the writes, and a bound far away
    store.start_checkpointer(tick_s=3600, idle_s=3600, wal_hard_bytes=64 * 1024 * 1024)
    try:
        write(store, 0, 1200)  # ~2,400 pages: SQLite's writer would checkpoint at 1,000
        # no commit paid for a checkpoint: every frame is still in the WAL
        assert wal_size(db) > 2000 * 4096
    finally:
        store.close()  # and the thread, woken, still stops at once
    assert wal_size(db) == 0


def test_the_wal_is_truncated_once_the_writes_pause(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    store = HistoryStore(db)
    store.start_checkpointer(tick_s=0.02, idle_s=0.1, wal_hard_bytes=HARD)
    try:
        write(store, 0, 50)
        wait_for(lambda: wal_size(db) == 0, "the WAL truncated while idle")
        write(store, 50, 5)  # and it goes on: the next writes land and are truncated again
        wait_for(lambda: wal_size(db) == 0, "the WAL truncated again")
        assert store.execute("SELECT count(*) FROM meta WHERE key LIKE 'row%'") == [(55,)]
    finally:
        store.close()


def test_close_stops_the_checkpointer_after_a_last_checkpoint(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    store = HistoryStore(db)
    before = len(checkpointer_threads())
    assert store.start_checkpointer(tick_s=0.02, idle_s=3600, wal_hard_bytes=64 * 1024 * 1024)
    assert not store.start_checkpointer()  # once per store
    assert store.checkpointer_running and len(checkpointer_threads()) == before + 1
    # another connection stays open, so SQLite's own checkpoint-at-last-close cannot run:
    # an empty WAL after close is the checkpointer's last checkpoint
    other = sqlite3.connect(db)
    try:
        write(store, 0, 100)
        assert wal_size(db) > 0
        store.close()
        assert len(checkpointer_threads()) == before
        assert not store.checkpointer_running
        assert wal_size(db) == 0
        assert other.execute("SELECT count(*) FROM meta WHERE key LIKE 'row%'").fetchall() == [
            (100,)
        ]
    finally:
        other.close()


def test_a_short_command_starts_no_thread_and_keeps_sqlites_checkpoints(tmp_path: Path) -> None:
    before = len(checkpointer_threads())
    store = HistoryStore(tmp_path / "h.sqlite3")
    write(store, 0, 10)
    assert len(checkpointer_threads()) == before and not store.checkpointer_running
    assert store.execute("PRAGMA wal_autocheckpoint") == [(1000,)]
    store.close()
    memory = HistoryStore(Path(":memory:"))
    assert not memory.start_checkpointer()  # nothing to checkpoint
    memory.close()


def test_a_reader_keeps_its_snapshot_and_the_wal_comes_down_after(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    store = HistoryStore(db)
    store.start_checkpointer(tick_s=0.02, idle_s=0.1, wal_hard_bytes=HARD)
    reader = sqlite3.connect(db, isolation_level=None)
    try:
        write(store, 0, 10)
        reader.execute("BEGIN")
        count = "SELECT count(*) FROM meta WHERE key LIKE 'row%'"
        assert reader.execute(count).fetchall() == [(10,)]
        write(store, 10, 400)  # the WAL cannot be reset under the reader: it grows
        assert reader.execute(count).fetchall() == [(10,)]  # its snapshot, unchanged
        assert wal_size(db) > 2 * HARD
        reader.execute("COMMIT")
        assert reader.execute(count).fetchall() == [(410,)]
        wait_for(lambda: wal_size(db) == 0, "the WAL truncated once the reader let go")
    finally:
        reader.close()
        store.close()
