"""Claude Code's own logs: every request's usage, read straight from ``projects/**/*.jsonl``.

Where: each Claude config folder (``$CLAUDE_CONFIG_DIR``, else ``~/.config/claude`` and
``~/.claude``; see ``.paths``) has ``projects/<project>/<session>.jsonl`` and
subagent files below ``<project>/<session>/``. Every ``*.jsonl`` below ``projects`` counts.
What a line holds and the rules that make the figures agree with ccusage (duplicates, costs):
``.lines``; removing duplicates as lines are read: ``.dedup``.

A request whose surviving line changes (a larger streaming duplicate arrives later) is emitted
again with the same record key, so an idempotent store keeps only its last word.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Callable, Iterable
from operator import itemgetter
from pathlib import Path

from burntray.io.log_tail import FileState, LogTailer
from burntray.model.pricing import PriceTable
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.files import JsonlFinder
from burntray.sources.agent_logs.parallel import (
    PARALLEL_MIN_BYTES,
    START_METHOD,
    OrderedFiles,
    worker_count,
)
from burntray.sources.agent_logs.progress import ScanCounter
from burntray.sources.agent_logs.scan import UsageScan
from burntray.sources.claude import scan_worker
from burntray.sources.claude.dedup import Dedup
from burntray.sources.claude.in_order import Out, Place, keep_rows, line_keeper
from burntray.sources.claude.lines import (
    PROVIDER,
    SYNTHETIC_MODEL,
    USAGE_MARKER,
    ClaudeEntry,
    entry_cost,
    parse_line,
)
from burntray.sources.claude.scan_worker import FileResult

__all__ = [
    "PROVIDER",
    "SYNTHETIC_MODEL",
    "USAGE_MARKER",
    "ClaudeEntry",
    "ClaudeLogReader",
    "entry_cost",
    "parse_line",
]

# Called with a batch of records during a long read (``ClaudeLogReader.read_new``); True when
# they are in the history now (their duplicate groups can then be spilled).
Flush = Callable[[list[UsageRecord]], bool | None]
# Records held before a long read hands them on (one history transaction each).
FLUSH_RECORDS = 20_000
# Once a read has handed on a batch (a long read: its writing process is under way), the batches
# of the files after are this size, so that what is left to write when reading ends is small: the
# reader waits for that last batch (a heavy week's first scan: 0.13-0.24 s after reading with
# batches of 20,000, 0.07-0.09 s with 5,000; the write takes no more CPU in smaller batches:
# 0.90 s against 0.78 s for its 240,000 records). A read under FLUSH_RECORDS writes once at its
# end, as before, and starts no writing process.
LATER_FLUSH_RECORDS = 5_000
# Groups are kept for this long before the reader compacts them (when there are many).
KEEP_GROUPS_NS = 48 * 3600 * 10**9
COMPACT_AT_GROUPS = 50_000
# Past this many groups in a long read, those of requests over SPILL_KEEP_NS older than the newest
# are spilled (rebuilt exactly from the history if seen again: rewrites come within minutes).
SPILL_AT_GROUPS = 20_000
SPILL_KEEP_NS = 3600 * 10**9


def session_parts(projects_dir: Path, path: Path) -> tuple[str, str]:
    """(project, session) of a log file: ``<project>/<session>.jsonl`` or, for subagents and
    other nested files, ``<project>/<session>/...``."""
    try:
        parts = path.relative_to(projects_dir).parts
    except ValueError:
        return "", path.stem
    if len(parts) == 1:
        return "", path.stem
    if len(parts) == 2:
        return parts[0], Path(parts[1]).stem
    return parts[0], parts[1]


class ClaudeLogReader:
    """Reads what is new in every Claude config folder's ``projects`` tree.

    Files never read before are read by several processes when there are enough new bytes (the
    first scan: ``agent_logs.parallel``); their entries are then taken in the files' order, as
    the serial read takes them, so duplicate removal sees exactly the same sequence."""

    def __init__(
        self,
        config_dirs: Iterable[Path],
        prices: PriceTable,
        *,
        workers: int | None = None,
        parallel_min_bytes: int = PARALLEL_MIN_BYTES,
        start_method: str = START_METHOD,
    ) -> None:
        self.config_dirs = [Path(d) for d in config_dirs]
        self.prices = prices
        self.tailer = LogTailer([USAGE_MARKER], overlong=UsageScan)
        self.dedup = Dedup()
        self._finders = [JsonlFinder(d / "projects") for d in self.config_dirs]
        self.missing = ""
        self.files_seen = 0
        self._compact_at = COMPACT_AT_GROUPS
        self._newest_ns = -(2**63)
        # reading processes besides this one; None: as the cores allow (``worker_count``)
        self.workers = workers
        self.kept_cores = 1  # cores the scan keeps busy besides reading processes
        self.parallel_min_bytes = parallel_min_bytes
        self.start_method = start_method
        self.parallel_problem = ""  # why the last big read could not use other processes
        self.progress = ScanCounter()
        self._flush_at = FLUSH_RECORDS  # the batch size of this read's next file
        # Called as a long read starts (as many new bytes as make reading processes worth
        # it), before its first batch: a writing process (a few tenths of a second to start)
        # starts now, not once the first batch waits for it (``agent_logs.streaming``).
        self.long_read_starts: Callable[[], None] | None = None

    def folders(self) -> list[str]:
        return [f for finder in self._finders for f in finder.folders()]

    @property
    def malformed_lines(self) -> int:
        """Lines skipped in the files as they are now (kept with the offsets)."""
        return self.tailer.skipped()[0]

    @property
    def first_malformed(self) -> str:
        return self.tailer.skipped()[1]

    def unreadable(self) -> dict[str, str]:
        """Folders and files that could not be read on the last pass (path -> why): their
        requests are missing from the figures."""
        found = {p: why for finder in self._finders for p, why in finder.unreadable.items()}
        return {**found, **self.tailer.stats.unreadable}

    def read_new(
        self, active_since_ns: int | None = None, flush: Flush | None = None
    ) -> list[UsageRecord]:
        """Records for the requests that are new or changed since the last call.

        ``active_since_ns``: look only at new files and files written since then (a cheap
        polling pass; a full pass, without it, looks at every file). ``flush``: called with
        the records so far each time they reach ``FLUSH_RECORDS`` (``LATER_FLUSH_RECORDS``
        after the first batch; between files or within one), so a first
        scan writes its history in large batches instead of holding it all; what is returned
        is what was not flushed."""
        out: dict[str, UsageRecord] = {}
        self._flush_at = FLUSH_RECORDS
        present: set[str] = set()
        missing = []
        todo: list[tuple[Path, str]] = []
        for finder in self._finders:
            files = finder.find()
            if finder.problem:
                missing.append(finder.problem)
            present.update(files)
            quiet, unchanged = self.tailer.quiet_since, self.tailer.unchanged
            for name in files:
                if active_since_ns is not None and quiet(name, active_since_ns):
                    continue
                if unchanged(name):
                    continue  # the common case on every pass: one stat, nothing else
                todo.append((finder.root, name))
        self._read_files(todo, out, flush)
        self.tailer.forget_missing(present)
        self.files_seen = len(present)
        if len(self.dedup) > self._compact_at:
            newest = max(map(_ts_ns, out.values()), default=self._newest_ns)
            self._newest_ns = max(self._newest_ns, newest, self._flushed_newest)
            self.dedup.compact(self._newest_ns - KEEP_GROUPS_NS)
            self._compact_at = max(COMPACT_AT_GROUPS, 2 * len(self.dedup))
        # Nothing to read yet is not an error: Claude Code may simply never have run here.
        self.missing = (
            "no Claude Code projects folder: " + "; ".join(missing)
            if missing and len(missing) == len(self._finders)
            else ""
        )
        return list(out.values())

    _flushed_newest = -(2**63)

    def _read_files(self, todo: list[tuple[Path, str]], out: Out, flush: Flush | None) -> None:
        """Read ``todo`` in order; files never read go to other processes when they are many
        bytes. Progress (bytes done of bytes to read) is kept in ``progress`` meanwhile."""
        sizes = {name: _size(name) - self._offset(name) for _root, name in todo}
        fresh = [name for _root, name in todo if name not in self.tailer.files]
        fresh_bytes = sum(sizes[name] for name in fresh)
        workers = self.workers
        if workers is None:
            workers = worker_count(len(fresh), kept_cores=self.kept_cores)
        parallel = workers > 0 and fresh_bytes >= self.parallel_min_bytes
        if self.long_read_starts is not None and fresh_bytes >= self.parallel_min_bytes:
            self.long_read_starts()
        self.progress.start(sum(max(0, n) for n in sizes.values()))
        pool = spool = None
        if parallel:
            # what the reading processes find is spooled to files of a private folder of their
            # own, read back a piece at a time (removed at the end, whatever happens)
            import tempfile  # noqa: PLC0415 - a large read only (a warm status never)

            with contextlib.suppress(OSError):  # none to be had: what they find is sent
                spool = tempfile.mkdtemp(prefix="burntray-scan-")
            pool = OrderedFiles(
                fresh,
                scan_worker.read_file,
                workers=min(workers, len(fresh)),
                initializer=scan_worker.init,
                initargs=(self.prices, spool),
                start_method=self.start_method,
            )
        # A scan makes a few hundred thousand long-lived duplicate groups (lists): the cyclic
        # collector would walk them all again and again (a third of a first scan's time). It
        # creates no cycles, so the collector waits until it is over.
        collecting = gc.isenabled()
        gc.disable()
        try:
            results = pool.results() if pool is not None else iter(())
            for root, name in todo:
                result = None
                if pool is not None and name not in self.tailer.files:
                    _name, result = next(results)
                if result is not None:
                    self._take(root, name, result, out, flush)
                else:
                    self._read_file(root, Path(name), out, flush)
                self.progress.add(max(0, sizes[name]))
                if flush is not None and len(out) >= self._flush_at:
                    self._flush(out, flush)
        finally:
            if collecting:
                gc.enable()
            if pool is not None:
                self.parallel_problem = pool.problem
                pool.close()
            if spool is not None:
                import shutil  # noqa: PLC0415 - idem

                shutil.rmtree(spool, ignore_errors=True)
            self.progress.stop()

    def _flush(self, out: dict[str, UsageRecord], flush: Flush) -> None:
        """Hand on the records so far; once they are in the history, the duplicate groups of
        requests long past are spilled (a scan of a whole history holds a day or two of them)."""
        newest = max(map(_ts_ns, out.values()))  # (in C: a batch is 20,000 records)
        self._flushed_newest = max(self._flushed_newest, newest)
        self._newest_ns = max(self._newest_ns, newest)
        written = flush(list(out.values()))
        out.clear()
        self._flush_at = min(FLUSH_RECORDS, LATER_FLUSH_RECORDS)
        if written and self.dedup.lookup is not None and len(self.dedup) > SPILL_AT_GROUPS:
            self.dedup.spill(self._newest_ns - SPILL_KEEP_NS)

    def _offset(self, name: str) -> int:
        state = self.tailer.files.get(name)
        return 0 if state is None else state.offset

    def _take(
        self, root: Path, name: str, result: FileResult, out: Out, flush: Flush | None = None
    ) -> None:
        """A file a reading process read whole: its state and entries, taken as ``_read_file``
        would have taken them. A large file's records are handed on in batches as they are
        taken (``flush``), not after the whole file: memory then holds a batch, not a file."""
        state_json, bytes_read, lines, overlong, why, held = result
        try:
            found = scan_worker.open_pieces(held)
        except OSError:  # its spool file is gone: read the file here instead
            self._read_file(root, Path(name), out, flush)
            return
        stats = self.tailer.stats
        stats.bytes_read += bytes_read
        stats.lines += lines
        stats.overlong_lines += overlong
        if why:
            stats.unreadable[name] = why
        else:
            stats.unreadable.pop(name, None)
        state = FileState.from_json(state_json)
        if state is not None:
            self.tailer.files[name] = state
        path = Path(name)
        project, session = session_parts(root, path)
        rel = str(path.relative_to(root)) if path.is_relative_to(root) else name
        place = self._place(name, rel, session, project, out, flush)
        decode = scan_worker.DECODER.decode
        for piece in found:
            keep_rows(self.dedup, decode(piece), place)

    def _place(  # noqa: PLR0917 - where the records come from and go to
        self, name: str, rel: str, session: str, project: str, out: Out, flush: Flush | None
    ) -> Place:
        """Where the records of the file ``name`` go: ``out``, handed on whenever it is full."""
        full = None if flush is None else (lambda: self._flush_within(name, out, flush))
        return Place(name, rel, session, project, out, self._flush_at, full)

    def _flush_within(self, name: str, out: Out, flush: Flush) -> None:
        """``_flush`` while the file ``name`` is part read: the offsets written with the batch
        must not say it was read, so a scan cut short reads it again from its start (what this
        batch holds is then found in the history, as after any restart)."""
        taken = self.tailer.files.pop(name, None)
        try:
            self._flush(out, flush)
        finally:
            if taken is not None:
                self.tailer.files[name] = taken

    def _read_file(
        self, projects_dir: Path, path: Path, out: Out, flush: Flush | None = None
    ) -> None:
        project, session = session_parts(projects_dir, path)
        name = str(path)
        rel = (
            str(path.relative_to(projects_dir)) if path.is_relative_to(projects_dir) else str(path)
        )
        skip = self.tailer.skip
        place = self._place(name, rel, session, project, out, flush)
        on_line = line_keeper(self.dedup, self.prices, lambda why: skip(name, why), place)
        self.tailer.read(path, on_line)

    def reset(self) -> None:
        """Read every file from the start again, as if never read (the history was cleared):
        offsets, duplicate groups and counts go; the history lookup stays wired."""
        lookup = self.dedup.lookup
        self.tailer = LogTailer([USAGE_MARKER], overlong=UsageScan)
        self.dedup = Dedup()
        self.dedup.lookup = lookup
        self._compact_at = COMPACT_AT_GROUPS
        self._newest_ns = -(2**63)

    def save_state(self) -> str:
        """The per-file offsets, so a restart reads only what is new."""
        return self.tailer.save_state()

    def load_state(self, text: str) -> None:
        self.tailer.load_state(text)


_ts_ns = itemgetter(0)  # a record's ``ts_ns``


def _size(name: str) -> int:
    try:
        return os.stat(name).st_size
    except OSError:
        return 0
