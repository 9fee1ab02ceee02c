"""Reading a Copilot CLI telemetry file from where the last pass stopped, when that gives
exactly what reading it whole would.

The exporter appends to its file; a pass used to decode the whole file again because a record
is chosen per trace (``reader.select``): a later line of a trace can give the trace's model or
session to the records before it, or beat one of them. ``Tail`` keeps, per file, what the lines
read so far tell about their traces and response ids; the lines after it are decoded alone, with
that as their context. When a new line would change a record counted before (a first model or a
surer session for a trace that has records, a record of a better kind in a trace or response id
that has records), the file is read whole instead, as before.

The file must be the one read: same device and inode, at least as long, its first ``size``
bytes the same (CRC-32); a file replaced, truncated or rewritten is read whole. Only files whose
last line is complete are read on from their end, and only when no record so far took the
file's time for lack of its own (a whole read dates such a record anew each time).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol, TypeVar

import msgspec

if TYPE_CHECKING:
    from burntray.sources.agent_logs.stores import Stamp

T = TypeVar("T")
NONE = 4  # beyond every kind: a trace or response with no usage record
TAILS_KEPT = 2  # files whose tail is kept: the ones written last (an exporter's file each)


class Tail(msgspec.Struct, gc=False):
    """What the first ``size`` bytes (``lines`` lines, ``found`` records) of a file held."""

    dev: int
    ino: int
    size: int
    crc: int
    lines: int
    found: int
    skipped: int = 0  # lines not JSON, and the first of them
    first: str = ""
    models: dict[str, str] = {}  # trace -> the first model named in it
    sessions: dict[str, tuple[str, int]] = {}  # trace -> its surest session and how sure
    kinds: dict[str, int] = {}  # trace -> the best (least) kind of usage record in it
    responses: dict[str, int] = {}  # response id -> the best kind of usage record with it
    newest: dict[str, int] = {}  # trace -> its newest usage record's time, ms
    mtime: int = 0  # the file's modification time when read (the latest files' tails are kept)


class Usage(Protocol):
    """A usage record as ``reader._candidates`` makes it (the fields read here)."""

    kind: int
    trace: str
    response: str
    ts_ms: int


def continues(tail: Tail, data: bytes, stamp: Stamp) -> bool:
    """Whether ``data`` (the file now) is the file ``tail`` read, with whole lines appended."""
    return (
        (stamp[0], stamp[1]) == (tail.dev, tail.ino)
        and len(data) >= tail.size
        and data.endswith(b"\n")
        and zlib.crc32(memoryview(data)[: tail.size]) == tail.crc
    )


def changes_before(
    tail: Tail,
    models: dict[str, str],
    sessions: dict[str, tuple[str, int]],
    new: Iterable[Usage],
) -> bool:
    """Whether the new lines change a record of the lines before: ``models`` and ``sessions``
    are the tail's with the new lines taken in, ``new`` their usage records."""
    kinds, responses = tail.kinds, tail.responses
    for trace in kinds:
        if trace in models and trace not in tail.models:
            return True  # the trace's first model: records without one of their own get it
        if sessions.get(trace, ("", 0))[1] > tail.sessions.get(trace, ("", 0))[1]:
            return True  # a surer session for records without one of their own
    for c in new:
        if c.kind >= 3:
            continue  # a turn's summary beats no record
        if c.trace and kinds.get(c.trace, NONE) > c.kind and c.trace in kinds:
            return True  # beats the records of its trace read before
        if c.response and c.response in responses and responses[c.response] > c.kind:
            return True
    return False


def advance(  # noqa: PLR0917 - the tail, what was read after it and its place
    tail: Tail | None,
    data: bytes,
    stamp: Stamp,
    decoded: int,
    skipped: int,
    first: str,
    models: dict[str, str],
    sessions: dict[str, tuple[str, int]],
    new: Iterable[Usage],
) -> Tail:
    """The tail once ``data`` (the whole file; the tail's bytes and what followed) is read:
    ``decoded`` records and ``skipped`` lines not JSON after the tail."""
    if tail is None:
        tail = Tail(stamp[0], stamp[1], 0, 0, 0, 0)
    crc = zlib.crc32(memoryview(data)[tail.size :], tail.crc)
    kinds, responses, newest = dict(tail.kinds), dict(tail.responses), dict(tail.newest)
    for c in new:
        if c.trace:
            kinds[c.trace] = min(kinds.get(c.trace, NONE), c.kind)
            newest[c.trace] = max(newest.get(c.trace, 0), c.ts_ms)
        if c.response:
            responses[c.response] = min(responses.get(c.response, NONE), c.kind)
    return Tail(
        stamp[0], stamp[1], len(data), crc,
        tail.lines + data.count(b"\n", tail.size), tail.found + decoded,
        tail.skipped + skipped, tail.first or first, models, sessions, kinds, responses, newest,
        stamp[3],
    )  # fmt: skip


def load_tails(saved: object) -> dict[str, Tail]:
    """The tails as ``more_state`` kept them; none when they are not of this shape (the files
    are then read whole once)."""
    try:
        return msgspec.convert(saved, dict[str, Tail])
    except msgspec.ValidationError:
        return {}
