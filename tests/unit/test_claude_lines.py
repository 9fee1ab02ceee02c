"""Claude Code's line parser: the strict types that take the common line give exactly what the
field-by-field checks give, on every variant of every field the skip rules look at."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from burntray.io.log_tail import FileState
from burntray.model.pricing import build_price_table
from burntray.sources.claude import lines, scan_worker
from burntray.sources.claude.lines import ClaudeEntry, parse_line
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
