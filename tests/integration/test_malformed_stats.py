"""Malformed stats.json files (property-based): no exception escapes, the status names the
problem, and the file is left exactly as it was."""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from burntray.model.pricing import build_price_table
from burntray.model.timefmt import parse_rfc3339_ns
from burntray.sources.hexai.source import HexaiSource

VALID_EVENT = {
    "ts": "2026-03-01T10:14:11.9+01:00",
    "provider": "openai",
    "model": "gpt-4.1",
    "sent": 5120,
    "recv": 734,
}
VALID = {
    "version": 1,
    "updated_at": "2026-03-01T10:15:02.48133+01:00",
    "window_seconds": 3600,
    "events": [VALID_EVENT, dict(VALID_EVENT, ts="2026-03-01T09:15:00Z")],
}
VALID_BYTES = json.dumps(VALID, separators=(",", ":")).encode() + b"\n"

wrong_for_int = st.one_of(
    st.text(max_size=5),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.floats(allow_nan=False, allow_infinity=False),
)
wrong_for_str = st.one_of(
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.text(max_size=3), max_size=2),
)
huge = st.one_of(
    st.integers(min_value=2**63, max_value=2**200),
    st.integers(min_value=-(2**200), max_value=-(2**63) - 1),
)


def _not_a_time(text: str) -> bool:
    try:
        parse_rfc3339_ns(text)
    except ValueError:
        return True
    return False


bad_ts = st.one_of(
    st.sampled_from(
        [
            "2026-03-01T10:14:11",
            "2026-03-01",
            "10:14:11Z",
            "2026-13-01T00:00:00Z",
            "2026-03-01T10:14:11+1:00",
            "now",
            "",
            " 2026-03-01T10:14:11Z",
        ]
    ),
    # Random text from a timestamp's alphabet is sometimes a real RFC 3339 time (Go's zero time,
    # 0001-01-01T00:00:00Z, is one hexai writes): only what the parser refuses is malformed.
    st.text(alphabet="0123456789-T:Z+.", min_size=1, max_size=30).filter(_not_a_time),
)


@st.composite
def malformed(draw: st.DrawFn) -> tuple[bytes, tuple[str, ...]]:
    kind = draw(
        st.sampled_from(
            [
                "truncated",
                "int_field",
                "str_field",
                "huge",
                "float_int",
                "ts",
                "utf8",
                "nesting",
                "top",
            ]
        )
    )
    doc = json.loads(VALID_BYTES)
    index = draw(st.integers(0, 1))
    if kind == "truncated":
        cut = draw(st.integers(0, len(VALID_BYTES) - 3))  # "}\n" cut -> never valid JSON
        return VALID_BYTES[:cut], ("corrupt JSON",)
    if kind == "int_field":
        field = draw(st.sampled_from(["sent", "recv"]))
        doc["events"][index][field] = draw(
            wrong_for_int.filter(lambda v: not isinstance(v, int) or isinstance(v, bool))
        )
        return json.dumps(doc).encode(), ("wrong shape", field)
    if kind == "str_field":
        field = draw(st.sampled_from(["provider", "model", "ts"]))
        doc["events"][index][field] = draw(wrong_for_str)
        return json.dumps(doc).encode(), ("wrong shape", field)
    if kind == "huge":
        field = draw(st.sampled_from(["sent", "recv"]))
        doc["events"][index][field] = draw(huge)
        return json.dumps(doc).encode(), ("wrong shape", field)
    if kind == "float_int":
        value = float(draw(st.integers(-10, 10_000)))
        doc["window_seconds"] = value  # 3600.0: Go treats this file as corrupt
        return json.dumps(doc).encode(), ("wrong shape", "window_seconds")
    if kind == "ts":
        doc["events"][index]["ts"] = draw(bad_ts)
        return json.dumps(doc).encode(), (f"events[{index}].ts",)
    if kind == "utf8":
        raw = json.dumps(doc).encode()
        bad = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xe2\x82", b"\xed\xa0\x80"]))
        # Inside a string Go (and burntray) read it as U+FFFD; between tokens it is corrupt.
        return raw.replace(b'"events":', bad + b'"events":', 1), ("corrupt JSON",)
    if kind == "nesting":
        depth = draw(st.integers(100, 20_000))
        return (
            b'{"version":1,"events":' + b"[" * depth + b"]" * depth + b"}",
            ("wrong shape",) if depth < 1000 else ("",),
        )
    value = draw(st.sampled_from([b"[]", b"null", b"42", b'"stats"', b"true"]))
    return value, ("wrong shape",)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=malformed())
def test_malformed_files_are_reported_and_untouched(
    hexai_dir: Path, case: tuple[bytes, tuple[str, ...]]
) -> None:
    data, expected_words = case
    stats = hexai_dir / "stats.json"
    stats.write_bytes(data)
    before = os.stat(stats)
    source = HexaiSource(hexai_dir, build_price_table())
    changed = source.poll()  # must not raise
    snap = source.snapshot(3600 * 10**9)
    assert changed is True
    assert snap.status.state == "error", (data[:120], snap.status)
    assert str(stats) in snap.status.detail
    for word in expected_words:
        assert word in snap.status.detail, (word, snap.status.detail)
    assert stats.read_bytes() == data
    after = os.stat(stats)
    assert (after.st_mtime_ns, after.st_ino, after.st_size) == (
        before.st_mtime_ns,
        before.st_ino,
        before.st_size,
    )
    assert sorted(p.name for p in hexai_dir.iterdir()) == ["stats.json"]


def test_an_event_at_gos_zero_time_is_read_not_reported(hexai_dir: Path) -> None:
    # Go writes an unset time.Time as 0001-01-01T00:00:00Z: a well-formed file, not a broken one
    # (Hypothesis once drew this as a "bad" timestamp).
    doc = json.loads(VALID_BYTES)
    doc["events"][1]["ts"] = "0001-01-01T00:00:00Z"
    (hexai_dir / "stats.json").write_bytes(json.dumps(doc).encode())
    source = HexaiSource(hexai_dir, build_price_table())
    source.poll()
    snap = source.snapshot(3600 * 10**9)
    assert snap.status.state != "error", snap.status
    assert _not_a_time("0001-01-01T00:00:00Z") is False
    assert _not_a_time("2026-13-01T00:00:00Z") is True
