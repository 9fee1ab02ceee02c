"""The readers an agent that keeps a SQLite database subclasses (OpenCode, Kilo, Goose, Hermes).

``DatabaseReader`` is what reading any of them takes: a database is read only when its files
changed (``io.sqlite_ro.signature``), read-only and never a file made beside it
(``open_readonly``), its rows taken in one short query; a database that cannot be opened or
queried is named (``unreadable``) with the reason and tried again next pass, a row that cannot
be used is counted as skipped with its place; neither stops the others. A subclass gives
``query`` (the rows) and ``use`` (rows to records).

``SessionTotalsReader`` is the one for agents that keep no per-request usage, only each
session's running totals in a ``sessions`` table (Goose, Hermes): the first time a session is
seen, its totals are one record at its start; each later growth is a record of the difference,
at the row's update time where the table has one, else when it was read. The totals seen are
kept in parts (``.state_parts``: 64 buckets by a crc32 of the session key), so a restart
records only what was added meanwhile, and a pass reads and writes back only the buckets of the
sessions it is handed; the resume state is their index (with the marks and digests below). A
state of the former layout (one document) is taken into parts as it is; a lost or malformed
part makes the source read whole, as after a cleared history. A subclass gives the table's
columns and ``row`` (a row to its key, start, totals and the rest).

Only what can have changed is read (see ``BlockDigests``): with the totals, the resume state
keeps what each database was when read (its files' signature: an unchanged database costs its
``stat`` calls) and, per block of 256 rows, a digest SQLite works out over the rows' totals; a
changed database hands Python only the rows of the blocks whose digest moved and the rows that
were not recorded yet (no model, no time, nothing used: they may be filled in later).
"""

from __future__ import annotations

import functools
import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import msgspec

from burntray.io.sqlite_ro import StoreProblem, describe_error, open_readonly, signature
from burntray.sources.agent_logs.blocks import BlockDigests
from burntray.sources.agent_logs.state_parts import Parts, bucket
from burntray.sources.agent_logs.stores import dump_state, load_state_parts
from burntray.sources.agent_logs.values import ProviderPrices, blank

if TYPE_CHECKING:
    from burntray.model.pricing import PriceTable
    from burntray.model.usage import UsageRecord
    from burntray.sources.agent_logs.stores import StoreReader

Row = tuple[object, ...]
Part = tuple[str, dict[str, list[int]]]  # a bucket's name and its sessions' totals
MAX_REASON = 300
PARTED = 2  # the layout of a state that is an index of parts (its "v")


class _Index(msgspec.Struct, gc=False):
    """The resume state: what each database was when read, its block digests, the version of
    each part of the sessions' totals."""

    v: int = 0
    read: dict[str, Any] | None = None
    blocks: Any = None  # checked by BlockDigests.load
    parts: dict[str, int] = {}


_INDEX = msgspec.json.Decoder(_Index)


class DatabaseReader:
    """Reads the agent's SQLite databases when they changed."""

    what: ClassVar[str] = "database"  # for people: "Goose session database"

    def __init__(self, prices: PriceTable) -> None:
        self.prices = prices
        self._signatures: dict[str, object] = {}
        self._db_problems: dict[str, str] = {}
        self._bad_rows = 0
        self._first_bad_row = ""
        self._progress = 0

    def query(self, conn: sqlite3.Connection, name: str) -> list[Row]:
        """The rows to look at (raise ``sqlite3.Error`` when the schema is not the agent's)."""
        raise NotImplementedError

    def use(self, db: Path, rows: list[Row], out: list[UsageRecord]) -> None:
        """Append the records of the rows just read from ``db``."""
        raise NotImplementedError

    def read_database(self, db: Path, out: list[UsageRecord], sig: object = None) -> None:
        """Read ``db`` when its files changed since the last good read (or it failed then);
        ``sig``: its ``signature`` when the caller has it already (from a folder's listing)."""
        name = str(db)
        sig = signature(db) if sig is None else sig
        if self._signatures.get(name) == sig and name not in self._db_problems:
            return
        try:
            conn = open_readonly(db, self.what)
        except StoreProblem as exc:
            self._db_problems[name] = exc.detail
            return
        try:
            rows = self.query(conn, name)
        except sqlite3.Error as exc:
            self._db_problems[name] = describe_error(exc, db, self.what)
            return
        finally:
            conn.close()
        self._db_problems.pop(name, None)
        self._signatures[name] = sig
        self.use(db, rows, out)
        self._progress += 1

    def bad(self, where: str, why: str) -> None:
        """A row that could not be used: counted as skipped, the first one named."""
        self._bad_rows += 1
        if not self._first_bad_row:
            self._first_bad_row = f"{where}: {why}"[:MAX_REASON]

    @property
    def progress(self) -> int:
        return self._progress

    @property
    def malformed_lines(self) -> int:
        return self._bad_rows

    @property
    def first_malformed(self) -> str:
        return self._first_bad_row

    def unreadable(self) -> dict[str, str]:
        return dict(self._db_problems)

    def read_marks(self) -> dict[str, object]:
        """What each database was when last read well, for the resume state (a reader whose
        records of a database do not depend on the others' can skip the unchanged ones after a
        restart)."""
        return dict(self._signatures)

    def load_read_marks(self, marks: object) -> None:
        """Take back ``read_marks`` (anything else: every database is read again)."""
        if not isinstance(marks, dict):
            return
        loaded: dict[str, object] = {}
        for name, sig in marks.items():
            if isinstance(sig, list):
                # JSON made the signature's tuples lists: back to what ``signature`` returns
                loaded[name] = tuple(tuple(p) if isinstance(p, list) else p for p in sig)
        self._signatures = loaded

    def forget_marks_but(self, present: set[str]) -> None:
        """Forget what the databases no longer there were (the resume state stays as small as
        what is there)."""
        self._signatures = {k: v for k, v in self._signatures.items() if k in present}

    def forget_reads(self) -> None:
        """Read every database again next pass, skipped rows counted anew."""
        self._signatures = {}
        self._bad_rows = 0
        self._first_bad_row = ""
        self._progress += 1


class SessionTotalsReader(DatabaseReader):
    """Records what each session of a ``sessions`` table adds (see the module docstring)."""

    file_label: ClassVar[str] = "database"  # "Goose sessions.db": for "no ... at <path>"
    columns: ClassVar[tuple[str, ...]] = ()
    # what is read of each row, in ``row``'s order (SQL over ``columns``; none: the columns)
    selected: ClassVar[tuple[str, ...]] = ()
    later_columns: ClassVar[tuple[str, ...]] = ()  # the first the table has dates a growth
    required: ClassVar[str] = ""  # a column a session's row must have filled in
    width: ClassVar[int] = 0  # the totals kept per session
    counted: ClassVar[int] = 0  # how many of them (from the first) make a growth a record
    # what a session's totals are worked out from, as whole numbers in SQL (their digest tells
    # which rows may have changed, see ``.blocks``); none: a changed database is read whole
    digest_terms: ClassVar[tuple[str, ...]] = ()
    # a session id counts once over all the databases (the first holds it): which copy counts
    # depends on every database's ids, so a change reads them all whole
    ids_across_databases: ClassVar[bool] = False

    def __init__(
        self,
        databases: Iterable[Path],
        prices: PriceTable,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        super().__init__(prices)
        self.databases = [Path(d) for d in databases]
        self._prices = ProviderPrices(prices)
        self._clock_ns = clock_ns
        self._now = 0
        self.missing = ""
        self.files_seen = 0
        # per bucket of sessions: session key -> the totals recorded so far
        self.parts = Parts("", _part_decoder(self.width), whole_when_lost=True)
        self.seen: set[str] = set()  # sessions met in this pass (a copy in another db)
        self.blocks = BlockDigests(self.digest_terms)
        self._recorded = 0  # bumped by ``unchanged`` (True) and ``grew``: the row is recorded

    def row(self, db: str, row: Row, out: list[UsageRecord]) -> None:
        """Append what one session's row adds (through ``grew``)."""
        raise NotImplementedError

    def folders(self) -> list[str]:
        return [str(d.parent) for d in self.databases if d.parent.is_dir()]

    def read_new(self, active_since_ns: int | None = None) -> list[UsageRecord]:
        out: list[UsageRecord] = []
        present = [db for db in self.databases if db.exists()]
        self.seen = set()
        if self.ids_across_databases and len(present) > 1:
            marks = self._signatures
            if any(marks.get(str(db)) != signature(db) for db in present):
                self._signatures = {}  # one changed: every database read whole (see above)
                self.blocks.forget()
        for db in present:
            self.read_database(db, out)
        self.files_seen = len(present)
        self.missing = (
            "" if present else f"no {self.file_label} at " + ", ".join(map(str, self.databases))
        )
        return out

    def query(self, conn: sqlite3.Connection, name: str) -> list[Row]:
        """The rows that may have changed (all of them the first time), each with its ``later``
        column and its rowid last, read in one transaction with the blocks' digests."""
        conn.execute("BEGIN")
        try:
            have = {row[1] for row in conn.execute("PRAGMA table_info(sessions)")}
            missing = [c for c in self.columns if c not in have]
            if missing:
                raise sqlite3.OperationalError(f"no such column: {missing[0]}")
            later = next((c for c in self.later_columns if c in have), "NULL")
            if not self.parts.names():
                # no session recorded yet, so no growth to date: a first scan's 20,000 update
                # times were ~4 % of its fetch
                later = "NULL"
            # our own column names (checked above), never a value
            picked = ", ".join(self.selected or self.columns)
            select = f"SELECT {picked}, {later}, rowid FROM sessions"  # noqa: S608
            try:
                conn.execute(f"{select} LIMIT 0")
            except sqlite3.OperationalError:  # a table WITHOUT ROWID: read whole every time
                return conn.execute(select.replace(", rowid FROM", ", NULL FROM")).fetchall()
            return self.blocks.changed_rows(conn, name, select)
        finally:
            conn.execute("COMMIT")

    def use(self, db: Path, rows: list[Row], out: list[UsageRecord]) -> None:
        self._now = self._clock_ns()
        name = str(db)
        self.blocks.done(name, self.use_rows(name, rows, out))

    def use_rows(self, db: str, rows: list[Row], out: list[UsageRecord]) -> list[int]:
        """Append what the rows of ``db`` add, a row at a time (``row``); the rowids of those
        read but not recorded (read again next time). An agent may do it in one loop of its
        own, to the same effect."""
        pending: list[int] = []
        required = (self.selected or self.columns).index(self.required)
        for row in rows:
            recorded = self._recorded
            if not blank(row[required]):  # what SQLite's "trim(x) != ''" keeps
                self.row(db, row, out)
            if self._recorded == recorded and type(row[-1]) is int:
                pending.append(row[-1])
        return pending

    def part_of(self, key: str) -> Part:
        """The bucket of ``key`` and the totals recorded of the bucket's sessions: a row asks
        once, then ``grew`` records what it found."""
        name = bucket(key)
        return name, self.parts.get(name)

    def unchanged(self, part: Part, key: str, totals: list[int]) -> bool:
        """Whether the session is at the totals already recorded in its ``part`` (``grew``
        would add nothing: its model, time and price need not be worked out)."""
        if part[1].get(key) == totals:
            self._recorded += 1
            return True
        return False

    def grew(
        self, part: Part, key: str, totals: list[int], started_ns: int, later_ns: int | None
    ) -> tuple[str, int, list[int]] | None:
        """The record's key, time and counts for a session of ``part`` now at ``totals``: all
        of them at its start the first time, else what they grew by (None: nothing counted
        grew)."""
        name, sessions = part
        before = sessions.get(key)
        sessions[key] = totals
        self.parts.changed(name)
        self._recorded += 1
        if before is None:
            return key, started_ns, totals
        delta = [max(0, a - b) for a, b in zip(totals, before, strict=True)]
        if not any(delta[: self.counted or None]):
            return None
        at = later_ns or self._now
        return f"{key}:{at}", at, delta

    def save_state(self) -> str:
        """The index, once the parts that changed are written under their own keys (a reader
        given nowhere to keep parts, without a history: the whole state in one document)."""
        marks, blocks = self.read_marks(), self.blocks.saved()
        if self.parts.store is None:
            return dump_state(sessions=self.totals(), read=marks, blocks=blocks)
        return dump_state(v=PARTED, read=marks, blocks=blocks, parts=self.parts.save())

    def totals(self) -> dict[str, list[int]]:
        """Every session's totals recorded so far (all the parts read)."""
        return {k: v for name in self.parts.names() for k, v in self.parts.get(name).items()}

    def load_state(self, text: str) -> None:
        """The index (the parts it names are read when a session of theirs is met), else a
        state of the former layout, split into parts (a state without the totals, or with a
        part not of its shape: those databases are read whole)."""
        try:
            index = _INDEX.decode(text)
        except msgspec.DecodeError:
            index = None
        if index is not None and index.v == PARTED:
            self.parts.take(index.parts)
            self.load_read_marks(index.read)
            self.blocks.load(index.blocks)
            return
        sessions = self._take_former(text)
        if sessions is not None:
            split: dict[str, dict[str, list[int]]] = {}
            for key, totals in sessions.items():
                split.setdefault(bucket(key), {})[key] = totals
            self.parts.take({})
            self.parts.put_all(split)

    def _take_former(self, text: str) -> dict[str, list[int]] | None:
        """The totals of a one-document state (its marks and digests taken with them)."""
        try:  # straight to its types: a state of 20,000 sessions
            typed = _saved_sessions(self.width).decode(text)
        except msgspec.DecodeError:  # not JSON, or an entry of another shape: as before
            found = load_state_parts(text).get("sessions")
            return _session_totals(found, self.width) if isinstance(found, dict) else None
        if typed.sessions is None:
            return None
        # the marks only with the totals they were read into
        self.load_read_marks(typed.read)
        self.blocks.load(typed.blocks)
        sessions: dict[str, list[int]] = typed.sessions
        return sessions

    def forget_reads(self) -> None:
        super().forget_reads()
        self.blocks.forget()

    def reset(self) -> None:
        self.forget_reads()
        self.parts.reset()


@functools.cache
def _part_decoder(width: int) -> Any:
    """A decoder of one part: its version and ``{key: [width whole numbers]}``."""
    sized = Annotated[list[int], msgspec.Meta(min_length=width, max_length=width)]
    part = msgspec.defstruct("SessionsPart", [("version", int), ("data", dict[str, sized])])
    return msgspec.json.Decoder(part)


@functools.cache
def _saved_sessions(width: int) -> Any:
    """A decoder of the former one-document state: ``{"sessions": {key: totals}, ...}``."""
    sized = Annotated[list[int], msgspec.Meta(min_length=width, max_length=width)]
    saved = msgspec.defstruct("SavedSessions", [
        ("sessions", dict[str, sized] | None, None),
        ("read", dict[str, Any] | None, None),
        ("blocks", Any, None),  # checked by BlockDigests.load
    ])  # fmt: skip
    return msgspec.json.Decoder(saved)


def _session_totals(sessions: dict[str, object], width: int) -> dict[str, list[int]]:
    """The saved totals of each session (``width`` whole numbers each), checked all at once in C
    (a warm start of an agent with 20,000 sessions took ~25 ms over them one by one in Python);
    a state with a bad entry is read one by one, the well-formed entries kept."""
    try:
        sized = Annotated[list[int], msgspec.Meta(min_length=width, max_length=width)]
        return msgspec.convert(sessions, dict[str, sized])
    except msgspec.ValidationError:
        return {
            k: [int(x) for x in v]
            for k, v in sessions.items()
            if isinstance(v, list) and len(v) == width and all(isinstance(x, int) for x in v)
        }


def _is_a_store_reader(reader: SessionTotalsReader) -> StoreReader:
    return reader  # mypy: the base is what StoreSource asks (its "module:Class" is built untyped)
