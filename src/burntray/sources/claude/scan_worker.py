"""What a reading process does in a parallel first scan: one whole new Claude Code log file.
(A file the reader reads in its own process goes line to record in ``claude.in_order``, by the
same rules: a test holds the two ways to the same records.)

It reads the file exactly as ``ClaudeLogReader`` reads a file it has never seen (the same
tailer, the same overlong-line scan, the same line rules and prices: the common line goes
straight from its strict decode to its row, any other through ``parse_line``'s checks), but does
not remove duplicates: that needs every file, in order, and is done by the reader with what this
returns (``agent_logs.parallel`` explains the split). It works out all it can of each request
(its record's fields, what duplicate removal compares) so the reader, the scan's bottleneck, has
only the ordered part left. Only picklable plain values cross back.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec

from burntray.io.log_tail import LogTailer
from burntray.model.pricing import PriceTable
from burntray.model.rates import Rates, priced, rates_of
from burntray.sources.agent_logs.scan import UsageScan
from burntray.sources.claude import lines
from burntray.sources.claude.lines import (
    MAX_BRANCH,
    PROVIDER,
    SYNTHETIC_MODEL,
    USAGE_MARKER,
    ClaudeEntry,
    entry_cost,
    parse_line_checked,
)

# One request as it crosses back: what duplicate removal compares and the record's own fields,
# worked out here (this process has CPU to spare; the reader's, which takes every request in
# order, is the scan's bottleneck): (offset of the line, message id, request id, sidechain,
# token total, speed stated, time in ns, model, input, output, cache read, cache write, cost,
# whether the cost is the line's own costUSD, git branch).
Row = tuple[
    int, str | None, str | None, bool, int, bool, int, str, int, int, int, int, float | None,
    bool, str,
]  # fmt: skip
# What a file holds crosses back as MessagePack, ``CHUNK`` rows a piece: a few bytes per
# request instead of a few hundred of Python objects, and the reader decodes (in C) one piece
# at a time, so a file's results never fill its memory.
CHUNK = 4096
DECODER = msgspec.msgpack.Decoder(list[Row])
_ENCODER = msgspec.msgpack.Encoder()
# The pieces themselves, or, with a spool folder, the file they were written to as they were
# made and each one's size: then neither process holds a file's results whole (a large file's
# are tens of MB, held twice while they cross) and the reader reads them a piece at a time.
Pieces = list[bytes] | tuple[str, list[int]]
# (the file's tailer state as JSON, or None when it could not be read; bytes read; lines
# handed on; overlong lines; why it could not be read, or ""; what it holds)
FileResult = tuple[list[object] | None, int, int, int, str, Pieces]

_prices: PriceTable | None = None
_spool_dir: str | None = None


def init(prices: PriceTable, spool_dir: str | None = None) -> None:
    """The pool's initializer: the price table, sent once per process, and the folder to
    spool what a file holds to (None: it crosses back in memory)."""
    global _prices, _spool_dir  # noqa: PLW0603 - one per worker process, set before any file
    _prices = prices
    _spool_dir = spool_dir


class _Spool:
    """Pieces written to a private file in the spool folder as they are made."""

    def __init__(self, folder: str) -> None:
        import tempfile  # noqa: PLC0415 - in a reading process only (a warm status never)

        fd, self.path = tempfile.mkstemp(suffix=".msgpack", dir=folder)  # mode 0600
        self._fh = os.fdopen(fd, "wb")
        self.sizes: list[int] = []

    def append(self, piece: bytes) -> None:
        self._fh.write(piece)
        self.sizes.append(len(piece))

    def close(self) -> None:
        self._fh.close()

    def discard(self) -> None:
        self._fh.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)


def open_pieces(held: Pieces) -> Iterator[bytes]:
    """The pieces of a ``FileResult``, one at a time; a spool file is opened now (``OSError``
    when it is gone) and removed once read."""
    if isinstance(held, list):
        return iter(held)
    path, sizes = held
    fh = open(path, "rb")  # noqa: SIM115 - closed by the generator below

    def read() -> Iterator[bytes]:
        try:
            for size in sizes:
                yield fh.read(size)
        finally:
            fh.close()
            with contextlib.suppress(OSError):
                os.unlink(path)

    return read()


def row(entry: ClaudeEntry, offset: int, cost: float | None, upstream: bool) -> Row:
    """The row that stands for ``entry`` (read at ``offset``, costing ``cost``)."""
    (ts_ns, mid, rid, model, inp, out, write, _w5m, _w1h, read, _cost, side, _fast, speed,
     branch) = entry  # fmt: skip
    total = inp + out + write + read  # ``ClaudeEntry.total``, the sum dedup compares
    return (offset, mid, rid, side, total, speed, ts_ns, model, inp, out, read, write, cost,
            upstream, branch)  # fmt: skip


def checked_row(
    line: bytes,
    offset: int,
    *,
    name: str,
    skip: Callable[[str], None],
    rates: Callable[[str], Rates | None],
    cache: dict[str, Rates | None],
) -> Row | None:
    """The row of a line the strict types refused, from the field-by-field checks: None when
    the line is not a request, or malformed (told to ``skip`` with its place in ``name``)."""
    try:
        entry = parse_line_checked(line)
    except ValueError as exc:
        skip(f"{name}@{offset}: {exc}")
        return None
    if entry is None:
        return None
    if entry.model:
        rates(entry.model)  # priced into ``cache`` for ``entry_cost``
    return row(entry, offset, *entry_cost(entry, cache))


def row_reader(
    prices: PriceTable,
    skip: Callable[[str], None],
    name: str,
    rows: list[Row],
    full: Callable[[], None],
) -> Callable[[bytes, int], None]:
    """A line handler for the file ``name``: the row each line stands for (if it is a usable
    request), priced from ``prices``, goes to ``rows``, and ``full`` is called each time
    ``rows`` holds ``CHUNK`` of them; a malformed line is told to ``skip`` with its place and
    why. Used by a reading process (the reader's own files: ``in_order.line_keeper``)."""
    strict, good, version_ok = lines.STRICT.decode, lines.GOOD_VERSIONS, lines.version_ok
    epoch, one_us = lines.EPOCH, lines.ONE_US
    cache: dict[str, Rates | None] = {}

    def rates(model: str) -> Rates | None:
        if model not in cache:
            cache[model] = rates_of(prices.lookup(PROVIDER, model))
        return cache[model]

    add = rows.append

    def on_line(line: bytes, offset: int) -> None:
        try:
            raw = strict(line)
        except msgspec.DecodeError:
            # malformed, to be skipped, or a line only the field-by-field checks take
            found = checked_row(line, offset, name=name, skip=skip, rates=rates, cache=cache)
            if found is not None:
                add(found)
                if len(rows) == CHUNK:
                    full()
            return
        # ``parse_line``'s common case, ``entry_cost`` and ``row`` in one, without the entry
        # (a test holds the two ways to the same rows)
        version = raw.version
        if version is not None and version not in good and not version_ok(version):
            return
        msg = raw.message
        usage = msg.usage
        model = msg.model
        if model is None or model == SYNTHETIC_MODEL:
            model = ""
        inp, out = usage.input_tokens, usage.output_tokens
        write, read = usage.cache_creation_input_tokens, usage.cache_read_input_tokens
        total = inp + out + write + read
        speed = usage.speed
        cost: float | None = raw.cost_usd
        upstream = cost is not None
        if not upstream:
            known = (cache[model] if model in cache else rates(model)) if model else None
            if known is None:
                cost = 0.0 if total == 0 else None
            else:
                split = usage.cache_creation
                cost = priced(
                    known, inp, out,
                    write if split is None else split.ephemeral_5m_input_tokens,
                    0 if split is None else split.ephemeral_1h_input_tokens,
                    read, speed == "fast",
                )  # fmt: skip
        branch = raw.git_branch
        add((
            offset, msg.id, raw.request_id, raw.is_sidechain is True, total,
            speed is not None, (raw.timestamp - epoch) // one_us * 1000, model, inp, out,
            read, write, cost, upstream,
            branch[:MAX_BRANCH] if isinstance(branch, str) else "",
        ))  # fmt: skip
        if len(rows) == CHUNK:
            full()

    return on_line


def read_file(name: str) -> FileResult:
    """Every usable assistant line of the file ``name``, read from its start."""
    assert _prices is not None, "init() first"
    tailer = LogTailer([USAGE_MARKER], overlong=UsageScan)
    found: list[Row] = []
    spool = _Spool(_spool_dir) if _spool_dir is not None else None
    pieces: list[bytes] | _Spool = [] if spool is None else spool

    def pack() -> None:  # packed as it goes: this process holds bytes, not entries
        pieces.append(_ENCODER.encode(found))
        found.clear()

    on_line = row_reader(_prices, lambda why: tailer.skip(name, why), name, found, pack)

    # the entries are long-lived and make no cycles: the collector would walk them again and
    # again for nothing (as in the reader's own scan)
    collecting = gc.isenabled()
    gc.disable()
    try:
        tailer.read(Path(name), on_line)
        if found:
            pieces.append(_ENCODER.encode(found))
    except BaseException:
        if spool is not None:
            spool.discard()
        raise
    finally:
        if collecting:
            gc.enable()
    held: Pieces = pieces if isinstance(pieces, list) else (pieces.path, pieces.sizes)
    if spool is not None:
        spool.close()
    state = tailer.files.get(name)
    stats = tailer.stats
    return (
        None if state is None else state.to_json(),
        stats.bytes_read,
        stats.lines,
        stats.overlong_lines,
        stats.unreadable.get(name, ""),
        held,
    )
