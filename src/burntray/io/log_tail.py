"""Reading append-only JSONL logs incrementally: only the bytes appended since the last read.

Coding agents (Claude Code, Codex) append one JSON object per line while a session runs; a
single file reaches hundreds of MB and there are thousands of them. So, per file, we remember
(device, inode, size, mtime, offset) and on each pass:

- a file whose size and mtime did not change is not even opened;
- a file that grew is read from its offset, in bounded chunks, and only complete lines are
  handed on; a partial last line (no newline yet) is left for the next pass;
- a file that was truncated or replaced (another inode, or smaller than what we read) is read
  again from 0, and the caller is told so it can forget that file's per-file state;
- a line longer than ``max_line`` is never held whole: the caller's ``overlong`` scan is fed it
  in pieces and hands on a small line with what it needs; without one, a line that holds no
  marker is passed over as any such line is, one that does is skipped. What cannot be used is
  counted per file with the offsets (as are the lines the caller could not use), so one odd
  line cannot fill memory and never goes unsaid.

Lines the caller cannot use are dropped cheaply: ``markers`` are byte strings searched in each
chunk (no split into lines, no JSON decode) and only the lines containing one are handed on.
Files are opened with ``open_regular_file`` (regular files only, never blocking).
"""

from __future__ import annotations

import functools
import json
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, Protocol

from msgspec import Struct, field

from burntray.io.bounded_read import UnsafeFileError, open_regular_file

# A chunk is held twice at most (a line cut at its end is joined to the next): 1 MiB keeps a
# first scan's reading process at 28 MB peak RSS (41 MB with 4 MiB chunks) for the same CPU.
CHUNK_BYTES = 1024 * 1024
MAX_LINE_BYTES = 32 * 1024 * 1024
MAX_REASON = 500  # characters of a skipped line's reason kept in the state


class FileState(Struct):
    """What we know of one log file; ``extra`` is the caller's per-file parser state."""

    dev: int
    ino: int
    size: int
    mtime_ns: int
    offset: int
    extra: dict[str, object] = field(default_factory=dict)
    # lines of this file read so far that could not be used (malformed, too long), and the
    # first one's place and reason: kept with the offset, so every later run still says so
    skipped: int = 0
    first_skip: str = ""

    def to_json(self) -> list[object]:
        out = [self.dev, self.ino, self.size, self.mtime_ns, self.offset, self.extra]
        return [*out, self.skipped, self.first_skip] if self.skipped else out

    @classmethod
    def from_json(cls, raw: object) -> FileState | None:
        if not isinstance(raw, list) or len(raw) not in (6, 8):
            return None
        skipped, first = raw[6:] if len(raw) == 8 else (0, "")
        *numbers, extra = raw[:6]
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in (*numbers, skipped)):
            return None
        if not isinstance(extra, dict) or not isinstance(first, str) or skipped < 0:
            return None
        dev, ino, size, mtime_ns, offset = numbers
        return cls(dev, ino, size, mtime_ns, offset, extra, skipped, first[:MAX_REASON])


# (line bytes without the newline, byte offset of the line in the file)
LineSink = Callable[[bytes, int], None]


class LineScan(Protocol):
    """Reads what matters out of a line too long to hold, fed in pieces (``agent_logs.scan``)."""

    def feed(self, data: bytes) -> None: ...

    def result(self) -> bytes | None:
        """A small line standing for it (None: nothing in it to count); ``ValueError`` when it
        cannot be read."""
        ...


class TailStats(Struct):
    bytes_read: int = 0
    lines: int = 0
    overlong_lines: int = 0
    resets: int = 0
    unreadable: dict[str, str] = field(default_factory=dict)  # path -> why


class MarkerScan:
    """The default scan of an overlong line: it is passed over like any line without a marker
    (nothing in it to count), or, when it holds one, is an error (counted as skipped)."""

    def __init__(self, markers: Sequence[bytes]) -> None:
        self.markers = tuple(markers)
        self._keep = max((len(m) for m in self.markers), default=1) - 1
        self._tail = b""  # the end of the last piece: a marker may straddle two pieces
        self.found = False

    def feed(self, data: bytes) -> None:
        if self.found:
            return
        window = self._tail + data
        self.found = any(m in window for m in self.markers)
        self._tail = window[-self._keep :] if self._keep else b""

    def result(self) -> bytes | None:
        if self.found:
            raise ValueError("it holds usage, but is too long to read")
        return None


class LogTailer:
    """Per-file offsets over many files; see the module docstring."""

    def __init__(
        self,
        markers: Sequence[bytes],
        *,
        chunk_bytes: int = CHUNK_BYTES,
        max_line: int = MAX_LINE_BYTES,
        overlong: Callable[[], LineScan] | None = None,
    ) -> None:
        self.markers = tuple(markers)
        self.chunk_bytes = chunk_bytes
        self.max_line = max_line
        self.overlong = overlong
        self.files: dict[str, FileState] = {}
        self.stats = TailStats()
        # files whose last pass ended inside an overlong line: (its scan, the line's offset,
        # where to go on reading); the saved offset stays at the line's start meanwhile
        self._open: dict[str, tuple[LineScan, int, int]] = {}

    def save_state(self) -> str:
        """The per-file offsets as JSON, kept beside the records so a restart reads only what
        is new."""
        return json.dumps({p: s.to_json() for p, s in self.files.items()})

    def load_state(self, text: str) -> None:
        """Resume from ``save_state``'s JSON. What is not such a state (another version's) is
        passed over, file by file: those files are read from the start again."""
        try:
            raw = json.loads(text)
        except ValueError:
            return
        if not isinstance(raw, dict):
            return
        for path, value in raw.items():
            state = FileState.from_json(value)
            if state is not None:
                self.files[str(path)] = state

    def skip(self, path: str, why: str) -> None:
        """Count a line of ``path`` that could not be used (``why``: its place and reason)."""
        state = self.files.get(path)
        if state is None:
            return
        state.skipped += 1
        if not state.first_skip:
            state.first_skip = why[:MAX_REASON]

    def skipped(self) -> tuple[int, str]:
        """Lines skipped in the files as they are now, and the first one's place and reason
        (first by path): what every view says until those files change."""
        total, first = 0, ""
        for path in sorted(self.files):
            state = self.files[path]
            if state.skipped:
                total += state.skipped
                first = first or state.first_skip
        return total, first

    def forget_missing(self, present: set[str]) -> list[str]:
        """Drop the state of files that no longer exist; returns their paths."""
        gone = [p for p in self.files if p not in present]
        for p in gone:
            del self.files[p]
            self._open.pop(p, None)
        for p in [p for p in self.stats.unreadable if p not in present]:
            del self.stats.unreadable[p]  # a file that went away is no longer a gap
        return gone

    def quiet_since(self, path: str, since_ns: int) -> bool:
        """True when ``path`` was read before and had not been written since ``since_ns`` then
        (no stat: for polling passes that look only at recently active files)."""
        state = self.files.get(path)
        return state is not None and state.mtime_ns < since_ns

    def unchanged(self, path: str) -> bool:
        """True when ``path`` is exactly as last read (same inode, size and mtime): one stat."""
        state = self.files.get(path)
        if state is None:
            return False
        try:
            info = os.stat(path)
        except OSError:
            return False
        return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns) == (
            state.dev,
            state.ino,
            state.size,
            state.mtime_ns,
        )

    def read(
        self,
        path: Path,
        on_line: LineSink,
        on_reset: Callable[[FileState], None] | None = None,
    ) -> bool:
        """Hand on the complete new lines of ``path`` that contain a marker; True if any byte
        was read. Never raises for a bad file: the reason is kept in ``stats.unreadable``."""
        key = str(path)
        try:
            info = os.stat(path)
        except OSError as exc:
            self.stats.unreadable[key] = exc.strerror or str(exc)
            return False
        if not stat.S_ISREG(info.st_mode):
            self.stats.unreadable[key] = "not a regular file"
            return False
        state = self.files.get(key)
        if state is not None and (state.dev, state.ino) == (info.st_dev, info.st_ino):
            if info.st_size == state.size and info.st_mtime_ns == state.mtime_ns:
                return False  # unchanged: not even opened
            if info.st_size < state.offset:
                state = self._reset(key, info, on_reset)  # truncated in place
        else:
            if state is not None:
                self._reset(key, info, on_reset)  # replaced by another file
            state = FileState(info.st_dev, info.st_ino, 0, 0, 0)
            self.files[key] = state
        try:
            fh = open_regular_file(path, max_bytes=None)
        except UnsafeFileError as exc:
            self.stats.unreadable[key] = exc.reason
            return False
        self.stats.unreadable.pop(key, None)
        with fh:
            opened = os.fstat(fh.fileno())
            if (opened.st_dev, opened.st_ino) != (state.dev, state.ino):
                return False  # replaced between stat and open: the next pass sees the new one
            read_any = self._read_from(fh, key, state, on_line)
            state.size = opened.st_size
            state.mtime_ns = opened.st_mtime_ns
        return read_any

    def _reset(
        self, key: str, info: os.stat_result, on_reset: Callable[[FileState], None] | None
    ) -> FileState:
        old = self.files[key]
        self._open.pop(key, None)
        self.stats.resets += 1
        if on_reset is not None:
            on_reset(old)
        state = FileState(info.st_dev, info.st_ino, 0, 0, 0)
        self.files[key] = state
        return state

    def _read_from(self, fh: BinaryIO, key: str, state: FileState, on_line: LineSink) -> bool:
        resume = self._open.pop(key, None)
        scan: LineScan | None = None
        if resume is None:
            skipping = False  # inside an overlong line: scan its bytes to its newline
            line_start = base = state.offset  # base: file offset of pending[0]
        else:  # the last pass ended inside an overlong line: go on where it stopped
            skipping = True
            scan, line_start, base = resume
        fh.seek(base)
        pending = b""
        read_any = False
        while True:
            try:
                chunk: bytes = fh.read(self.chunk_bytes)
            except OSError as exc:
                self.stats.unreadable[key] = exc.strerror or str(exc)
                break
            if not chunk:
                break
            read_any = True
            self.stats.bytes_read += len(chunk)
            if skipping:
                newline = chunk.find(b"\n")
                assert scan is not None  # set with ``skipping``
                if newline < 0:
                    scan.feed(chunk)
                    base += len(chunk)
                    continue
                scan.feed(chunk[:newline])
                self._end_overlong(key, scan, line_start, on_line)
                skipping, scan = False, None
                chunk = chunk[newline + 1 :]
                base += newline + 1
                state.offset = base
            data = pending + chunk if pending else chunk
            last_newline = data.rfind(b"\n")
            if last_newline < 0:
                pending = data
            else:
                self._scan(data, last_newline + 1, base, on_line)
                pending = data[last_newline + 1 :]
                base += last_newline + 1
                state.offset = base
            if len(pending) > self.max_line:
                self.stats.overlong_lines += 1
                line_start = base
                scan = self.overlong() if self.overlong is not None else MarkerScan(self.markers)
                scan.feed(pending)
                base += len(pending)
                pending = b""
                skipping = True
        if skipping and scan is not None:
            # the line goes on past what is written: resume the scan on the next pass (a
            # restart reads the line again from its start, where the saved offset stays)
            self._open[key] = (scan, line_start, base)
        return read_any

    def _end_overlong(self, key: str, scan: LineScan, line_start: int, on_line: LineSink) -> None:
        """An overlong line ended: hand on what its scan read out of it, or count it skipped."""
        why = f"{key}@{line_start}: a line longer than {self.max_line} bytes"
        try:
            small = scan.result()
        except ValueError as exc:
            self.skip(key, f"{why}: {exc}")
            return
        if small is not None:  # None: it held nothing to count
            self.stats.lines += 1
            on_line(small, line_start)

    def _scan(self, data: bytes, end: int, base: int, on_line: LineSink) -> None:
        """Hand on each line of ``data[:end]`` that holds a marker (each line at most once)."""
        if len(self.markers) != 1:
            for start, stop in _marked_lines(data, end, self.markers):
                self.stats.lines += 1
                on_line(data[start:stop], base + start)
            return
        # ``_marked_lines``'s one-marker case inline: a line costs three C searches, a slice and
        # the call (a Claude Code log is nearly all marked lines: a generator's step and a count
        # per line were 40 % of finding them)
        marker, find, rfind = self.markers[0], data.find, data.rfind
        count = 0
        pos = find(marker, 0, end)
        try:
            while pos >= 0:
                start = rfind(b"\n", 0, pos) + 1
                stop = find(b"\n", pos, end)
                if stop < 0:
                    stop = end - 1
                count += 1
                on_line(data[start:stop], base + start)
                pos = find(marker, stop + 1, end)
        finally:
            self.stats.lines += count


def _marked_lines(data: bytes, end: int, markers: tuple[bytes, ...]) -> Iterator[tuple[int, int]]:
    """(start, stop) of the lines within ``data[:end]`` that contain one of ``markers``, in order.

    Searching the chunk for markers and widening each hit to its line is what keeps a pass over a
    GB of logs cheap: most lines (prompts, tool output) hold no marker and are never touched.
    """
    if len(markers) == 1:
        marker = markers[0]
        pos = data.find(marker, 0, end)
        while pos >= 0:
            start = data.rfind(b"\n", 0, pos) + 1
            stop = data.find(b"\n", pos, end)
            stop = end - 1 if stop < 0 else stop
            yield start, stop
            pos = data.find(marker, stop + 1, end)
        return
    # one pass for all the markers (a regular expression of them, per chunk, not per line): a
    # marker that never occurs (OpenClaw's model changes, in most logs) cost a whole pass of
    # its own with a ``find`` per marker, 2.4x the time of this over OpenClaw's logs
    if not markers:
        return
    search = _any_of(markers).search
    found = search(data, 0, end)
    while found is not None:
        hit = found.start()
        start = data.rfind(b"\n", 0, hit) + 1
        stop = data.find(b"\n", hit, end)
        stop = end - 1 if stop < 0 else stop
        yield start, stop
        found = search(data, stop + 1, end)


@functools.lru_cache(maxsize=32)
def _any_of(markers: tuple[bytes, ...]) -> re.Pattern[bytes]:
    return re.compile(b"|".join(re.escape(m) for m in markers))
