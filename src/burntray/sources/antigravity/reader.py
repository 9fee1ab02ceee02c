"""Antigravity's own conversation databases: every model response's tokens.

Where (per data folder, see ``.paths``): ``conversations/<conversation-id>.db``, one SQLite
database per conversation. Its ``gen_metadata`` table holds one protobuf blob per model
response (``idx``, ``data``); ``trajectory_metadata_blob`` holds when the conversation was
created (field 2: seconds, nanos). In a response's blob, field 1 is the chat model message:
its field 4 the usage (2 input, 4 cache writes, 5 cache reads, 9 thinking, 10 output, 11 the
response id), its field 19 the model's label, its field 9 the generation (its field 4 when, as
seconds and nanos). Its ``steps`` table holds the conversation's steps (``idx``, ``metadata``):
a step that is a model call carries the same usage message in field 9 of its metadata, its time
in field 8 (else 1).

burntray's records, as ccusage 20.0.24 counts them: input, cache reads and cache writes as
recorded, output = output + thinking; the response's time, else the conversation's creation
time; a response id met twice counts once, in the conversation read first (a conversation
copied or branched repeats its responses), each count at its largest where the copies differ
(a step repeats its response's usage): the key is the response id, else the conversation and
row; a response with no tokens is none. The model is the label (a response without one keeps
the conversation's last label, a step takes the last; "unknown" before any): priced from
the table by it, an unknown model unpriced, never $0. A blob that is not protobuf is skipped and
counted, the rest of the conversation still counts.

Live and bounded: a conversation's database is read only when its files changed (also across
restarts: what each was when read is the resume state), read-only, never a file made beside it;
a blob over 4 MiB is skipped.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec import Struct

from burntray.io.sqlite_ro import Signature, signature
from burntray.model.pricing import PriceTable
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.databases import DatabaseReader, Row
from burntray.sources.agent_logs.stores import dump_state, load_state_parts
from burntray.sources.agent_logs.values import ModelPrices
from burntray.sources.antigravity.protobuf import Malformed, fields, message, number, string

if TYPE_CHECKING:
    from burntray.sources.agent_logs.stores import StoreReader

WHAT = "Antigravity conversation database"
MAX_BLOB_BYTES = 4 * 1024 * 1024
CREATED, GEN, STEPS = "trajectory_metadata_blob", "gen_metadata", "steps"
_COUNTS = (2, 4, 5, 9, 10)  # usage fields: input, cache writes, cache reads, thinking, output


def _when_ms(stamp: dict[int, int | bytes] | None) -> int:
    if stamp is None:
        return 0
    return number(stamp, 1) * 1000 + number(stamp, 2) // 1_000_000


class _Response(Struct):
    where: str  # where it was first met
    when_ms: int  # its own time (0: none)
    model: str
    counts: list[int]  # as _COUNTS


class AntigravityReader(DatabaseReader):
    """Reads the changed conversations of every Antigravity data folder."""

    what = WHAT

    def __init__(self, folders: Iterable[Path], prices: PriceTable) -> None:
        super().__init__(prices)
        self.data_dirs = [Path(f) for f in folders]
        self._prices = ModelPrices(prices)
        self.missing = ""
        self.files_seen = 0
        self._owner: dict[str, str] = {}  # response id -> the conversation it counts in

    def folders(self) -> list[str]:
        return [str(d / "conversations") for d in self.data_dirs if (d / "conversations").is_dir()]

    def read_new(self, active_since_ns: int | None = None) -> list[UsageRecord]:
        out: list[UsageRecord] = []
        seen, present = 0, set[str]()
        folders = self.folders()
        for folder in folders:
            try:
                found = conversations(Path(folder))
            except OSError as exc:
                self._db_problems[folder] = f"cannot list {folder}: {exc.strerror or exc}"
                continue
            for db, sig in found:
                seen += 1
                present.add(str(db))
                self.read_database(db, out, sig)
        self.forget_marks_but(present)
        self.files_seen = seen
        self.missing = (
            ""
            if folders
            else "no Antigravity conversations folder in " + (", ".join(map(str, self.data_dirs)))
        )
        return out

    def query(self, conn: sqlite3.Connection, name: str) -> list[Row]:
        """(table, idx, blob) rows: the creation time first, then every response, then every
        step with metadata (a database without the ``steps`` table has none)."""
        blob = "CASE WHEN length({0}) > ? THEN NULL ELSE {0} END"
        conn.execute("BEGIN")
        try:
            listed = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            tables = {row[0] for row in listed}
            rows: list[Row] = []
            if CREATED in tables:
                created = conn.execute(
                    f"SELECT {blob.format('data')} FROM {CREATED} ORDER BY rowid LIMIT 1",  # noqa: S608
                    (MAX_BLOB_BYTES,),
                ).fetchone()
                if created is not None:
                    rows.append((CREATED, 0, created[0]))
            rows += conn.execute(
                f"SELECT '{GEN}', idx, {blob.format('data')} FROM {GEN} ORDER BY idx",  # noqa: S608
                (MAX_BLOB_BYTES,),
            ).fetchall()
            if STEPS in tables:
                rows += conn.execute(
                    f"SELECT '{STEPS}', idx, {blob.format('metadata')} FROM {STEPS} "  # noqa: S608
                    "WHERE metadata IS NOT NULL ORDER BY idx",
                    (MAX_BLOB_BYTES,),
                ).fetchall()
        finally:
            conn.execute("COMMIT")
        return rows

    def use(self, db: Path, rows: list[Row], out: list[UsageRecord]) -> None:
        conversation, created_ms, label = db.stem, 0, ""
        found: dict[str, _Response] = {}  # by key, in the order first met
        for table, idx, data in rows:
            where = f"{db} {table} {idx}"
            if not isinstance(data, bytes):
                if table != CREATED:
                    self.bad(where, "no blob, or over the size cap")
                continue
            try:
                top = fields(data)
                if table == CREATED:
                    created_ms = _when_ms(message(top, 2))
                    continue
                if table == STEPS:
                    usage = message(top, 9)
                    if usage is None:
                        continue  # a step that is no model call
                    when_ms = _when_ms(message(top, 8) or message(top, 1))
                    model = label
                else:
                    chat = message(top, 1)
                    usage = message(chat, 4) if chat is not None else None
                    if chat is None or usage is None:
                        raise Malformed("no chat model usage (fields 1.4)")
                    generation = message(chat, 9)
                    when_ms = _when_ms(message(generation, 4) if generation is not None else None)
                    model = label = string(chat, 19) or label
            except Malformed as exc:
                self.bad(where, str(exc))
                continue
            counts = [number(usage, n) for n in _COUNTS]
            if not any(counts):
                continue
            response = string(usage, 11)
            if response:
                if self._owner.setdefault(response, conversation) != conversation:
                    continue  # another conversation holds it: counted there
                key = f"ag:{response}"
            else:
                key = f"ag:{conversation}:{idx}" if table == GEN else f"ag:{conversation}:s{idx}"
            seen = found.get(key)
            if seen is None:
                found[key] = _Response(where, when_ms, model or "unknown", counts)
            else:  # the same response again (a copy, or its step): each count at its largest
                seen.counts = [max(a, b) for a, b in zip(seen.counts, counts, strict=True)]
                seen.when_ms = seen.when_ms or when_ms
        for key, r in found.items():
            when_ms = r.when_ms or created_ms
            if when_ms <= 0:
                self.bad(r.where, "no time, and the conversation's creation time is missing")
                continue
            inp, write, read, thinking, output = r.counts
            output += thinking
            out.append(UsageRecord(
                when_ms * 1_000_000, "", r.model, inp, output, read, write,
                self._prices.cost(r.model, inp, output, read, write), key, conversation, "",
            ))  # fmt: skip

    def save_state(self) -> str:
        return dump_state(read=self.read_marks())

    def load_state(self, text: str) -> None:
        """The conversations read, as they were then: a new process reads only those changed
        since. (Which conversation holds a response copied into two is not kept: a changed
        copy may take it over, under the same key, so it still counts once.)"""
        self.load_read_marks(load_state_parts(text).get("read"))

    def reset(self) -> None:
        self.forget_reads()
        self._owner = {}


def _stat_key(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def conversations(folder: Path) -> list[tuple[Path, Signature]]:
    """The conversation databases in ``folder`` (regular files named ``*.db``), sorted, each
    with what ``io.sqlite_ro.signature`` gives for it, from one listing of the folder: a stat
    of the database and of the side files the listing shows (a warm pass over 500 unchanged
    conversations made a realpath and four stats of each). A database that is a symlink keeps
    ``signature`` (its side files are beside its target)."""
    with os.scandir(folder) as listing:
        entries = {e.name: e for e in listing}
    found: list[tuple[Path, Signature]] = []
    for name in sorted(entries):
        entry = entries[name]
        if not name.endswith(".db"):
            continue
        try:
            if not entry.is_file():
                continue
            linked = entry.is_symlink()
        except OSError:
            continue
        path = folder / name
        if linked:
            found.append((path, signature(path)))
            continue
        wal, shm, journal = (
            _stat_key(entries[n].path) if n in entries else None
            for n in (name + "-wal", name + "-shm", name + "-journal")
        )
        found.append((path, (_stat_key(entry.path), wal, shm[:1] if shm else None, journal)))
    return found


def _is_a_store_reader(reader: AntigravityReader) -> StoreReader:
    return reader  # mypy: it is what StoreSource asks (its "module:Class" is built untyped)
