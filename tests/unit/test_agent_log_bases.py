"""The bases the agents' readers share (``sources.agent_logs``): a new agent is its parser on one
of them. Each test builds a toy agent the way a real one is built, on real files."""

from __future__ import annotations

import importlib
import json
import sqlite3
from pathlib import Path

import msgspec
import pytest

from burntray.config import load_settings
from burntray.model.pricing import build_price_table
from burntray.model.usage import UsageRecord
from burntray.paths import app_paths
from burntray.sources.agent_logs.agent_spec import Places, load
from burntray.sources.agent_logs.databases import Row, SessionTotalsReader
from burntray.sources.agent_logs.jsonl import JsonlReader
from burntray.sources.agent_logs.stores import Stamp, WholeFiles, dump_state, load_state_parts
from burntray.sources.agent_logs.values import (
    ProviderPrices,
    count,
    count_sql,
    new_record,
    own_cost,
    record_defaults,
    text,
)
from burntray.sources.agent_logs.whole import WholeFileReader, json_lines, typed_lines
from burntray.sources.base import SourceContext


class _Line(msgspec.Struct):
    ts: int = 0
    tokens: object = 0


class ToyLogReader(JsonlReader):
    """An agent that appends ``{"ts": ..., "tokens": ...}`` to ``logs/<session>.jsonl``."""

    markers = (b'"tokens"',)
    what = "Toy logs folder"

    def roots(self, folder: Path) -> list[Path]:
        return [folder / "logs"]

    def keep(self, root: Path, path: Path) -> bool:
        return path.parent == root

    def read_file(self, folder: Path, root: Path, path: Path, out: list[UsageRecord]) -> None:
        decode = msgspec.json.Decoder(_Line).decode
        self.tail(path, decode, lambda rec: self._record(rec, path), out)

    def _record(self, rec: _Line, path: Path) -> UsageRecord | None:
        tokens = count(rec.tokens)
        if not tokens:
            return None
        key = f"toy:{path.stem}:{rec.ts}"
        return UsageRecord(rec.ts, "", "m", tokens, 0, 0, 0, None, key, path.stem)


def test_a_jsonl_agent_is_its_parser(tmp_path: Path) -> None:
    logs = tmp_path / "a" / "logs"
    (logs / "deeper").mkdir(parents=True)
    (logs / "deeper" / "x.jsonl").write_text('{"ts": 9, "tokens": 9}\n')  # not kept
    session = logs / "s1.jsonl"
    session.write_text('{"ts": 1, "tokens": 5}\n{"ts": 2, "tokens": oops}\n{"ts": 3}\n')
    reader = ToyLogReader([tmp_path / "a", tmp_path / "absent"], build_price_table())

    first = reader.read_new()
    assert [(r.ts_ns, r.input_tokens, r.session) for r in first] == [(1, 5, "s1")]
    assert reader.files_seen == 1 and reader.missing == ""
    assert reader.malformed_lines == 1 and f"{session}@" in reader.first_malformed

    # only what was appended is read, and a restart resumes from the saved offsets
    state = reader.save_state()
    with session.open("a") as fh:
        fh.write(json.dumps({"ts": 4, "tokens": 7}) + "\n")
    resumed = ToyLogReader([tmp_path / "a"], build_price_table())
    resumed.load_state(state)
    assert [(r.ts_ns, r.input_tokens) for r in resumed.read_new()] == [(4, 7)]
    assert [(r.ts_ns, r.input_tokens) for r in reader.read_new()] == [(4, 7)]

    reader.reset()
    assert [r.ts_ns for r in reader.read_new()] == [1, 4]

    nothing = ToyLogReader([tmp_path / "absent"], build_price_table())
    assert nothing.read_new() == []
    assert nothing.missing.startswith("no Toy logs folder: ")


def test_the_value_rules() -> None:
    assert [count(v) for v in (3, 0, -1, True, 2.5, "4", None)] == [3, 0, 0, 0, 0, 0, 0]
    assert [text(v) for v in (" a ", 1, None)] == ["a", "", ""]
    assert [own_cost(v) for v in (0.5, 2, 0, -1.0, True, "1")] == [0.5, 2.0, None, None, None, None]
    prices = ProviderPrices(build_price_table())
    assert prices.cost("anthropic", "claude-sonnet-4-5", 100_000, 0, 0, 0) == 0.3
    assert prices.cost("", "no-such-model", 10, 10, 0, 0) is None


def test_a_record_made_in_c_is_the_records_own() -> None:
    fields = (1, "p", "m", 2, 3, 4, 5, 0.5, "k", "s", "proj")
    for given in (10, 11):
        made = new_record(fields[:given] + record_defaults(given))
        assert type(made) is UsageRecord and made == UsageRecord(*fields[:given])
        assert made._asdict() == UsageRecord(*fields[:given])._asdict()


def test_sqlite_picks_the_counts_python_would() -> None:
    """``count_sql``: SQLite's ``count(a)``, and given two columns ``count(a) or count(b)``,
    on every kind of value SQLite can hold."""
    values = [None, 0, -3, 7, 2**62, 2.5, 3.0, "4", "x", b"5"]
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (a, b)")
    pairs = [(a, b) for a in values for b in values]
    conn.executemany("INSERT INTO t VALUES (?, ?)", pairs)
    found = conn.execute(f"SELECT a, b, {count_sql('a')}, {count_sql('a', 'b')} FROM t").fetchall()
    assert found == [(a, b, count(a), count(a) or count(b)) for a, b in pairs]
    conn.close()


class ToyFileReader(WholeFileReader):
    """An agent that rewrites ``<session>.json`` as ``{"tokens": n}``; "hold" holds it back."""

    what = "Toy sessions folder"

    def parse(self, path: Path, data: bytes, stamp: Stamp, out: list[UsageRecord]) -> str | None:
        try:
            doc = msgspec.json.decode(data)
        except msgspec.DecodeError as exc:
            return f"not a session: {exc}"
        if doc == "hold":
            return None
        tokens = count(doc.get("tokens")) if isinstance(doc, dict) else 0
        out.append(UsageRecord(stamp[3], "", "m", tokens, 0, 0, 0, None, str(path), path.stem))
        return ""


def test_a_whole_file_agent_is_its_parser(tmp_path: Path) -> None:
    good, bad, held = (tmp_path / f"{n}.json" for n in ("good", "bad", "held"))
    good.write_text('{"tokens": 5}')
    bad.write_text("{nope")
    held.write_text('"hold"')
    reader = ToyFileReader([tmp_path, tmp_path / "absent"], build_price_table())

    assert [(r.session, r.input_tokens) for r in reader.read_new()] == [("good", 5)]
    assert reader.files_seen == 3 and reader.files_read == 3 and reader.missing == ""
    assert reader.malformed_lines == 1 and reader.first_malformed.startswith(f"{bad}: not a")

    # unchanged files are not opened again; one held back is, until it is marked read
    assert reader.read_new() == [] and reader.files_read == 4
    state = reader.save_state()
    good.write_text('{"tokens": 8}')
    resumed = ToyFileReader([tmp_path], build_price_table())
    resumed.load_state(state)
    assert [(r.session, r.input_tokens) for r in resumed.read_new()] == [("good", 8)]
    assert resumed.files_read == 2  # the changed file and the one held back

    reader.reset()
    assert [r.session for r in reader.read_new()] == ["good"] and reader.files_read == 7

    nothing = ToyFileReader([tmp_path / "absent"], build_price_table())
    assert nothing.read_new() == [] and nothing.missing.startswith("no Toy sessions folder: ")


def test_json_lines_of_a_file_read_whole() -> None:
    data = b'{"a": 1}\n\n[1]\n{bad\n{"b": 2}\n{"a": 3'
    found, why = json_lines(data)
    assert found == [(0, {"a": 1}), (4, {"b": 2})]  # blank lines and non-objects pass over
    assert why.startswith("2 line(s) not JSON, first line 4: ")
    assert json_lines(data, need=b'"a"') == (
        [(0, {"a": 1})],
        "1 line(s) not JSON, first line 6: Input data was truncated",
    )
    assert json_lines(b'{"a": 1}\n') == ([(0, {"a": 1})], "")


class _AB(msgspec.Struct):
    a: int = 0


def test_typed_lines_decode_to_the_agents_type() -> None:
    data = b'{"a": 1, "z": [1, 2]}\n\n[1]\n{bad\n{"a": "x"}\n{"b": 2}\n{"a": 3'
    decoder = msgspec.json.Decoder(_AB)
    found, why = typed_lines(data, decoder)
    # blank lines, non-objects and another shape pass over uncounted; what is not JSON counts
    assert found == [_AB(1), _AB(0)]
    assert why.startswith("2 line(s) not JSON, first line 4: ")
    assert typed_lines(data, decoder, need=b'"a"') == (
        [_AB(1)],
        "1 line(s) not JSON, first line 7: Input data was truncated",
    )


class ToySessions(SessionTotalsReader):
    """An agent whose ``sessions`` table holds each session's running totals."""

    what = "Toy database"
    file_label = "Toy toy.db"
    columns = ("id", "model", "started", "input", "output")
    later_columns = ("updated",)
    required = "model"
    width = 2

    def row(self, db: str, row: Row, out: list[UsageRecord]) -> None:
        ident, model, started = str(row[0]), str(row[1]), int(str(row[2]))
        later = row[5] if isinstance(row[5], int) else None
        key = f"t:{ident}"
        found = self.grew(self.part_of(key), key, [count(row[3]), count(row[4])], started, later)
        if found is not None:
            key, at, (inp, out_) = found
            cost = self._prices.cost("", model, inp, out_, 0, 0)
            out.append(UsageRecord(at, "", model, inp, out_, 0, 0, cost, key, ident))


def _toy_db(path: Path, *, updated: bool = True) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    extra = ", updated INTEGER" if updated else ""
    conn.execute(f"CREATE TABLE sessions (id TEXT, model TEXT, started INTEGER, input INTEGER, "
                 f"output INTEGER{extra})")  # fmt: skip
    conn.commit()
    return conn


def test_a_session_totals_agent_is_its_row_rule(tmp_path: Path) -> None:
    db = tmp_path / "toy.db"
    conn = _toy_db(db)
    conn.execute("INSERT INTO sessions VALUES ('s1', 'm', 100, 10, 5, NULL)")
    conn.execute("INSERT INTO sessions VALUES ('s2', '', 100, 10, 5, NULL)")  # no model: passed
    conn.commit()
    reader = ToySessions([db, tmp_path / "absent.db"], build_price_table(), lambda: 999)

    first = reader.read_new()
    assert [(r.key, r.ts_ns, r.input_tokens, r.output_tokens) for r in first] == [
        ("t:s1", 100, 10, 5)
    ]
    assert reader.read_new() == []  # unchanged: not read again
    state = reader.save_state()

    conn.execute("UPDATE sessions SET input = 15, output = 9, updated = 200 WHERE id = 's1'")
    conn.commit()
    grown = [(r.key, r.ts_ns, r.input_tokens, r.output_tokens) for r in reader.read_new()]
    assert grown == [("t:s1:200", 200, 5, 4)]
    resumed = ToySessions([db], build_price_table(), lambda: 999)
    resumed.load_state(state)  # a restart records only what was added meanwhile
    assert [(r.key, r.input_tokens) for r in resumed.read_new()] == [("t:s1:200", 5)]

    reader.reset()
    assert [(r.key, r.input_tokens) for r in reader.read_new()] == [("t:s1", 15)]
    conn.close()

    other = tmp_path / "other.db"
    _toy_db(other, updated=False).execute("ALTER TABLE sessions DROP COLUMN output")
    broken = ToySessions([other], build_price_table())
    assert broken.read_new() == []
    assert "no such column: output" in broken.unreadable()[str(other)]
    nothing = ToySessions([tmp_path / "none.db"], build_price_table())
    assert nothing.read_new() == [] and nothing.missing == f"no Toy toy.db at {tmp_path}/none.db"


AGENTS = ("ampcode", "codebuff", "droid", "gemini", "goose", "hermes", "kilo", "kimi",
          "openclaw", "opencode", "pi_agent", "qwen", "grok", "zcode",
          "antigravity")  # fmt: skip


@pytest.mark.parametrize("agent", AGENTS)
def test_an_agent_spec_names_modules_that_are_there(agent: str) -> None:
    """The spec names its paths rule, reader and source as strings (imported when built):
    each must name what is there."""
    module = importlib.import_module(f"burntray.sources.{agent}")
    places = module.PLACES
    assert isinstance(places, Places) and places.option.split(".")[0] == module.SPEC.name
    assert callable(load(places.default))
    for ref in (getattr(module, "READER", None), getattr(module, "SOURCE", None)):
        if ref is not None:
            assert isinstance(load(ref), type)


def test_places_come_from_the_option_else_the_agents_rule(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[hermes]\ndirs = "{tmp_path}/a, {tmp_path}/b"\n')
    env = {"HOME": str(tmp_path / "home")}
    ctx = SourceContext(load_settings(config), app_paths(), build_price_table(), env=env)
    hermes = importlib.import_module("burntray.sources.hermes")
    assert hermes.PLACES(ctx) == [tmp_path / "a" / "state.db", tmp_path / "b" / "state.db"]
    assert hermes.SPEC.probe(ctx) == (False, f"no Hermes state.db at {tmp_path}/a/state.db, "
                                             f"{tmp_path}/b/state.db")  # fmt: skip
    (tmp_path / "b" / "state.db").parent.mkdir()
    (tmp_path / "b" / "state.db").touch()
    assert hermes.SPEC.probe(ctx) == (True, f"{tmp_path}/b/state.db")
    kimi = importlib.import_module("burntray.sources.kimi")
    assert kimi.PLACES(ctx) == [tmp_path / "home" / ".kimi"]  # the agent's own rule
    assert kimi.SPEC.probe(ctx) == (False, f"no Kimi sessions folder in {tmp_path}/home/.kimi")


@pytest.mark.parametrize(
    ("name", "label", "wakes_on"),
    [("qwen", "Qwen Code", (".jsonl",)), ("kimi", "Kimi CLI", (".jsonl",)),
     ("pi-agent", "pi", (".jsonl",)), ("openclaw", "OpenClaw", ("",))],
)  # fmt: skip
def test_a_log_agent_needs_no_source_module(
    tmp_path: Path, name: str, label: str, wakes_on: tuple[str, ...]
) -> None:
    """Built from its spec, a JSONL agent's source carries the spec's name and label, and
    the files that wake it (OpenClaw's archived copies have no fixed suffix)."""
    from burntray.sources.build import build_source

    env = {"HOME": str(tmp_path)}
    ctx = SourceContext(load_settings(tmp_path / "none.toml"), app_paths(env),
                        build_price_table(), env=env)  # fmt: skip
    source = build_source(name, ctx)
    try:
        assert (source.name, source.label) == (name, label)
        assert getattr(source, "watch_suffixes", None) == wakes_on
    finally:
        source.close()


def test_the_resume_state_round_trips_and_a_foreign_one_is_none() -> None:
    parts = {"files": {"stamps": {"/home/zoë/a.json": [1, 2, 3, 4]}}, "updated": {"db": 7}}
    text = dump_state(**parts)
    assert "zoë" in text and " " not in text  # compact, as written; not escaped
    assert load_state_parts(text) == parts
    assert load_state_parts('{"a": [1,2],}') == {}  # not JSON: read everything again
    assert load_state_parts("[1, 2]") == {} and load_state_parts("") == {}


def test_file_stamps_come_back_and_a_bad_one_is_dropped_alone(tmp_path: Path) -> None:
    files = WholeFiles([tmp_path], (".json",))
    files.load_state({"stamps": {"a": [1, 2, 3, 4], "b": [5, 6, 7, 8]}, "skipped": {"a": "x"}})
    assert files.stamps == {"a": (1, 2, 3, 4), "b": (5, 6, 7, 8)} and files.skipped == {"a": "x"}
    files.load_state({"stamps": {"a": [1, 2, 3, 4], "b": [1, 2], "c": [1, 2, 3, True]},
                      "skipped": {"a": "x", "b": "y"}})  # fmt: skip
    assert files.stamps == {"a": (1, 2, 3, 4)} and files.skipped == {"a": "x"}


def test_files_of_one_exact_name_are_told_from_their_paths(tmp_path: Path) -> None:
    """An agent that names all its files alike (Codebuff's ``chat-messages.json``) needs no
    rule per file: a file whose name only ends like it is not one of them."""
    chat = tmp_path / "app" / "chats" / "c1"
    chat.mkdir(parents=True)
    for name in ("chat-messages.json", "old-chat-messages.json"):
        (chat / name).write_text("[]")
    (tmp_path / "chat-messages.json").write_text("[]")
    files = WholeFiles([tmp_path], ("chat-messages.json",), name="chat-messages.json")
    found = sorted(str(path.relative_to(tmp_path)) for _root, path, _stamp in files.changed())
    assert found == ["app/chats/c1/chat-messages.json", "chat-messages.json"]
    assert files.files_seen == 2


def test_session_totals_come_back_and_a_bad_one_is_dropped_alone(tmp_path: Path) -> None:
    """The saved totals of every session are read back at once; a state with a bad entry (the
    wrong width, a fraction, a string) keeps its well-formed entries, as it always did (a
    ``true`` is the whole number 1 there)."""
    reader = ToySessions([tmp_path / "toy.db"], build_price_table())
    good = {f"t:s{n}": [n, 2 * n] for n in range(1000)}
    reader.load_state(dump_state(sessions=good))
    assert reader.totals() == good and all(type(v) is list for v in reader.totals().values())
    bad = {"t:a": [1, 2], "t:b": [1], "t:c": [1, 2.5], "t:d": [1, True], "t:e": "x",
           "t:f": [3, 4, 5]}  # fmt: skip
    reader.load_state(dump_state(sessions=bad))
    assert reader.totals() == {"t:a": [1, 2], "t:d": [1, 1]}
    assert [type(x) for x in reader.totals()["t:d"]] == [int, int]


def test_hermes_reads_a_number_as_its_rule_says() -> None:
    """Hermes's counts and cost: a non-negative finite number (an int or a float from SQLite),
    else 0; a count is the whole part of it. The plain ints and floats of a 20,000-session
    re-read take a short path that must give the same."""
    from burntray.sources.hermes.reader import _count, _usd

    nan, inf = float("nan"), float("inf")
    values = (0, 7, -7, 2**53, 2**53 + 1, 2**70, 0.0, -0.0, 2.75, -2.75, inf, -inf, nan,
              True, False, None, "3", b"4")  # fmt: skip
    assert [_usd(v) for v in values] == [0.0, 7.0, 0.0, 2.0**53, float(2**53 + 1), float(2**70),
                                         0.0, 0.0, 2.75, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                                         0.0]  # fmt: skip
    assert [_count(v) for v in values] == [0, 7, 0, 2**53, int(float(2**53 + 1)), int(2.0**70),
                                           0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0]  # fmt: skip
    assert all(type(_count(v)) is int and type(_usd(v)) is float for v in values)


def test_droids_resume_state_comes_back_typed_and_a_bad_entry_alone_is_dropped(
    tmp_path: Path,
) -> None:
    """Droid's state of the former layout (a stamp per session file, each session's [file,
    first dated, totals]) is read straight to its types and split into its parts (stamps per
    folder, totals per bucket of sessions); a state with an entry of another shape is read as
    before, each well-formed entry kept; one that is not JSON leaves nothing. The parts come
    back as they were saved."""
    from burntray.sources.droid.reader import DroidReader, _bucket

    def reader() -> DroidReader:
        return DroidReader([tmp_path], build_price_table())

    state = dump_state(
        files={"stamps": {"/s/a.settings.json": [1, 2, 3, 4], "/s/b.settings.json": [5, 6, 7, 8]},
               "skipped": {"/s/a.settings.json": "why", "/gone": "x"}},
        sessions={"a": ["/s/a.settings.json", 10, [1, 2, 3, 4]]},
    )  # fmt: skip
    typed = reader()
    typed.load_state(state)
    assert typed.parts.get("d:/s") == {"a.settings.json": [1, 2, 3, 4],
                                       "b.settings.json": [5, 6, 7, 8]}  # fmt: skip
    assert typed.files.index.skipped == {"/s/a.settings.json": "why"}
    assert typed.parts.get(_bucket("a")) == {"a": ["/s/a.settings.json", 10, [1, 2, 3, 4]]}
    saved: dict[str, str] = {}
    typed.parts.store = saved.update
    again = reader()
    again.parts.fetch = saved.get
    again.load_state(typed.save_state())  # saved in parts, read back from them
    assert again.parts.get("d:/s") == typed.parts.get("d:/s")
    assert again.parts.get(_bucket("a")) == typed.parts.get(_bucket("a"))
    assert again.files.index.skipped == {"/s/a.settings.json": "why"}

    bad = dump_state(
        files={"stamps": {"/s/a.settings.json": [1, 2, 3, 4], "/s/c.settings.json": [1, 2]}},
        sessions={"a": ["/s/a.settings.json", 10, [1, 2, 3, 4]], "b": "x", "c": ["/c", 1, [7]]},
    )
    loose = reader()
    loose.load_state(bad)
    assert loose.parts.get("d:/s") == {"a.settings.json": [1, 2, 3, 4]}
    assert loose.parts.get(_bucket("c")) == {"c": ["/c", 1, [7]]}
    assert "b" not in loose.parts.get(_bucket("b"))
    nothing = reader()
    nothing.load_state("{not json")
    assert nothing.parts.get("d:/s") == {} and nothing.parts.get(_bucket("a")) == {}
