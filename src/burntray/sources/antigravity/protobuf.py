"""Just enough of the protobuf wire format to read Antigravity's usage blobs: the fields of one
message, each a whole number (varint) or bytes (a nested message, a string). Bounded: a blob
that ends inside a field, or uses a wire type that cannot be skipped, is malformed."""

from __future__ import annotations

MAX_SHIFT = 63


class Malformed(ValueError):
    """The blob is not a protobuf message."""


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise Malformed("ends inside a number")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > MAX_SHIFT:
            raise Malformed("a number longer than 64 bits")


def fields(buf: bytes) -> dict[int, int | bytes]:
    """The message's fields by number (the first of a repeated one)."""
    # Most tags, counts and lengths fit in one byte: those are taken inline (a first scan
    # parses a hundred thousand messages), the longer ones by ``_varint``.
    found: dict[int, int | bytes] = {}
    pos, end = 0, len(buf)
    while pos < end:
        tag = buf[pos]
        if tag < 0x80:
            pos += 1
        else:
            tag, pos = _varint(buf, pos)
        number, wire = tag >> 3, tag & 7
        value: int | bytes
        if wire == 0 or wire == 2:  # noqa: PLR1714 - two ints: faster than a set lookup
            if pos < end and buf[pos] < 0x80:
                varint = buf[pos]
                pos += 1
            else:
                varint, pos = _varint(buf, pos)
            value = varint
            if wire == 2:
                if pos + varint > end:
                    raise Malformed("a field longer than the blob")
                value, pos = buf[pos : pos + varint], pos + varint
        elif wire in {1, 5}:  # fixed 64 / 32 bits: not used here, skipped
            pos += 8 if wire == 1 else 4
            if pos > end:
                raise Malformed("ends inside a fixed-width field")
            continue
        else:
            raise Malformed(f"wire type {wire}")
        if number == 0:
            raise Malformed("field number 0")
        if number not in found:
            found[number] = value
    return found


def message(parent: dict[int, int | bytes], number: int) -> dict[int, int | bytes] | None:
    value = parent.get(number)
    return fields(value) if isinstance(value, bytes) else None


def number(parent: dict[int, int | bytes], n: int) -> int:
    value = parent.get(n)
    return value if isinstance(value, int) else 0


def string(parent: dict[int, int | bytes], n: int) -> str:
    value = parent.get(n)
    if not isinstance(value, bytes):
        return ""
    try:
        return value.decode().strip()
    except UnicodeDecodeError:
        return ""
