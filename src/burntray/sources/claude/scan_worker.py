"""What a reading process does in a parallel first scan: one whole new Claude Code log file.

It reads the file exactly as ``ClaudeLogReader`` reads a file it has never seen (the same
tailer, the same overlong-line scan, the same line parser and prices), but does not remove
duplicates: that needs every file, in order, and is done by the reader with what this returns
(``agent_logs.parallel`` explains the split). Only picklable plain values cross back.
"""

from __future__ import annotations

from pathlib import Path

from burntray.io.log_tail import LogTailer
from burntray.model.pricing import Price, PriceTable
from burntray.sources.agent_logs.scan import UsageScan
from burntray.sources.claude.lines import (
    PROVIDER,
    USAGE_MARKER,
    entry_cost,
    parse_line,
)

# (offset of the line, its entry's fields, its cost, whether the cost is the line's own
# costUSD). The entry crosses as a plain tuple: unpickling a named tuple costs 4x more, and the
# reader's process (the one that cannot be parallel) would pay it for every request.
Found = tuple[int, tuple[object, ...], float | None, bool]
# (the file's tailer state as JSON, or None when it could not be read; bytes read; lines
# handed on; overlong lines; why it could not be read, or ""; what it holds)
FileResult = tuple[list[object] | None, int, int, int, str, list[Found]]

_prices: PriceTable | None = None


def init(prices: PriceTable) -> None:
    """The pool's initializer: the price table, sent once per process."""
    global _prices  # noqa: PLW0603 - one table per worker process, set before any file
    _prices = prices


def read_file(name: str) -> FileResult:
    """Every usable assistant line of the file ``name``, read from its start."""
    assert _prices is not None, "init() first"
    prices = _prices
    tailer = LogTailer([USAGE_MARKER], overlong=UsageScan)
    cache: dict[str, Price | None] = {}
    found: list[Found] = []

    def on_line(line: bytes, offset: int) -> None:
        try:
            entry = parse_line(line)
        except ValueError as exc:
            tailer.skip(name, f"{name}@{offset}: {exc}")
            return
        if entry is None:
            return
        model = entry.model
        if model and model not in cache:
            cache[model] = prices.lookup(PROVIDER, model)
        found.append((offset, tuple(entry), *entry_cost(entry, cache)))

    tailer.read(Path(name), on_line)
    state = tailer.files.get(name)
    stats = tailer.stats
    return (
        None if state is None else state.to_json(),
        stats.bytes_read,
        stats.lines,
        stats.overlong_lines,
        stats.unreadable.get(name, ""),
        found,
    )
