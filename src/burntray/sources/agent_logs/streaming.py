"""A long read (the first scan of a GB of logs) written to the history as it goes, and its
progress told to whoever asks (the tray's menu, ``status`` on a terminal).

For a log source whose reader takes a ``flush`` callback and keeps a ``progress`` counter
(Claude Code's): the reader hands on its records in batches of thousands (20,000, then 5,000),
each written in one transaction with the read positions past it, so memory holds a batch rather
than the whole history, and a scan cut short resumes where its last batch ended. The batches
write records only: their rollups are summed once, at the read's end (``store.pending``).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from burntray.lazylog import get_logger
from burntray.model.progress import ScanProgress
from burntray.sources.agent_logs.parallel import START_METHOD
from burntray.sources.agent_logs.write_process import ProcessWriter

if TYPE_CHECKING:
    from burntray.model.usage import UsageRecord
    from burntray.sources.agent_logs.progress import ScanCounter
    from burntray.store.usage_events import UsageEvents

log = get_logger(__name__)


class FlushingReader(Protocol):
    progress: ScanCounter

    def read_new(
        self,
        active_since_ns: int | None = None,
        flush: Callable[[list[UsageRecord]], bool | None] | None = None,
    ) -> list[UsageRecord]: ...

    def save_state(self) -> str: ...


class _Writer:
    """Writes batches on a thread of its own, one at a time, while the reader goes on: SQLite
    works without the GIL, so the write overlaps the reading process's duplicate removal. At
    most one batch waits (``put`` blocks meanwhile): two batches in memory, never more."""

    def __init__(self, events: UsageEvents, name: str) -> None:
        self.events = events
        self.name = name
        self.failed: list[UsageRecord] = []
        self._queue: queue.Queue[tuple[list[UsageRecord], tuple[str, str]] | None]
        self._queue = queue.Queue(maxsize=1)
        self._thread = threading.Thread(target=self._run, name="burntray-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                try:
                    self.events.ingest(self.name, *item, defer_rollup=True)
                except Exception:  # the caller writes them again, and says why if that fails
                    log.exception("%s: history write failed during a long read", self.name)
                    self.failed.extend(item[0])
            finally:
                self._queue.task_done()

    def put(self, records: list[UsageRecord], meta: tuple[str, str]) -> None:
        self._queue.put((records, meta))

    def drain(self) -> None:
        """Until every batch put is written (or failed)."""
        self._queue.join()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()


def read_flushing(
    reader: FlushingReader,
    events: UsageEvents | None,
    name: str,
    state_key: str,
    active_since_ns: int | None,
    *,
    write_process: bool = False,
) -> tuple[list[UsageRecord], int | None]:
    """What ``reader`` read that is not in the history yet (the caller writes it with the
    final read positions), and the newest time of the batches written on the way (None: none
    was). A batch that cannot be written is returned too: the caller's write says why.

    Batches are written by a thread while the reader goes on; a lookup of earlier requests
    (duplicate removal's, for a spilled message) first waits for the batches before it.
    ``write_process``: write them in a process of their own (the caller decides, as it keeps a
    core for it: ``writer_process_wanted``), else on a thread."""
    unwritten: list[UsageRecord] = []
    newest: int | None = None
    writer: _Writer | ProcessWriter | None = None
    dedup = getattr(reader, "dedup", None)
    lookup = getattr(dedup, "lookup", None)

    def flush(records: list[UsageRecord]) -> bool:
        """True when they are in the history before any lookup (``Dedup.spill``)."""
        nonlocal newest, writer
        newest = max(newest or records[0].ts_ns, *(r.ts_ns for r in records))
        if events is None:  # no history: the caller keeps them in memory
            unwritten.extend(records)
            return False
        if writer is None:
            writer = _start_writer(events, name, write_process)
        writer.put(records, (state_key, reader.save_state()))
        return True

    def lookup_after_writes(message_id: str) -> list[tuple[str, int]]:
        if writer is not None:
            writer.drain()
        return lookup(message_id)  # type: ignore[misc,no-any-return]

    def start_writing() -> None:
        """A long read has begun: its writing process starts now, while the first batch is
        read, not once it is handed on (a heavy week's first scan waited 0.03-0.05 s for it
        to start and catch up with the first batches)."""
        nonlocal writer
        if writer is None and events is not None:
            writer = _start_writer(events, name, write_process)

    told = write_process and hasattr(reader, "long_read_starts")
    if told:
        reader.long_read_starts = start_writing  # type: ignore[attr-defined]
    if lookup is not None:
        dedup.lookup = lookup_after_writes  # type: ignore[union-attr]
    try:
        records = reader.read_new(active_since_ns, flush=flush)
    finally:
        if told:
            reader.long_read_starts = None  # type: ignore[attr-defined]
        if lookup is not None:
            dedup.lookup = lookup  # type: ignore[union-attr]
        if writer is not None:
            writer.close()
            unwritten.extend(writer.failed)
            if isinstance(writer, ProcessWriter):
                events.history.changed_elsewhere()  # type: ignore[union-attr]
            _finish_rollup(events, name)  # type: ignore[arg-type]
    return [*unwritten, *records], newest


def _finish_rollup(events: UsageEvents, name: str) -> None:
    """Sum the rollups the batches left to the read's end (``store.pending``). Should that
    fail, the answers stay exact (read from the records) and the next write sums them."""
    try:
        events.finish_rollup(name)
    except Exception:
        log.exception("%s: rollups of a long read not summed yet", name)


def _start_writer(events: UsageEvents, name: str, write_process: bool) -> _Writer | ProcessWriter:
    """A process of its own when asked for (``write_process`` says why), else a thread; a
    thread too when no process can be started."""
    if write_process:
        try:
            return ProcessWriter(events.history.path, name, START_METHOD)
        except (OSError, ValueError, ImportError, NotImplementedError) as exc:
            log.warning("%s: no history writing process (%s); writing on a thread", name, exc)
    return _Writer(events, name)


def writer_process_wanted(cpus: int | None = None) -> bool:
    """Whether a long read's history writes go to a process of their own: on any machine with
    more than one core, however busy. A process of its own is the scan's second core when one
    is free, and its second share of the cores when they are not (the scheduler shares them
    out per process): the scan alone on a heavy week, 2 cores, writing process against
    thread, alternating runs: 2.06 s against 2.93 s at load ~1, 4.33 s against 4.70 s with
    two busy loops besides (load ~4), 2.72 s against 3.25 s at load 1.9-2.4. (Reading
    processes are another matter: ``parallel.worker_count``.)"""
    return ((os.cpu_count() or 1) if cpus is None else cpus) >= 2


def progress_of(label: str, counter: ScanCounter) -> ScanProgress | None:
    """The long read under way (bytes done of bytes to read), or None."""
    now = counter.now()
    return None if now is None else ScanProgress(label, *now)
