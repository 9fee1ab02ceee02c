"""Claude Code's line parser: the strict types that take the common line give exactly what the
field-by-field checks give, on every variant of every field the skip rules look at."""

from __future__ import annotations

import copy
import itertools
import json
import random
from pathlib import Path

import pytest

from burntray.io.log_tail import FileState
from burntray.model.pricing import build_price_table
from burntray.model.usage import UsageRecord
from burntray.sources.claude import in_order, lines, scan_worker
from burntray.sources.claude.dedup import Dedup
from burntray.sources.claude.lines import ClaudeEntry, parse_line
from burntray.sources.claude.logs import ClaudeLogReader
from tests.agent_logs_support import claude_line

SONNET = "claude-sonnet-4-5-20250929"
PRICES = build_price_table()
ABSENT = object()  # the field left out of the line

# (where in the line, the values tried): each a value the rules read differently
TOP = {
    "timestamp": ["2026-11-20T09:00:00.5Z", "2026-11-20T10:00:00+02:00", "2026-11-20T09:00:00",
                  "yesterday", None, 5, ABSENT],
    "sessionId": ["s1", "", None, 3, ABSENT],
    "requestId": ["r1", "", None, ABSENT],
    "costUSD": [0.25, 2, None, "1", ABSENT],
    "isSidechain": [True, False, None, "yes", ABSENT],
    "isApiErrorMessage": [False, True, None, ABSENT],
    "version": ["2.0.14", "10.2.3-beta", "2.0", "dev", "", None, ABSENT],
    "cwd": ["/w", None, ABSENT],
    "gitBranch": ["main", "b" * 300, None, 7, ["x"], ABSENT],
}  # fmt: skip
MESSAGE = {
    "id": ["m1", "", None, ABSENT],
    "model": [SONNET, "<synthetic>", "", None, 4, ABSENT],
}
USAGE = {
    "input_tokens": [3, 0, -1, None, "3", ABSENT],
    "cache_creation_input_tokens": [30, None, ABSENT],
    "cache_read_input_tokens": [4, None, -2, ABSENT],
    "cache_creation": [{"ephemeral_5m_input_tokens": 20, "ephemeral_1h_input_tokens": 10},
                       {"ephemeral_1h_input_tokens": 10}, None, {"ephemeral_5m_input_tokens": -1},
                       ABSENT],
    "speed": ["fast", "standard", None, ABSENT],
}  # fmt: skip


def _base() -> dict:  # type: ignore[type-arg]
    line = claude_line("2026-11-20T09:00:00Z", "m1", "r1", SONNET, 1, 2, 30, 4, branch="main")
    return json.loads(line)  # type: ignore[no-any-return]


def _set(doc: dict, path: tuple[str, ...], value: object) -> bytes:  # type: ignore[type-arg]
    *parents, name = path
    target = doc
    for part in parents:
        target = target[part]
    if value is ABSENT:
        target.pop(name, None)
    else:
        target[name] = value
    return json.dumps(doc, separators=(",", ":")).encode()


def _outcome(parse, line: bytes) -> object:  # type: ignore[no-untyped-def]
    try:
        return parse(line)
    except ValueError as exc:  # msgspec's DecodeError is one too
        return f"ValueError: {exc}"


def _variants() -> list[bytes]:
    """The common line, each field in each of its values, and every pair of fields in three."""
    fields = [((name,), values) for name, values in TOP.items()]
    fields += [(("message", name), values) for name, values in MESSAGE.items()]
    fields += [(("message", "usage", name), values) for name, values in USAGE.items()]
    out = [json.dumps(_base(), separators=(",", ":")).encode()]
    for path, values in fields:  # each field alone
        out += [_set(_base(), path, value) for value in values]
    for (path_a, values_a), (path_b, values_b) in itertools.combinations(fields, 2):
        for a, b in itertools.product(values_a[:3], values_b[:3]):  # and every pair of them
            doc = _base()
            _set(doc, path_a, a)
            out.append(_set(doc, path_b, b))
    out += [b'{"message":{"usage":{"input_tokens":1,', b"[]", b'{"message":null}', b"{}"]
    return out


def test_the_strict_types_give_exactly_what_the_checks_give() -> None:
    variants = _variants()
    assert len(variants) > 1000
    taken = strict = 0
    for line in variants:
        expected = _outcome(lines.parse_line_checked, line)
        assert _outcome(parse_line, line) == expected, line
        taken += isinstance(expected, ClaudeEntry)
        strict += not isinstance(_outcome(lines.STRICT.decode, line), str)
    assert 100 < taken < len(variants)  # both kinds are among them
    assert 100 < strict < len(variants)  # and the strict types took many, not all


@pytest.mark.parametrize(
    ("path", "value"),
    [(("sessionId",), None), (("version",), "dev"), (("timestamp",), "2026-11-20T09:00:00"),
     (("message", "model"), ""), (("message", "usage", "speed"), None)],
)  # fmt: skip
def test_a_line_the_rules_skip_is_skipped_through_the_checks(
    path: tuple[str, ...], value: object
) -> None:
    assert parse_line(_set(_base(), path, value)) is None


def _priced_variants() -> list[bytes]:
    """Lines that each price differently: models with and without a price (and a "fast" one),
    a field past the 200k tier, speed, the line's own cost, split cache writes."""
    out = []
    models = [SONNET, "claude-opus-4-8", "claude-unknown-9", "<synthetic>"]
    for model, big, speed, cost, split in itertools.product(
        models, (False, True), ("fast", ABSENT), (ABSENT, 0.5), (False, True)
    ):
        doc = _base()
        usage = doc["message"]["usage"]
        doc["message"]["model"] = model
        if big:
            usage["input_tokens"] = 250_000
        _set(doc, ("message", "usage", "speed"), speed)
        _set(doc, ("costUSD",), cost)
        if split:
            usage["cache_creation"] = {"ephemeral_5m_input_tokens": 10,
                                       "ephemeral_1h_input_tokens": 20}  # fmt: skip
        out.append(json.dumps(doc, separators=(",", ":")).encode())
    doc = _base()
    doc["message"]["usage"].update(input_tokens=0, output_tokens=0, cache_creation_input_tokens=0,
                                   cache_read_input_tokens=0)  # fmt: skip
    for model in models:  # no tokens: $0 whether priced or not
        doc["message"]["model"] = model
        out.append(json.dumps(doc, separators=(",", ":")).encode())
    return out


def test_a_reading_process_sends_the_rows_the_parser_and_the_prices_give(tmp_path: Path) -> None:
    """A reading process of the first scan builds its rows without the parser's entries: on a
    real file of every variant, its rows and skipped lines are those of ``parse_line``,
    ``entry_cost`` and ``row`` line by line."""
    variants = _variants() + _priced_variants()
    path = tmp_path / "variants.jsonl"
    path.write_bytes(b"\n".join(variants) + b"\n")
    scan_worker.init(PRICES)
    result = scan_worker.read_file(str(path))
    rows = [row for piece in result[5] for row in scan_worker.DECODER.decode(piece)]
    expected, skipped, offset = [], 0, 0
    for line in variants:
        if lines.USAGE_MARKER in line:  # the lines the tailer hands on
            try:
                entry = parse_line(line)
            except ValueError:
                skipped += 1
                entry = None
            if entry is not None:
                expected.append(scan_worker.row(entry, offset, *lines.entry_cost(entry, PRICES)))
        offset += len(line) + 1
    assert rows == expected
    assert len(rows) > 200 and {r[12] for r in rows} >= {None, 0.0, 0.5}  # unpriced, $0, own
    state = FileState.from_json(result[0])
    assert state is not None and state.skipped == skipped > 100


def test_the_readers_own_lines_give_the_records_of_a_reading_processs_rows(
    tmp_path: Path,
) -> None:
    """The reader takes a line it reads itself straight to its record (``in_order``), with no
    row in between: on every variant of every field, priced ones and duplicates of all kinds
    (streaming rewrites, a sidechain replay, lines without ids), it hands on the records, in
    the same order and with the same costs, that the rows of a reading process give."""
    dupes = [
        claude_line("2026-11-20T09:00:00Z", "d1", "q1", SONNET, 1, 1, 2, 3),
        claude_line("2026-11-20T09:00:00Z", "d1", "q1", SONNET, 1, 50, 2, 3),  # larger: wins
        claude_line("2026-11-20T09:00:01Z", "d1", "q2", SONNET, 1, 60, sidechain=True),
        claude_line("2026-11-20T09:00:02Z", None, "q3", SONNET, 4, 4),
        claude_line("2026-11-20T09:00:02Z", None, "q3", SONNET, 4, 4),  # no id: both count
    ]
    priced = [v.replace(b'"m1"', f'"p{n}"'.encode()) for n, v in enumerate(_priced_variants())]
    variants = _variants() + priced + [d.encode() for d in dupes]
    projects = tmp_path / "claude" / "projects"
    path = projects / "p" / "s.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\n".join(variants) + b"\n")
    reader = ClaudeLogReader([tmp_path / "claude"], PRICES, workers=0)
    batches: list[list[UsageRecord]] = []
    got = [r for batch in batches for r in batch] + reader.read_new(flush=batches.append)
    scan_worker.init(PRICES)
    result = scan_worker.read_file(str(path))
    out: dict[str, UsageRecord] = {}
    place = in_order.Place(str(path), "p/s.jsonl", "s", "p", out, 10**9, None)
    dedup = Dedup()
    for piece in result[5]:
        in_order.keep_rows(dedup, scan_worker.DECODER.decode(piece), place)
    assert len(dedup) == len(reader.dedup)
    assert got == list(out.values())
    assert [r.cost_usd for r in got] == [r.cost_usd for r in out.values()]  # (NaN-free floats)
    assert len(got) > 60 and sum(r.key.startswith("l:") for r in got) >= 2
    assert {r.cost_usd for r in got} >= {None, 0.0, 0.5} and len({r.cost_usd for r in got}) > 10
    assert reader.malformed_lines == FileState.from_json(result[0]).skipped > 100  # type: ignore[union-attr]


def _spilled_as_written_plainly(dedup: Dedup, cutoff_ns: int) -> Dedup:
    """A copy of ``dedup`` spilled the plain way, group by group: what ``Dedup.spill`` must
    leave, however it gets there."""
    plain = copy.deepcopy(dedup)
    groups = plain._groups
    recent = {g[5] for g in groups if g[6] >= cutoff_ns}  # type: ignore[operator]
    for g in groups:
        message, exact, first = g[5], g[1], g[7]
        if message in recent:
            continue
        plain._spilled.add(message)  # type: ignore[arg-type]
        if g[2]:
            plain._spilled_side.add(exact)  # type: ignore[arg-type]
        if g[4]:
            plain._spilled_speed.add(exact)  # type: ignore[arg-type]
        if exact != first:
            plain._spilled_exact[first] = exact  # type: ignore[index,assignment]
    plain._keep([g for g in groups if g[5] in recent])
    return plain


def _state(dedup: Dedup) -> tuple[object, ...]:
    return (dedup._groups, dedup._exact, dedup._by_message, dedup._spilled,
            dedup._spilled_side, dedup._spilled_speed, dedup._spilled_exact)  # fmt: skip


def test_a_spill_leaves_what_spilling_group_by_group_leaves() -> None:
    """Sidechains, stated speeds, rewrites under another request id and messages of several
    groups, out of time order, spilled again and again: the groups kept (in their order), the
    indexes and all that is remembered of the spilled ones are what the plain rule leaves."""
    rng = random.Random(7)
    dedup = Dedup()
    dedup.lookup = lambda _mid: []  # nothing in the history: a spilled message comes back new
    for batch in range(12):
        for _ in range(300):
            n = rng.randrange(400)
            dedup.add_fields(
                f"m{n}", f"r{n}-{rng.randrange(3)}", rng.random() < 0.2, rng.randrange(1, 50),
                rng.random() < 0.1, (batch * 100 + rng.randrange(-150, 100)) * 10**9,
            )  # fmt: skip
        cutoff = (batch * 100 + rng.randrange(-100, 50)) * 10**9
        plain = _spilled_as_written_plainly(dedup, cutoff)
        dropped = len(dedup) - len(plain)
        assert dedup.spill(cutoff) == dropped
        assert _state(dedup) == _state(plain)
    assert dedup._spilled_side and dedup._spilled_speed and dedup._spilled_exact
    assert any(isinstance(found, list) for found in dedup._by_message.values())


def test_duplicate_removals_indexes_stay_the_same_containers_through_a_spill() -> None:
    """A reader's loop holds ``Dedup.indexes`` across the batches it hands on: a spill or a
    compaction must change them in place, never replace them."""
    dedup = Dedup()
    dedup.lookup = lambda _mid: []
    held = dedup.indexes()
    for n in range(50):
        assert dedup.add_fields(f"m{n}", f"r{n}", False, 10, False, n * 10**9) == f"m:m{n}:r{n}"
    assert dedup.spill(40 * 10**9) == 40  # the groups of the first 40 requests go
    assert all(a is b for a, b in zip(dedup.indexes(), held, strict=True))
    groups, exact, by_message, spilled = held
    assert len(groups) == len(exact) == len(by_message) == 10 and len(spilled) == 40
    assert dedup.compact(45 * 10**9) == 5
    assert all(a is b for a, b in zip(dedup.indexes(), held, strict=True))
    assert len(groups) == 5 and dedup.add_fields("m49", "r49", False, 20, False, 49) == "m:m49:r49"
