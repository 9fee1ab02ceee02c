"""Reading many new log files on every core, handing the results on in the files' own order.

The first scan of a heavy user's logs is hundreds of MB of JSON: parsing it is the cost, and it
parallelises by file. What does not parallelise is what must see every request in order (the
duplicate removal across files, the history write), so the workers only read and parse a whole
file each, and ``OrderedFiles`` yields their results strictly in the order the files were given:
the caller then does exactly what the serial scan does, in the same order, and the figures are
the same by construction (the tests compare the two on files with duplicates across files).

Bounded: at most ``in_flight`` files are being read or waiting to be taken at any time, so memory
holds a few files' results, not the whole history. Processes are started with ``spawn`` by
default on every OS (``fork`` from a process with threads - the tray's - can deadlock; macOS and
Windows only spawn), so a worker imports only the parsing modules. Nothing here can stop a scan:
when the pool cannot be started or a worker dies, ``OrderedFiles`` says so and the caller reads
the rest itself.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from burntray.lazylog import get_logger

if TYPE_CHECKING:  # the pool (multiprocessing, its sockets and pickling) loads with a big scan
    from concurrent.futures import Future, ProcessPoolExecutor

log = get_logger(__name__)

# Below this many new bytes a scan stays in this process: starting interpreters costs more.
PARALLEL_MIN_BYTES = 32 * 1024 * 1024
MAX_WORKERS = 4  # past a few cores the ordered, single-threaded half of the scan is the limit
START_METHOD = "spawn"


def worker_count(
    files: int, cpus: int | None = None, load: float | None = None, kept_cores: int = 1
) -> int:
    """How many processes to read ``files`` new files with, besides this one: one per core but
    the ``kept_cores`` this scan keeps busy otherwise (this process; and the history's writing
    process when there is one: on 2 cores a heavy week's first scan took 2.6-2.8 s and 146-149
    MB for the tree with none, 2.95-2.97 s and 168-170 MB with one), at most ``MAX_WORKERS``,
    never more than there are files, none for a single file; 0 means read them here.

    This process keeps a core busy meanwhile: it takes every request in order (duplicate
    removal) and writes the history, so a reading process for that core too would only share
    it (on 2 cores shared with other work, a heavy week's first scan took the same CPU and wall
    time, within their noise, with one reading process as with two, and 136-146 MB for the
    process tree instead of 159-175 MB). Only cores that
    are free help: on a machine already busy (a load average within half a core of the core
    count) more processes only add their start-up and the hand-over of what they read, so the
    scan stays in this process (measured: a 2-core machine at load 9 read the heavy week in
    17-20 s in one process, 21-22 s with two more)."""
    cpus, load = cores_and_load(cpus, load)
    if load >= cpus - 0.5 or files < 2:
        # (one file: nothing to overlap its reading with, and its whole result would cross)
        return 0
    return max(0, min(cpus - kept_cores, MAX_WORKERS, files))


def cores_and_load(cpus: int | None = None, load: float | None = None) -> tuple[int, float]:
    """This machine's cores and its load average (1 minute), where not given."""
    cpus = (os.cpu_count() or 1) if cpus is None else cpus
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):  # Windows has none: take the cores as free
            load = 0.0
    return cpus, load


class OrderedFiles:
    """``fn(path)`` for each path in a pool of processes; ``results`` yields (path, result or
    None) in the paths' order. None: that file could not be read by a worker (the pool could not
    start, or broke): the caller reads it itself. Use as a context manager (the pool is shut
    down on exit, pending files cancelled)."""

    def __init__(
        self,
        paths: list[str],
        fn: Callable[[str], Any],
        *,
        workers: int,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
        start_method: str = START_METHOD,
        in_flight: int | None = None,
    ) -> None:
        self.paths = paths
        self.fn = fn
        self.workers = workers
        # one file more than processes: each has its next file queued while this process takes
        # (or waits to write) the last one, instead of waiting for it to ask
        self.in_flight = in_flight or workers + 1
        self.problem = ""  # why the pool stopped helping ("" while it works)
        self._pool: ProcessPoolExecutor | None = None
        # The results come back as blocks of MB, taken and freed one after another while small
        # objects (records, duplicate groups) are made between them: with glibc's sliding mmap
        # threshold they would come from the heap and pin its pages (measured on a heavy week's
        # first scan: this process's peak RSS 109 -> 98 MB). Pinned for the process, as the
        # OTLP receiver pins it.
        from burntray.io.memory import fix_mmap_threshold  # noqa: PLC0415 - a large read only

        fix_mmap_threshold()
        try:
            import multiprocessing  # noqa: PLC0415 - only for a scan this large
            from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415 - idem

            context = multiprocessing.get_context(start_method)
            self._pool = ProcessPoolExecutor(
                workers, mp_context=context, initializer=initializer, initargs=initargs
            )
        except (OSError, ValueError, ImportError, NotImplementedError) as exc:
            self.problem = f"cannot start {workers} reading processes: {exc}"
            log.warning("%s; reading in one process", self.problem)

    def __enter__(self) -> OrderedFiles:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _submit(self, path: str) -> Future[Any] | None:
        if self._pool is None:
            return None
        try:
            return self._pool.submit(self.fn, path)
        except Exception as exc:  # a broken pool, or shut down under us: read here instead
            self._stop(f"reading processes stopped: {exc!r}")
            return None

    def _stop(self, why: str) -> None:
        if not self.problem:
            self.problem = why
            log.warning("%s; reading the rest in one process", why)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def results(self) -> Iterator[tuple[str, Any]]:
        waiting: deque[tuple[str, Future[Any] | None]] = deque()
        upcoming = iter(self.paths)
        for path in upcoming:
            waiting.append((path, self._submit(path)))
            if len(waiting) >= self.in_flight:
                break
        while waiting:
            path, future = waiting.popleft()
            result = None
            if future is not None:
                try:
                    result = future.result()
                except Exception as exc:  # the worker died or raised: this file is read here
                    self._stop(f"a reading process failed on {path}: {exc!r}")
            nxt = next(upcoming, None)
            if nxt is not None:
                waiting.append((nxt, self._submit(nxt)))
            yield path, result
