"""A long read's history writes in a process of their own.

A first scan writes each batch of records while it reads on. A writing thread shares the reading
process's interpreter with duplicate removal: on a heavy week (240,000 requests, 12 batches) its
batches were written back to back for most of the scan, each taking ~0.26 s of wall time for
~0.17 s of CPU, so the write set the scan's pace. In a process of its own the write has a core
(and an interpreter) to itself.

The batches cross as MessagePack (encoded and decoded in C), each answered once written or
failed; at most four are outstanding (a long read's batches after its first are of 5,000
records, ``claude.logs.LATER_FLUSH_RECORDS``: 20,000-35,000 records in memory, where two
batches of 20,000 were 40,000). A batch that could not be written, or that was outstanding when
the process died, is handed back to the caller, who writes it itself and says why if that fails
too. Nothing here can stop a scan: when the process cannot be started, the caller writes on a
thread instead.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from burntray.lazylog import get_logger
from burntray.model.usage import UsageRecord

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from burntray.store.usage_events import UsageEvents

log = get_logger(__name__)

# Batches sent and not yet answered, at most. With two the reader waited for answers between
# the smaller batches (its time off the CPU in a heavy week's first scan: 0.11-0.55 s, median
# 0.15 s, against 0.09-0.38 s, median 0.11 s, with four).
OUTSTANDING = 4
# A batch is written in a fraction of a second; one not answered in this long (SQLite's own
# lock waits are bounded far below it) means the process is stuck: it is stopped and its
# batches are written by the caller.
ANSWER_TIMEOUT_S = 120.0
_BATCH = msgspec.msgpack.Decoder(tuple[list[UsageRecord], tuple[str, str]])
_DONE = b""  # what ends the writing process's loop
WRITTEN = "ok"  # the answer for a batch written; anything else says why it was not


def write_batches(path: str, name: str, conn: Connection) -> None:
    """The writing process: each batch received is ingested for source ``name`` into the
    history at ``path``, and answered, until the end is sent or the pipe is closed."""
    from burntray.store.history import HistoryStore  # noqa: PLC0415 - in this process only
    from burntray.store.usage_events import UsageEvents  # noqa: PLC0415 - idem

    events: UsageEvents | None = None
    problem = ""
    try:
        events = UsageEvents(HistoryStore(Path(path)))
    except Exception as exc:  # every batch is answered with why: the caller writes them
        problem = f"cannot open the history: {exc}"
    try:
        while True:
            try:
                data = conn.recv_bytes()
            except EOFError:
                return
            if data == _DONE:
                if events is not None:
                    _finish_rollup(events, name)
                    events.history.close()
                    events = None
                # the caller goes on from here, not from this process's exit (its teardown)
                conn.send(WRITTEN)
                return
            if events is None:
                conn.send(problem)
                continue
            try:
                records, meta = _BATCH.decode(data)
                del data
                events.ingest(name, records, meta, defer_rollup=True)  # ``store.pending``
                del records  # not held while the next batch comes in and is decoded
            except Exception as exc:
                conn.send(f"{type(exc).__name__}: {exc}")
            else:
                conn.send(WRITTEN)
    finally:
        if events is not None:
            events.history.close()


def _finish_rollup(events: UsageEvents, name: str) -> None:
    """The batches' rollups, from this process's own sums of them (``store.pending``): the
    caller would sum them from the records. Should it fail, the caller does that."""
    try:
        events.finish_rollup(name)
    except Exception:
        log.exception("%s: the long read's rollups are left to the caller", name)


class ProcessWriter:
    """The caller's side: ``put`` a batch, ``drain`` until all are answered, ``close``. The
    batches that were not written are in ``failed`` after ``drain`` or ``close``."""

    def __init__(self, path: Path, name: str, start_method: str) -> None:
        import multiprocessing  # noqa: PLC0415 - only for a long read

        context: Any = multiprocessing.get_context(start_method)
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=write_batches,
            args=(str(path), name, child),
            name="burntray-history-writer",
            daemon=True,
        )
        self._process.start()  # raises when no process can be started: the caller uses a thread
        child.close()
        self._encoder = msgspec.msgpack.Encoder()
        # Sending a batch (MBs through a pipe) waits until the writing process has read it all,
        # the first one until that process has started (0.06-0.09 s of a heavy week's first
        # scan, the reader idle): on a thread, so the reader goes on meanwhile (the pipe's
        # write releases the GIL). Batches go out one at a time, in order; None ends it.
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._sender = threading.Thread(target=self._send, name="burntray-writer-send", daemon=True)
        self._sender.start()
        self._pending: deque[list[UsageRecord]] = deque()
        self.failed: list[UsageRecord] = []
        self.problem = ""  # the first reason a batch was not written
        self.answer_timeout_s = ANSWER_TIMEOUT_S

    def put(self, records: list[UsageRecord], meta: tuple[str, str]) -> None:
        while len(self._pending) >= OUTSTANDING:
            self._answer()
        self._pending.append(records)
        self._outbox.put(self._encoder.encode((records, meta)))

    def _send(self) -> None:
        """The sending thread: each batch to the writing process, until None. A batch that
        cannot be sent (the process is gone) is not answered: ``_answer`` finds the pipe
        closed and hands it back with the others outstanding."""
        while (data := self._outbox.get()) is not None:
            try:
                self._conn.send_bytes(data)
            except OSError:
                return

    def _answer(self) -> None:
        try:
            if not self._conn.poll(self.answer_timeout_s):
                self._process.kill()
                self._gone(f"history writer did not answer in {self.answer_timeout_s:.0f} s")
                return
            said: Any = self._conn.recv()
        except (EOFError, OSError) as exc:
            self._gone(f"history writer stopped: {exc!r}")
            return
        records = self._pending.popleft()
        if said != WRITTEN:
            self._fail(records, str(said))

    def _fail(self, records: list[UsageRecord], why: str) -> None:
        if not self.problem:
            self.problem = why
            log.warning("history write of a long read failed: %s; written again here", why)
        self.failed.extend(records)

    def _gone(self, why: str) -> None:
        while self._pending:
            self._fail(self._pending.popleft(), why)

    def drain(self) -> None:
        """Until every batch put is answered (written or failed)."""
        while self._pending:
            self._answer()

    def close(self) -> None:
        self.drain()
        self._outbox.put(None)
        self._sender.join()
        finished = False
        with contextlib.suppress(OSError, EOFError):  # gone already: nothing was outstanding
            self._conn.send_bytes(_DONE)
            # answered once the rollups are summed and the history closed: the process's exit
            # (its interpreter's teardown, 0.02-0.03 s at the end of a first scan) is awaited
            # on a thread of its own, not by the caller
            finished = self._conn.poll(self.answer_timeout_s) and self._conn.recv() == WRITTEN
        self._conn.close()
        if finished:
            threading.Thread(target=self._reap, name="burntray-writer-reap", daemon=True).start()
        else:
            self._reap()

    def _reap(self) -> None:
        self._process.join(timeout=30)
        if self._process.is_alive():  # never seen; a process left behind would hold the history
            self._process.kill()
            self._process.join()
