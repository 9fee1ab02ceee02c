"""The bases the agents' readers share (``sources.agent_logs``): a new agent is its parser on one
of them. Each test builds a toy agent the way a real one is built, on real files."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec

from burntray.model.pricing import build_price_table
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.jsonl import JsonlReader
from burntray.sources.agent_logs.stores import Stamp
from burntray.sources.agent_logs.values import ProviderPrices, count, own_cost, text
from burntray.sources.agent_logs.whole import WholeFileReader, json_lines


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
