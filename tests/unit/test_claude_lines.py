"""Claude Code's line parser: the strict types that take the common line give exactly what the
field-by-field checks give, on every variant of every field the skip rules look at."""

from __future__ import annotations

import itertools
import json

import pytest

from burntray.sources.claude import lines
from burntray.sources.claude.lines import ClaudeEntry, parse_line
from tests.agent_logs_support import claude_line

SONNET = "claude-sonnet-4-5-20250929"
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
        expected = _outcome(lines._parse_checked, line)
        assert _outcome(parse_line, line) == expected, line
        taken += isinstance(expected, ClaudeEntry)
        strict += not isinstance(_outcome(lines._STRICT.decode, line), str)
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
