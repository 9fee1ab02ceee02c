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
"""

from __future__ import annotations

import collections
import datetime as _dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgspec

from burntray.sources.hexai_parse import (
    EVENTS_DECODER,
    Bytes,
    Layout,
    RawEvent,
    RawEventIn,
    Series,
    StatsFile,
    StatsFormatError,
    decode_go,
    event_keys,
    go_layout,
    parse_layout,
    parse_stats,
    prefix_sums,
    to_history_events,
)

if TYPE_CHECKING:
    from burntray.store.history import HexaiEvent

_COMMA = ord(",")
_PROBE_BYTES = 48  # enough of an event (its "ts") to find it again in the previous file
_MAX_PROBES = 8


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


@dataclass(frozen=True, slots=True)
class Reread:
    """One read's result: the parse, whether it was incremental, and (when asked) the events
    that are new since the previous read, numbered for the history."""

    stats: StatsFile
    incremental: bool
    fresh: list[HexaiEvent]


class StatsReader:
    """Keeps the previous file's bytes and parse; ``read`` turns the next file into its parse.

    On any error the previous state is kept (the next read is compared with the last good file).
    """

    def __init__(self) -> None:
        self._data: Bytes | None = None
        self._layout: Layout | None = None
        self._stats: StatsFile | None = None

    @property
    def stats(self) -> StatsFile | None:
        return self._stats

    @property
    def base(self) -> Bytes | None:
        """The file the next read is compared with (None: the next read is a full parse)."""
        return self._data

    def reset(self) -> None:
        self._data = self._layout = self._stats = None

    def read(self, data: Bytes, fresh: bool = False) -> Reread:
        """Parse ``data``; ``fresh``: also list the events not in the previous read.

        Raises ``StatsFormatError`` (state unchanged).
        """
        layout = go_layout(data)
        old = self._stats
        if old is not None and self._data is not None and self._layout is not None and layout:
            result = self._delta(old, (self._data, self._layout), (data, layout), fresh)
            if result is not None:
                self._data, self._layout = data, layout
                return result
        return self._full(data, layout, fresh)

    # --- full parse ---------------------------------------------------------------------
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
        self._data, self._layout, self._stats = (data if layout else None), layout, stats
        return Reread(stats, False, new_events)

    # --- incremental --------------------------------------------------------------------
    def _delta(
        self, stats: StatsFile, old: tuple[Bytes, Layout], new: tuple[Bytes, Layout], fresh: bool
    ) -> Reread | None:
        (old_data, old_layout), (new_data, new_layout) = old, new
        split = _split(old_data, old_layout.content, new_data, new_layout.content)
        if split is None:
            return None
        pruned, appended = split
        new_events: list[HexaiEvent] = []
        if pruned is None:  # the new file holds no events at all
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
        stats.window_seconds = new_layout.window_seconds
        stats.updated_ns = new_layout.updated_ns
        return Reread(stats, True, new_events)


def _split(
    old: Bytes, old_content: tuple[int, int], new: Bytes, new_content: tuple[int, int]
) -> tuple[list[RawEventIn] | None, list[RawEventIn]] | None:
    """(pruned, appended) events that turn the old array into the new one; pruned None means
    "all, and nothing appended". None: the new array is not the old one pruned and appended."""
    o_start, o_end = old_content
    n_start, n_end = new_content
    if n_start == n_end:
        return None, []
    if o_start == o_end:
        appended = _decode_events(new, n_start, n_end)
        return None if appended is None else ([], appended)
    old_view = memoryview(old)
    n_len = n_end - n_start
    # The usual case first: nothing pruned, the old events are a prefix of the new ones.
    o_len = o_end - o_start
    if _continues(old_view[o_start:o_end], new, n_start, n_end):
        appended = _decode_events(new, n_start + o_len + 1, n_end) if n_len > o_len else []
        return None if appended is None else ([], appended)
    # Otherwise find where the new array's first event sits in the old one.
    probe = new[n_start : n_start + min(_PROBE_BYTES, n_len)]
    at = old.find(probe, o_start + 1, o_end)
    for _ in range(_MAX_PROBES):
        if at == -1:
            return None
        if old[at - 1] == _COMMA and _continues(old_view[at:o_end], new, n_start, n_end):
            pruned = _decode_events(old, o_start, at - 1)  # fails unless `at` starts an event
            if pruned is not None:
                tail = o_end - at
                appended = _decode_events(new, n_start + tail + 1, n_end) if n_len > tail else []
                return None if appended is None else (pruned, appended)
        at = old.find(probe, at + 1, o_end)
    return None


def _continues(old_part: memoryview, new: Bytes, n_start: int, n_end: int) -> bool:
    """True when ``old_part`` opens the new array's content ``new[n_start:n_end]`` and is
    followed there by the end of the array or a comma (an event boundary in both)."""
    length = len(old_part)
    if n_end - n_start < length or not new.startswith(old_part, n_start):
        return False
    return n_end - n_start == length or new[n_start + length] == _COMMA


@dataclass(slots=True)
class _Plan:
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
