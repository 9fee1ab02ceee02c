"""A long read (the first scan of a GB of logs) written to the history as it goes, and its
progress told to whoever asks (the tray's menu, ``status`` on a terminal).

For a log source whose reader takes a ``flush`` callback and keeps a ``progress`` counter
(Claude Code's): the reader hands on its records in batches of tens of thousands between files,
each written in one transaction with the read positions past it, so memory holds a batch rather
than the whole history, and a scan cut short resumes where its last batch ended.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from burntray.lazylog import get_logger
from burntray.model.progress import ScanProgress

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


def read_flushing(
    reader: FlushingReader,
    events: UsageEvents | None,
    name: str,
    state_key: str,
    active_since_ns: int | None,
) -> tuple[list[UsageRecord], int | None]:
    """What ``reader`` read that is not in the history yet (the caller writes it with the
    final read positions), and the newest time of the batches written on the way (None: none
    was). A batch that cannot be written is returned too: the caller's write says why."""
    unwritten: list[UsageRecord] = []
    newest: int | None = None

    def flush(records: list[UsageRecord]) -> bool:
        """True when they are in the history now."""
        nonlocal newest
        newest = max(newest or records[0].ts_ns, *(r.ts_ns for r in records))
        if events is None:  # no history: the caller keeps them in memory
            unwritten.extend(records)
            return False
        try:
            events.ingest(name, records, (state_key, reader.save_state()))
        except Exception:
            log.exception("%s: history write failed during a long read", name)
            unwritten.extend(records)
            return False
        return True

    records = reader.read_new(active_since_ns, flush=flush)
    return [*unwritten, *records], newest


def progress_of(label: str, counter: ScanCounter) -> ScanProgress | None:
    """The long read under way (bytes done of bytes to read), or None."""
    now = counter.now()
    return None if now is None else ScanProgress(label, *now)
