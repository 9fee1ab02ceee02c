"""Antigravity's conversations folder, listed once per pass: each database with what
``io.sqlite_ro.signature`` gives for it, so an unchanged conversation costs a stat."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from burntray.io.sqlite_ro import signature
from burntray.sources.antigravity.reader import conversations


def _db(path: Path, *, wal: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE gen_metadata (idx INTEGER, data BLOB, size INTEGER)")
    conn.commit()
    return conn


def test_the_listing_gives_each_database_its_signature(tmp_path: Path) -> None:
    folder = tmp_path / "conversations"
    folder.mkdir()
    _db(folder / "b-plain.db").close()
    held = _db(folder / "a-wal.db", wal=True)  # held open: its -wal and -shm are there
    held.execute("INSERT INTO gen_metadata VALUES (1, x'00', 1)")
    held.commit()
    (folder / "c-journal.db").write_bytes(b"")
    (folder / "c-journal.db-journal").write_bytes(b"hot")
    (folder / "d-folder.db").mkdir()  # not a database file: left out
    (folder / "notes.txt").write_text("x")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    held_there = _db(elsewhere / "real.db", wal=True)  # its side files beside the target
    held_there.execute("INSERT INTO gen_metadata VALUES (1, x'00', 1)")
    held_there.commit()
    (folder / "e-link.db").symlink_to(elsewhere / "real.db")
    (folder / "f-dangling.db").symlink_to(tmp_path / "gone.db")

    found = conversations(folder)
    names = ["a-wal.db", "b-plain.db", "c-journal.db", "e-link.db"]
    assert [p.name for p, _ in found] == names
    assert [sig for _, sig in found] == [signature(folder / n) for n in names]
    assert found[0][1][1] is not None and found[3][1][1] is not None  # the -wal of each
    assert found[2][1][3] is not None  # the journal
    held.close()
    held_there.close()
