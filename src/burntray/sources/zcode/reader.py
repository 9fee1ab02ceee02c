"""ZCode's own usage database: every completed model call's tokens.

Where (per ZCode home, see ``.paths``): the SQLite database ``cli/db/db.sqlite``, table
``model_usage``, one row per model call: ``id``, ``session_id``, ``provider_id``, ``model_id``,
``status``, ``started_at`` (epoch ms), ``input_tokens`` (the whole prompt: the cache reads and
writes are inside it), ``cache_read_input_tokens``, ``cache_creation_input_tokens``,
``output_tokens`` and ``computed_total_tokens``; table ``session`` gives each session's
``directory``. ZCode records no cost.

burntray's records, as ccusage 20.0.24 counts them: only ``status = 'completed'`` rows with a
model; cache reads = min(cache read, input), cache writes = min(cache creation, what is left),
uncached input = the rest; output = ``output_tokens`` plus what ``computed_total_tokens`` holds
beyond input and output (the reasoning). A call through ZCode's own plan (provider ``zai``,
``zai-coding-plan``, ``builtin:zai-coding-plan``, ``builtin:bigmodel-coding-plan``, or none) is
priced from the table by model; a call through another channel (a custom provider) has a price
burntray cannot know: unpriced, never $0. The key is the row's ``id`` (a call in two homes
counts once). Columns a ZCode version lacks count 0. A completed call with no start time (NULL,
text, 0) has no day: not counted (ccusage drops it silently), but counted as skipped and named.

Live and bounded: the database is read only when its files changed (``io.sqlite_ro``,
read-only, never a file created beside it), and then only the calls started since the oldest one
still open at the last read (a call is written when it starts and completed in place), else an
hour before the newest one read.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, cast

from burntray.model.pricing import PriceTable
from burntray.model.rates import Rates, priced
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.databases import DatabaseReader, Row
from burntray.sources.agent_logs.stores import dump_state, load_state_parts
from burntray.sources.agent_logs.values import (
    ModelPrices,
    count_sql,
    new_record,
    record_defaults,
    text,
)

if TYPE_CHECKING:
    from burntray.sources.agent_logs.stores import StoreReader

WHAT = "ZCode database"
DATABASE = ("cli", "db", "db.sqlite")
OWN_PLAN = frozenset({"zai", "zai-coding-plan", "builtin:zai-coding-plan",
                      "builtin:bigmodel-coding-plan"})  # fmt: skip
# A call is written when it starts and completed in place; one written late (a clock step, a
# slow write) is still found when it started within this of the newest one read.
REREAD_MS = 3_600_000
DONE = frozenset({"completed", "cancelled", "error"})  # what a call that is over ends as
# A call with a start time: a number of ms after 1970 and before the year 10000 (as ccusage
# 20.0.24, a real counts too); NULL, text, 0 or less is none
STARTED = ("typeof(m.started_at) IN ('integer', 'real') AND m.started_at > 0 "
           "AND m.started_at < 253402300800000")  # fmt: skip
OPTIONAL = ("provider_id", "cache_read_input_tokens", "cache_creation_input_tokens",
            "computed_total_tokens")  # fmt: skip

_MAX_PROVIDERS = 256  # providers whose plan is kept worked out, per read
_MAX_MODELS = 1024  # model ids whose name and rates are kept worked out, per read
_AFTER_PROJECT = record_defaults(11)  # a record's fields after its project
# a row as ``query`` reads it (the counts picked by ``count_sql``: whole numbers >= 0)
_Selected = tuple[object, object, object, float, object, int, int, object, int, int, int, object]


class ZCodeReader(DatabaseReader):
    """Reads what is new in every ZCode home's usage database."""

    what = WHAT

    def __init__(self, folders: Iterable[Path], prices: PriceTable) -> None:
        super().__init__(prices)
        self.data_dirs = [Path(f) for f in folders]
        self._prices = ModelPrices(prices)
        self.missing = ""
        self.files_seen = 0
        self._started_ms: dict[str, int] = {}  # db -> newest started_at read
        # db -> its completed calls with a model but no start time: how many, the first named
        # (ccusage 20.0.24 drops them without a word; burntray says so, counted per read)
        self._no_start: dict[str, tuple[int, str]] = {}

    def folders(self) -> list[str]:
        return [str(d) for d in self.data_dirs if d.is_dir()]

    def read_new(self, active_since_ns: int | None = None) -> list[UsageRecord]:
        out: list[UsageRecord] = []
        present = [d.joinpath(*DATABASE) for d in self.data_dirs]
        present = [db for db in present if db.is_file()]
        for db in present:
            self.read_database(db, out)
        self.files_seen = len(present)
        self.missing = (
            ""
            if present
            else "no ZCode database: "
            + ", ".join(str(d.joinpath(*DATABASE)) for d in self.data_dirs)
        )
        return out

    def query(self, conn: sqlite3.Connection, name: str) -> list[Row]:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(model_usage)")}
        if not columns:
            raise sqlite3.OperationalError("no such table: model_usage")
        chosen = ", ".join(f"m.{c}" if c in columns else "NULL" for c in OPTIONAL[:1])
        counted = ", ".join(count_sql(f"m.{c}") if c in columns else "0" for c in OPTIONAL[1:])
        has_sessions = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'session'"
        ).fetchone()
        directory = "s.directory" if has_sessions else "NULL"
        join = "LEFT JOIN session s ON s.id = m.session_id" if has_sessions else ""
        since = self._started_ms.get(name, REREAD_MS) - REREAD_MS
        conn.execute("BEGIN")
        try:
            rows = conn.execute(
                "SELECT m.status, m.id, m.session_id, m.started_at, m.model_id, "  # noqa: S608
                f"{count_sql('m.input_tokens')}, {count_sql('m.output_tokens')}, {chosen}, "
                f"{counted}, {directory} "
                f"FROM model_usage m {join} WHERE {STARTED} AND m.started_at >= ?",
                (since,),
            ).fetchall()
            no_start = conn.execute(
                "SELECT m.id, quote(m.started_at), m.model_id FROM model_usage m "  # noqa: S608
                f"WHERE m.status = 'completed' AND NOT ({STARTED})"
            ).fetchall()
        finally:
            conn.execute("COMMIT")
        self._count_no_start(name, no_start)
        starts = [int(r[3]) for r in rows]
        still_open = [int(r[3]) for r in rows if r[0] not in DONE]
        newest = max(starts, default=since + REREAD_MS)
        # next time from the oldest call still open (its margin added back), else the newest
        self._started_ms[name] = min([newest, *(s + REREAD_MS for s in still_open)])
        return rows  # ``use`` counts the completed calls

    def _count_no_start(self, db: str, rows: list[Row]) -> None:
        """Note the completed calls that have a model but no start time (none is counted)."""
        bad = sorted((str(call), started) for call, started, model in rows if text(model))
        if not bad:
            self._no_start.pop(db, None)
            return
        call, started = bad[0]
        self._no_start[db] = (len(bad), f"{db} model_usage {call}: no start time "
                                       f"(started_at is {started})")  # fmt: skip

    @property
    def malformed_lines(self) -> int:
        return super().malformed_lines + sum(n for n, _ in self._no_start.values())

    @property
    def first_malformed(self) -> str:
        first = super().first_malformed
        return first or next((why for _db, (_n, why) in sorted(self._no_start.items())), "")

    def use(self, db: Path, rows: list[Row], out: list[UsageRecord]) -> None:
        # a first scan goes through 20,000 calls: the model's rates and the plan of a provider
        # are looked up once each, the common values (text, a model's rates) used without a
        # call, the record made in C (callgrind: ~20,500 instructions a call before, ~17,000)
        rates_of_model = self._prices.rates
        models: dict[object, tuple[str, Rates | None]] = {}  # model_id -> its name and rates
        plans: dict[object, bool] = {None: True}  # provider -> through ZCode's own plan
        for row in cast("list[_Selected]", rows):
            (status, call, session, started, model_id, prompt, out_tokens, provider, read,
             write, total, directory) = row  # fmt: skip
            if status != "completed":
                continue
            try:
                model, rates = models[model_id]
            except KeyError:
                model = text(model_id)
                rates = rates_of_model(model) if model else None
                if len(models) < _MAX_MODELS:
                    models[model_id] = (model, rates)
            if not model:
                continue  # ccusage counts no call without a model either
            read = min(read, prompt)
            write = min(write, prompt - read)
            uncached = prompt - read - write
            output_all = out_tokens + max(0, total - prompt - out_tokens)
            if not (prompt or output_all):
                continue
            own_plan = plans.get(provider)
            if own_plan is None:  # a few providers: each looked at once
                own_plan = text(provider).lower() in OWN_PLAN
                if len(plans) < _MAX_PROVIDERS and isinstance(provider, str):
                    plans[provider] = own_plan
            if own_plan and rates is not None:
                cost: float | None = priced(rates, uncached, output_all, write, 0, read, False)
            else:
                cost = None
            fields = (
                int(started) * 1_000_000,
                "",
                model,
                uncached,
                output_all,
                read,
                write,
                cost,
                f"z:{call}",
                text(session),
                text(directory),
            )
            out.append(new_record(fields + _AFTER_PROJECT))  # fmt: skip

    def save_state(self) -> str:
        return dump_state(started=self._started_ms)

    def load_state(self, text: str) -> None:
        started = load_state_parts(text).get("started")
        if isinstance(started, dict):
            self._started_ms = {k: v for k, v in started.items() if isinstance(v, int)}

    def reset(self) -> None:
        self.forget_reads()
        self._started_ms = {}
        self._no_start = {}


def _is_a_store_reader(reader: ZCodeReader) -> StoreReader:
    return reader  # mypy: it is what StoreSource asks (its "module:Class" is built untyped)
