"""Antigravity's own conversation databases: every model response's tokens.

Where (per data folder, see ``.paths``): ``conversations/<conversation-id>.db``, one SQLite
database per conversation. Its ``gen_metadata`` table holds one protobuf blob per model
response (``idx``, ``data``); ``trajectory_metadata_blob`` holds when the conversation was
created (field 2: seconds, nanos). In a response's blob, field 1 is the chat model message:
its field 4 the usage (2 input, 4 cache writes, 5 cache reads, 9 thinking, 10 output, 11 the
response id), its field 19 the model's label, its field 9 the generation (its field 4 when, as
seconds and nanos).

burntray's records, as ccusage 20.0.24 counts them: input, cache reads and cache writes as
recorded, output = output + thinking; the response's time, else the conversation's creation
time; a response id met twice counts once, in the conversation read first (a conversation
copied or branched repeats its responses): the key is the response id, else the conversation
and row; a response with no tokens is none. The model is the label (a
response without one keeps the conversation's last label; "unknown" before any): priced from
the table by it, an unknown model unpriced, never $0. A blob that is not protobuf is skipped and
counted, the rest of the conversation still counts.

Live and bounded: a conversation's database is read only when its files changed, read-only,
never a file made beside it; a blob over 4 MiB is skipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from burntray.model.pricing import PriceTable
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.databases import DatabaseReader, Row
from burntray.sources.agent_logs.stores import dump_state
from burntray.sources.agent_logs.values import ModelPrices
from burntray.sources.antigravity.protobuf import Malformed, fields, message, number, string

if TYPE_CHECKING:
    from burntray.sources.agent_logs.stores import StoreReader

WHAT = "Antigravity conversation database"
MAX_BLOB_BYTES = 4 * 1024 * 1024
CREATED = -1  # the row that carries the conversation's creation time


def _when_ms(stamp: dict[int, int | bytes] | None) -> int:
    if stamp is None:
        return 0
    return number(stamp, 1) * 1000 + number(stamp, 2) // 1_000_000


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
        seen = 0
        for folder in self.folders():
            try:
                found = sorted(p for p in Path(folder).glob("*.db") if p.is_file())
            except OSError as exc:
                self._db_problems[folder] = f"cannot list {folder}: {exc.strerror or exc}"
                continue
            for db in found:
                seen += 1
                self.read_database(db, out)
        self.files_seen = seen
        self.missing = (
            ""
            if self.folders()
            else "no Antigravity conversations folder in " + (", ".join(map(str, self.data_dirs)))
        )
        return out

    def query(self, conn: sqlite3.Connection, name: str) -> list[Row]:
        blob = "CASE WHEN length(data) > ? THEN NULL ELSE data END"
        conn.execute("BEGIN")
        try:
            rows: list[Row] = conn.execute(
                f"SELECT idx, {blob} FROM gen_metadata ORDER BY idx",  # noqa: S608
                (MAX_BLOB_BYTES,),
            ).fetchall()
            has_created = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' "
                "AND name = 'trajectory_metadata_blob'"
            ).fetchone()
            if has_created:
                created = conn.execute(
                    f"SELECT {blob} FROM trajectory_metadata_blob ORDER BY rowid LIMIT 1",  # noqa: S608
                    (MAX_BLOB_BYTES,),
                ).fetchone()
                if created is not None:
                    rows.insert(0, (CREATED, created[0]))
        finally:
            conn.execute("COMMIT")
        return rows

    def use(self, db: Path, rows: list[Row], out: list[UsageRecord]) -> None:
        conversation, created_ms, label, ids = db.stem, 0, "", set[str]()
        for idx, data in rows:
            where = f"{db} gen_metadata {idx}"
            if not isinstance(data, bytes):
                if idx != CREATED:
                    self.bad(where, "no blob, or over the size cap")
                continue
            try:
                top = fields(data)
                if idx == CREATED:
                    created_ms = _when_ms(message(top, 2))
                    continue
                chat = message(top, 1)
                usage = message(chat, 4) if chat is not None else None
                if chat is None or usage is None:
                    raise Malformed("no chat model usage (fields 1.4)")
                generation = message(chat, 9)
                when_ms = _when_ms(message(generation, 4) if generation is not None else None)
            except Malformed as exc:
                self.bad(where, str(exc))
                continue
            label = string(chat, 19) or label
            inp, write, read = number(usage, 2), number(usage, 4), number(usage, 5)
            output = number(usage, 10) + number(usage, 9)
            response = string(usage, 11)
            if not (inp or write or read or output) or (response and response in ids):
                continue
            if response:
                ids.add(response)
                if self._owner.setdefault(response, conversation) != conversation:
                    continue  # another conversation holds it: counted there
            when_ms = when_ms or created_ms
            if when_ms <= 0:
                self.bad(where, "no time, and the conversation's creation time is missing")
                continue
            model = label or "unknown"
            out.append(UsageRecord(
                when_ms * 1_000_000, "", model, inp, output, read, write,
                self._prices.cost(model, inp, output, read, write),
                f"ag:{response}" if response else f"ag:{conversation}:{idx}", conversation, "",
            ))  # fmt: skip

    def save_state(self) -> str:
        return dump_state()

    def load_state(self, text: str) -> None:
        """Nothing to resume: every conversation is read again once (keys replace)."""

    def reset(self) -> None:
        self.forget_reads()
        self._owner = {}


def _is_a_store_reader(reader: AntigravityReader) -> StoreReader:
    return reader  # mypy: it is what StoreSource asks (its "module:Class" is built untyped)
