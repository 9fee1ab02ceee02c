"""The protobuf wire reader Antigravity's blobs are parsed with: one-byte and longer varints
(tags, counts and lengths), nested messages, skipped fixed-width fields, and every way a blob
can be cut off or not be protobuf."""

from __future__ import annotations

import pytest

from burntray.sources.antigravity.protobuf import Malformed, fields, message, number, string
from tests.agent_logs_support import _pb_bytes, _pb_number, _pb_varint


def test_fields_read_short_and_long_varints_and_nested_messages() -> None:
    long_text = b"x" * 300  # a length of two bytes
    blob = (
        _pb_number(1, 5)  # one-byte value
        + _pb_number(2, 2**40 + 7)  # a value of six bytes
        + _pb_number(200, 9)  # a tag of two bytes
        + _pb_bytes(3, long_text)
        + _pb_bytes(4, _pb_number(2, 12_000) + _pb_bytes(11, b" r1 "))
        + _pb_varint((5 << 3) | 1) + b"\x00" * 8  # fixed 64 bits: skipped
        + _pb_varint((6 << 3) | 5) + b"\x00" * 4  # fixed 32 bits: skipped
        + _pb_number(1, 99)  # repeated: the first counts
    )  # fmt: skip
    top = fields(blob)
    assert (number(top, 1), number(top, 2), number(top, 200)) == (5, 2**40 + 7, 9)
    assert top[3] == long_text and 5 not in top and 6 not in top
    usage = message(top, 4)
    assert usage is not None and (number(usage, 2), string(usage, 11)) == (12_000, "r1")
    assert message(top, 1) is None and number(top, 3) == 0 and string(top, 1) == ""
    assert fields(b"") == {}


@pytest.mark.parametrize(
    ("blob", "why"),
    [
        (b"\x08", "ends inside a number"),  # a tag, then nothing
        (b"\x08\x80", "ends inside a number"),  # a varint cut after its first byte
        (b"\x88", "ends inside a number"),  # a tag cut
        (b"\x0a\x05ab", "a field longer than the blob"),
        (b"\x0a\x85", "ends inside a number"),  # a length cut
        (b"\x09\x00\x00", "ends inside a fixed-width field"),
        (b"\x0b", "wire type 3"),  # a group: cannot be skipped
        (b"\x00\x01", "field number 0"),
        (b"\xff" * 11, "longer than 64 bits"),
    ],
)
def test_a_blob_that_is_not_protobuf_says_why(blob: bytes, why: str) -> None:
    with pytest.raises(Malformed, match=why):
        fields(blob)
