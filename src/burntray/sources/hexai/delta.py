"""Re-reading stats.json at a cost that grows with what changed, not with the file.

hexai's writers rewrite the whole file for every event (read, append, prune a prefix of old
events, write a temp file, rename), always with the same encoder, so the bytes of the events a
writer kept do not change. A re-read therefore looks for the previous file's event array, minus
some events at its front (pruned), followed by new events (appended):

- every byte that is skipped is compared with the previous file's bytes;
- the pruned and appended events are decoded and validated exactly as a full parse would, and
  the pruned ones must be the first live events of their provider/model;
- anything else (a clear, a hand edit, a corrupt file, a clock jump that puts an event before an
  older one, a file not laid out as Go's encoder writes it) falls back to a full parse.

So the result is always what ``parse_stats`` returns for the new bytes (a randomized test checks
this after every step of long writer/pruner/clear sequences).

Long, but one job: the incremental re-reader of stats.json, kept equal to a full parse.
"""

from __future__ import annotations

import collections
import datetime as _dt
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import msgspec
from msgspec import Struct

from burntray.io.bounded_read import MAX_WHOLE_FILE_BYTES, UnsafeFileError, open_regular_file
from burntray.sources.hexai.parse import (
    EVENTS_DECODER,
    Bytes,
    GrewPastCap,
    Layout,
    RawEvent,
    RawEventIn,
    Series,
    StatsFile,
    StatsFormatError,
    decode_go,
    event_keys,
    go_header_end,
    go_layout,
    parse_layout,
    parse_stats,
    prefix_sums,
    read_rest,
    to_history_events,
)

if TYPE_CHECKING:
    from burntray.sources.hexai.history import HexaiEvent

_COMMA = ord(",")
_OPEN_BRACKET = ord("[")
_PROBE_BYTES = 48  # enough of an event (its "ts") to find it again in the previous file
_MAX_PROBES = 8
_HEAD_BYTES = 1 << 16  # read first: the header and the first events
_COMPARE_BYTES = 1 << 20  # the piece of kept events compared at a time


def _decode_events(data: Bytes, start: int, end: int) -> list[RawEventIn] | None:
    """The events in ``data[start:end]`` (array content, no brackets); None if not exactly a
    sequence of valid events."""
    if start == end:
        return []
    try:
        events = decode_go(EVENTS_DECODER, b"[" + data[start:end] + b"]")
    except (msgspec.DecodeError, RecursionError):
        return None
    return events


def _raw(ev: RawEventIn) -> RawEvent:
    return (ev.ts, ev.provider or "", ev.model or "", ev.sent or 0, ev.recv or 0)


class Reread(Struct, frozen=True):
    """One read's result: the parse, whether it was incremental, and (when asked) the events
    that are new since the previous read, numbered for the history."""

    stats: StatsFile
    incremental: bool
    fresh: list[HexaiEvent]


class _Splice(Struct, frozen=True):
    """The new file holds the base's events from ``at`` on (``kept`` bytes), right after its
    own header (which ends at ``content_start``)."""

    content_start: int
    at: int
    kept: int
    pruned: list[RawEventIn]  # the base's events before ``at``


def _read_into(fh: BinaryIO, view: memoryview) -> int:
    """Fill ``view`` from ``fh`` until it is full or the file ends; the number of bytes read."""
    total = 0
    while total < len(view):
        got = fh.readinto(view[total:])  # type: ignore[attr-defined]  # FileIO / BytesIO
        if not got:
            break
        total += got
    return total


class StatsReader:
    """Keeps the last file's bytes (one buffer, changed in place) and the last good parse;
    ``read_file`` / ``read`` turn the next file into its parse.

    A re-read holds one copy of the file, not two: the new file is streamed and compared with
    the buffer a piece at a time, and only once every kept byte matched is the buffer turned
    into the new file (kept events moved to their new place, new header and tail written). After
    an error the next read is a full parse; the last good parse still tells which events are new.
    """

    def __init__(self) -> None:
        self._data: Bytes = b""  # the last file read (a bytearray once it is changed in place)
        self._in_place = False  # whether a first read goes straight into a reusable buffer
        self._layout: Layout | None = None  # set while ``_data`` is a base for a re-read
        self._stats: StatsFile | None = None
        self._scratch: bytearray | None = None  # one piece of the file being compared
        self._base_content: tuple[int, int] | None = None  # the base's events, during a read
        self._splice: _Splice | None = None  # how the file being read continues the base

    @property
    def stats(self) -> StatsFile | None:
        return self._stats

    @property
    def held_bytes(self) -> int:
        """How many bytes of file content the reader keeps between reads."""
        return len(self._data)

    def reset(self) -> None:
        self._data, self._layout, self._stats = b"", None, None

    def expect_rereads(self) -> None:
        """The file will be re-read (a running monitor follows it): read it into a buffer
        from the first read on, so memory does not step up at the first re-read."""
        self._in_place = True

    def read(self, data: Bytes, fresh: bool = False) -> Reread:
        """Parse the bytes of a stats.json; ``fresh``: also list the events not in the previous
        read. Raises ``StatsFormatError``."""
        self._load(io.BytesIO(data), len(data))
        return self._parse(fresh)

    def read_file(self, path: Path, fresh: bool = False) -> Reread:
        """``read`` for the file at ``path``, read safely (a regular file within the size cap,
        closed before parsing: on Windows an open handle can make hexai's rename fail).
        Raises ``UnsafeFileError`` or ``StatsFormatError``."""
        with open_regular_file(path, MAX_WHOLE_FILE_BYTES) as fh:
            try:
                self._load(fh, os.fstat(fh.fileno()).st_size)
            except OSError as exc:
                raise UnsafeFileError(path, f"read failed: {exc.strerror or exc}") from None
            except GrewPastCap as exc:
                raise exc.for_path(path) from None
        return self._parse(fresh)

    # --- the new file's bytes -----------------------------------------------------------
    def _load(self, fh: BinaryIO, size: int) -> None:
        """Make ``_data`` the new file's bytes, and ``_splice`` how they continue the base."""
        base = self._layout
        self._base_content = base.content if base is not None else None
        self._layout = None  # ``_data`` is no base until this read's parse succeeds
        self._splice = None
        if base is None or base.content[0] == base.content[1]:
            self._read_whole(fh, b"", size)
            return
        head = fh.read(_HEAD_BYTES)
        splice = self._find_kept(head, base.content)
        if splice is not None and self._splice_in(fh, head, splice):
            self._splice = splice
            return
        fh.seek(len(head))
        self._read_whole(fh, head, size)

    def _read_whole(self, fh: BinaryIO, head: bytes, size: int) -> None:
        """The whole file (``head`` already read). Re-reads go into the buffer (memory already
        touched: no page faults, and a running tray's memory stays flat); a first read goes
        into fresh memory, or, once re-reads are expected, into a buffer of the file's size."""
        want = max(size, len(head)) + 1  # one byte more than the size, to see growth
        buffer = self._data
        if not isinstance(buffer, bytearray) or not buffer:
            self._data = b""  # (the old bytes go before new memory is taken)
            if not self._in_place:  # e.g. a one-shot command: no buffer to zero-fill first
                rest = fh.read(want - len(head))
                parts = [head, rest, *(read_rest(fh, len(head) + len(rest)) if rest else [])]
                self._data = rest if not head and len(parts) == 2 else b"".join(parts)
                return
            buffer = self._data = bytearray(want)
        elif len(buffer) > want:
            del buffer[want:]
        elif len(buffer) < want:
            buffer.extend(bytes(want - len(buffer)))
        with memoryview(buffer) as view:
            view[: len(head)] = head
            total = len(head) + _read_into(fh, view[len(head) :])
        del buffer[total:]
        if total == want:  # it grew while read
            for part in read_rest(fh, total):
                buffer.extend(part)

    def _find_kept(self, head: bytes, base_content: tuple[int, int]) -> _Splice | None:
        """Where the new file's first event sits in the base (checked as far as ``head``
        reaches), with the base's events before it decoded; None if nowhere."""
        start = go_header_end(head)
        if start is None or start >= len(head) or head[start] != _OPEN_BRACKET:
            return None
        start += 1
        probe = head[start : start + _PROBE_BYTES]
        if not probe.startswith(b"{"):
            return None
        base = self._data
        o_start, o_end = base_content
        at = o_start
        for _ in range(_MAX_PROBES):
            kept = o_end - at
            seen = min(len(head) - start, kept)
            if base.startswith(memoryview(head)[start : start + seen], at):
                pruned = _decode_events(base, o_start, at - 1) if at > o_start else []
                if pruned is not None:
                    return _Splice(start, at, kept, pruned)
            at = base.find(probe, at + 1, o_end)
            while at != -1 and base[at - 1] != _COMMA:
                at = base.find(probe, at + 1, o_end)
            if at == -1:
                return None
        return None

    def _splice_in(self, fh: BinaryIO, head: bytes, splice: _Splice) -> bool:
        """Compare the rest of the kept bytes with the base a piece at a time, read what
        follows them and, when that ends the file as Go writes it (``]}\\n``, or ``,`` + events
        + ``]}\\n``), turn the buffer into the new file. False, buffer untouched, otherwise."""
        start, at, kept = splice.content_start, splice.at, splice.kept
        kept_end = start + kept  # in the new file
        base = self._data
        position = len(head)
        if position < kept_end:
            if self._scratch is None:
                self._scratch = bytearray(_COMPARE_BYTES)
            with memoryview(self._scratch) as scratch:
                while position < kept_end:
                    piece = scratch[: min(len(scratch), kept_end - position)]
                    if _read_into(fh, piece) < len(piece):
                        return False  # the file ends inside the kept events
                    if not base.startswith(piece, at + position - start):
                        return False
                    position += len(piece)
            tail = b"".join(read_rest(fh, position))
        else:
            tail = b"".join([head[kept_end:], *read_rest(fh, position)])
        if tail != b"]}\n" and not (len(tail) > 4 and tail[0] == _COMMA and tail.endswith(b"]}\n")):
            return False
        buffer = base if isinstance(base, bytearray) else bytearray(base)
        self._data = buffer  # (a first read's bytes become the buffer: one copy from now on)
        total = kept_end + len(tail)
        if len(buffer) < total:
            buffer.extend(bytes(total - len(buffer)))
        with memoryview(buffer) as view:
            view[start:kept_end] = view[at : at + kept]  # (may overlap: memoryview memmoves)
            view[:start] = head[:start]
            view[kept_end:total] = tail
        del buffer[total:]
        return True

    # --- parsing ------------------------------------------------------------------------
    def _parse(self, fresh: bool) -> Reread:
        layout = go_layout(self._data)
        old = self._stats
        if old is not None and self._base_content is not None and layout is not None:
            result = self._delta(old, layout, fresh)
            if result is not None:
                self._layout = layout
                return result
        return self._full(self._data, layout, fresh)

    def _full(self, data: Bytes, layout: Layout | None, fresh: bool) -> Reread:
        stats = parse_layout(data, layout) if layout is not None else None
        if stats is None:
            stats = parse_stats(data)  # raises with the message for this file
            layout = None  # not a base for the next read: parse that one in full too
        new_events: list[HexaiEvent] = []
        if fresh:
            current = collections.Counter(stats.raw_events())
            if self._stats is None:
                new_events = to_history_events(current)
            else:
                before = collections.Counter(self._stats.raw_events())
                new_events = to_history_events(current - before, before)
        self._layout, self._stats = layout, stats
        return Reread(stats, False, new_events)

    def _delta(self, stats: StatsFile, layout: Layout, fresh: bool) -> Reread | None:
        """Apply the change to the last parse when the new file is the base's events pruned
        at the front and appended at the end; None otherwise (a full parse then decides)."""
        n_start, n_end = layout.content
        pruned: list[RawEventIn] | None
        appended: list[RawEventIn] | None
        if n_start == n_end:  # the new file holds no events at all
            pruned, appended = None, []
        elif self._base_content is not None and self._base_content[0] == self._base_content[1]:
            pruned, appended = [], _decode_events(self._data, n_start, n_end)
        elif self._splice is not None:
            pruned = self._splice.pruned
            after = n_start + self._splice.kept
            appended = _decode_events(self._data, after + 1, n_end) if after < n_end else []
        else:
            return None
        if appended is None:
            return None
        new_events: list[HexaiEvent] = []
        if pruned is None:
            stats.series.clear()
            stats.event_count = 0
        else:
            plan = _plan(stats, pruned, appended)
            if plan is None:
                return None
            if fresh:
                new_events = _fresh(stats, pruned, appended, plan)
            _apply(stats, plan)
            stats.event_count += len(appended) - len(pruned)
        stats.window_seconds = layout.window_seconds
        stats.updated_ns = layout.updated_ns
        return Reread(stats, True, new_events)


class _Plan(Struct):
    drop: dict[tuple[str, str], int]  # series -> events pruned from its front
    add: dict[tuple[str, str], tuple[list[_dt.datetime], list[str | None], list[int], list[int]]]
    keys: list[_dt.datetime]  # appended events' keys, in file order


def _plan(stats: StatsFile, pruned: list[RawEventIn], appended: list[RawEventIn]) -> _Plan | None:
    """Check that the change is a prune from the front and an append at the end of every
    provider/model's events; None when it is anything else (a full parse then decides)."""
    drop: dict[tuple[str, str], int] = {}
    for ev in pruned:
        name = (ev.provider or "", ev.model or "")
        series = stats.series.get(name)
        gone = drop.get(name, 0)
        if series is None or gone >= len(series):
            return None
        if series.event_at(series.start + gone) != (ev.ts, ev.sent or 0, ev.recv or 0):
            return None
        drop[name] = gone + 1
    add: dict[
        tuple[str, str], tuple[list[_dt.datetime], list[str | None], list[int], list[int]]
    ] = {}
    if not appended:
        return _Plan(drop, add, [])
    try:
        keys = event_keys([ev.ts for ev in appended], appended)
    except StatsFormatError:
        return None
    placed: list[_dt.datetime] = []
    for ev, moment in zip(appended, keys, strict=True):
        key = moment
        name = (ev.provider or "", ev.model or "")
        series = stats.series.get(name)
        group = add.get(name)
        if group is None:
            group = add[name] = ([], [], [], [])
        zone = series.zone if series is not None else (group[0][0].tzinfo if group[0] else None)
        if zone is not None and key.tzinfo != zone:
            try:
                key = key.astimezone(zone)
            except OverflowError:
                return None
        if group[0]:
            last = group[0][-1]
        elif series is not None and len(series) > drop.get(name, 0):
            last = series.keys[-1]
        else:
            last = None
        if last is not None and key < last:
            return None  # earlier than an event it would follow: not an append
        group[0].append(key)
        group[1].append(ev.ts)
        group[2].append(ev.sent or 0)
        group[3].append(ev.recv or 0)
        placed.append(key)
    return _Plan(drop, add, placed)


def _fresh(
    stats: StatsFile, pruned: list[RawEventIn], appended: list[RawEventIn], plan: _Plan
) -> list[HexaiEvent]:
    """What the history has not seen: appended minus pruned (as whole-file counts would say),
    numbered after the identical events the previous file held."""
    new = collections.Counter(map(_raw, appended)) - collections.Counter(map(_raw, pruned))
    if not new:
        return []
    key_of = {_raw(ev): key for ev, key in zip(appended, plan.keys, strict=True)}
    already: dict[RawEvent, int] = {}
    for raw in new:
        text, provider, model, sent, recv = raw
        series = stats.series.get((provider, model))
        if series is not None:
            already[raw] = series.count_identical(key_of[raw], text, sent, recv)
    return to_history_events(new, already)


def _apply(stats: StatsFile, plan: _Plan) -> None:
    for name, count in plan.drop.items():
        series = stats.series[name]
        series.drop_front(count)
        if not len(series) and name not in plan.add:
            del stats.series[name]
    for name, (keys, texts, sents, recvs) in plan.add.items():
        target = stats.series.get(name)
        if target is None or not len(target):
            stats.series[name] = Series(keys, texts, prefix_sums(sents), prefix_sums(recvs))
        else:
            target.extend(keys, texts, sents, recvs)
