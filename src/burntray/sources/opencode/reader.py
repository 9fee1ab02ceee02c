"""OpenCode's own message store: every assistant message's tokens and cost.

Where (per data folder, see ``.paths``): the SQLite database ``opencode.db`` (else the first
``opencode-<channel>.db`` by name), table ``message`` (``id``, ``session_id``, ``data`` JSON, and
in OpenCode's schema ``time_updated`` in ms); and the legacy JSON files of older versions,
``storage/message/<session>/<message>.json`` (the message with its ``id`` and ``sessionID``).
A message in the database wins over a JSON file with the same id; across folders a message id
counts once.

A message counts when it has ``tokens`` with any of input/output/cache read/cache write (or a
``total``), a ``modelID`` and a ``providerID``. Token semantics: ``tokens.input`` is uncached
input, ``tokens.cache.read``/``write`` are cache reads/writes, ``tokens.output`` the visible
output and ``tokens.reasoning`` the reasoning (billed at the output rate). burntray's output is
``output + reasoning``; where ``tokens.total`` is given, output is what ``total`` leaves after
input and cache (ccusage's rule, the same sum when the fields agree). The cost is OpenCode's own
``cost`` when above 0, else priced from the table (a subscription provider records 0); an
unknown model is unpriced, never $0.

Live and bounded: the database is read only when its files changed (``io.sqlite_ro``, read-only,
never a file created beside it) and, where the table has ``time_updated``, only the rows updated
since the newest one read (a message gets its tokens when it finishes, so it is updated then);
a row whose JSON never names ``tokens`` (a user message) is not decoded at all, so a cut-off
row is counted as skipped only when it got as far as its tokens;
JSON files are read whole only when they changed (``agent_logs.stores.WholeFiles``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from burntray.model.pricing import PriceTable
from burntray.model.rates import Rates, priced
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.databases import DatabaseReader, Row
from burntray.sources.agent_logs.stores import WholeFiles, dump_state, load_state_parts
from burntray.sources.agent_logs.values import ProviderPrices, count, own_cost, text
from burntray.sources.opencode.paths import database_path

if TYPE_CHECKING:
    from burntray.sources.agent_logs.stores import StoreReader

MAX_ROW_BYTES = 4 * 1024 * 1024  # an assistant message's JSON is a few KB (its parts are apart)
WHAT = "OpenCode database"
_TOKENS, _TOKENS_TEXT = b'"tokens"', '"tokens"'  # a message with usage names its tokens


class _Cache(msgspec.Struct, gc=False):
    read: object = 0
    write: object = 0


class _Tokens(msgspec.Struct, gc=False):
    input: object = 0
    output: object = 0
    reasoning: object = 0
    total: object = None
    cache: _Cache | None = None


class _Time(msgspec.Struct, gc=False):
    created: object = None
    completed: object = None


class _Message(msgspec.Struct, gc=False):
    id: object = None
    role: object = None
    sessionID: object = None
    providerID: object = None
    modelID: object = None
    time: _Time | None = None
    tokens: _Tokens | None = None
    cost: object = None


_DECODER = msgspec.json.Decoder(_Message)
RatesOf = Callable[[str, str], Rates | None]  # (provider, model) -> its rates (None: unpriced)


def message_record(
    raw: bytes | str,
    rates_of: RatesOf,
    msg_id: str = "",
    session: str = "",
    key: str = "",
    *,
    kilo: bool = False,
) -> UsageRecord | None:
    """The record of one message (None: it carries no usage). Raises ``ValueError`` when the
    JSON is malformed or the message has usage but no time to place it at. ``kilo``: Kilo's
    rules (assistant messages only, the provider optional, times in seconds or ms)."""
    try:
        msg = _DECODER.decode(raw)
    except msgspec.DecodeError as exc:
        raise ValueError(str(exc)) from None
    tokens = msg.tokens
    if tokens is None or (kilo and msg.role != "assistant"):
        return None
    cache = tokens.cache or _Cache()
    inp, out = count(tokens.input), count(tokens.output)
    read, write = count(cache.read), count(cache.write)
    total = count(tokens.total)
    missing = max(0, total - (inp + out + read + write)) if total else count(tokens.reasoning)
    output = out + missing
    model, provider = text(msg.modelID), text(msg.providerID)
    if not (inp or output or read or write) or not model or not (provider or kilo):
        return None
    when = msg.time.created if msg.time is not None else None
    if not isinstance(when, int) or isinstance(when, bool) or when <= 0:
        raise ValueError("a message with usage but no time.created")
    if kilo and when < 1_000_000_000_000:
        when *= 1000  # Kilo may write seconds
    msg_id = msg_id or text(msg.id)
    session = session or text(msg.sessionID)
    usd = own_cost(msg.cost)
    upstream = usd is not None
    if not upstream:
        rates = rates_of(provider, model)
        usd = None if rates is None else priced(rates, inp, output, write, 0, read, False)
    return UsageRecord(
        when * 1_000_000,
        provider,
        model,
        inp,
        output,
        read,
        write,
        usd,
        key or f"m:{msg_id}",
        session,
        cost_from_upstream=upstream,
    )


class OpenCodeReader(DatabaseReader):
    """Reads what is new or changed in every OpenCode data folder (and, as ``KiloReader``,
    in those of its fork Kilo)."""

    what = WHAT
    tool = "OpenCode"
    kilo = False  # Kilo's rules for its messages (see ``message_record``)
    legacy: tuple[str, ...] = ("storage", "message")  # older versions' JSON files (none: ())

    def __init__(self, folders: Iterable[Path], prices: PriceTable) -> None:
        super().__init__(prices)
        self.data_dirs = [Path(f) for f in folders]
        # each model's rates worked out once (``model.rates``: ``Price.tiered_cost``'s very
        # float without its five calls; a first scan prices 20,000 messages)
        self._prices = ProviderPrices(prices)
        self.missing = ""
        self.files_seen = 0
        self._files = WholeFiles(
            [d.joinpath(*self.legacy) for d in self.data_dirs] if self.legacy else [],
            (".json",),
        )
        self._updated_ms: dict[str, int] = {}  # db -> newest time_updated read
        self._db_ids: set[str] = set()  # messages the databases hold: their JSON copies lose
        self.rows_read = 0  # rows and files looked at since this reader was made
        self.files_read = 0

    @property
    def progress(self) -> int:
        return self._progress + self._files.progress

    @property
    def malformed_lines(self) -> int:
        return self._bad_rows + self._files.malformed

    @property
    def first_malformed(self) -> str:
        return self._first_bad_row or self._files.first_malformed

    def folders(self) -> list[str]:
        return [str(d) for d in self.data_dirs if d.is_dir()] + self._files.folders()

    def unreadable(self) -> dict[str, str]:
        return {**self._files.unreadable, **super().unreadable()}

    def read_new(self, active_since_ns: int | None = None) -> list[UsageRecord]:
        out: list[UsageRecord] = []
        databases = 0
        for folder in self.data_dirs:
            db = self.database(folder)
            if db is not None:
                databases += 1
                self.read_database(db, out)
        self._read_json_files(out)
        self.files_seen = databases + self._files.files_seen
        present = [d for d in self.data_dirs if d.is_dir()]
        self.missing = (
            "" if present else f"no {self.tool} data folder: " + ", ".join(map(str, self.data_dirs))
        )
        return out

    def database(self, folder: Path) -> Path | None:
        return database_path(folder)

    def use(self, db: Path, rows: list[Row], out: list[UsageRecord]) -> None:
        self.rows_read += len(rows)
        for raw_id, raw_session, data in rows:
            msg_id, session = str(raw_id or ""), str(raw_session or "")
            if not isinstance(data, str | bytes):
                self.bad(f"{db} message {msg_id}", "data missing or over the size cap")
                continue
            if (_TOKENS_TEXT not in data) if isinstance(data, str) else (_TOKENS not in data):
                # no usage to read (a user message, every other one): not decoded at all
                if msg_id:
                    self._db_ids.add(msg_id)
                continue
            try:
                key = f"{db}:{msg_id}" if self.kilo else ""  # ccusage's key for Kilo
                rec = message_record(data, self._prices.rates, msg_id, session, key, kilo=self.kilo)
            except ValueError as exc:
                self.bad(f"{db} message {msg_id}", str(exc))
                continue
            if msg_id:
                self._db_ids.add(msg_id)
            if rec is not None:
                out.append(rec)

    def query(self, conn: sqlite3.Connection, name: str) -> list[Row]:
        """The message rows to look at: those updated since the last read where the table says
        when a row was updated, else all (their keys make a re-read replace, not add)."""
        columns = {row[1] for row in conn.execute("PRAGMA table_info(message)")}
        if not columns:
            raise sqlite3.OperationalError("no such table: message")
        data = "CASE WHEN length(data) > ? THEN NULL ELSE data END"
        conn.execute("BEGIN")
        try:
            if "time_updated" in columns:
                since = self._updated_ms.get(name, 0)
                rows = conn.execute(
                    f"SELECT id, session_id, {data}, time_updated FROM message "  # noqa: S608
                    "WHERE time_updated >= ? ORDER BY time_updated",
                    (MAX_ROW_BYTES, since),
                ).fetchall()
                newest = max((r[3] for r in rows if isinstance(r[3], int)), default=since)
                self._updated_ms[name] = newest
                return [(r[0], r[1], r[2]) for r in rows]
            return conn.execute(
                f"SELECT id, session_id, {data} FROM message",  # noqa: S608
                (MAX_ROW_BYTES,),
            ).fetchall()
        finally:
            conn.execute("COMMIT")

    def _read_json_files(self, out: list[UsageRecord]) -> None:
        for _root, path, stamp in self._files.changed():
            data = self._files.read(path)
            if data is None:
                continue
            self.files_read += 1
            why = ""
            try:
                rec = message_record(data, self._prices.rates, key=f"f:{path}")
            except ValueError as exc:
                rec, why = None, str(exc)
            if rec is not None:
                mid = _message_id(data)
                if not mid:
                    out.append(rec)  # no id: the file is the message
                elif mid not in self._db_ids:  # else the database holds it: its row counts
                    out.append(rec._replace(key=f"m:{mid}"))
            self._files.done(path, stamp, why)

    def save_state(self) -> str:
        return dump_state(files=self._files.save_state(), updated=self._updated_ms)

    def load_state(self, text: str) -> None:
        parts = load_state_parts(text)
        self._files.load_state(parts.get("files"))
        updated = parts.get("updated")
        if isinstance(updated, dict):
            self._updated_ms = {k: v for k, v in updated.items() if isinstance(v, int)}

    def reset(self) -> None:
        self._files.reset()
        self.forget_reads()
        self._updated_ms = {}
        self._db_ids = set()


def _message_id(data: bytes) -> str:
    try:
        return text(_DECODER.decode(data).id)
    except msgspec.DecodeError:
        return ""


def _is_a_store_reader(reader: OpenCodeReader) -> StoreReader:
    return reader  # mypy: it is what StoreSource asks (its "module:Class" is built untyped)
