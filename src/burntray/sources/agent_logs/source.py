"""The ``claude`` and ``codex`` sources: Claude Code's and Codex's own logs, read directly.

The readers (``claude.logs``, ``codex.logs``) know the formats; this module makes them record
sources: what they read goes into burntray's history (so the 7 d window and reports are instant
after the first scan), their per-file offsets are kept beside it (a restart reads only what is
new), and on Linux an inotify watcher on every log folder wakes the monitor the moment a line is
appended (elsewhere the monitor's poll finds it).

No logs yet is "empty", not an error: the tool may never have run here. A file that cannot be
read is named in the facts and doctor; the others are still counted.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from burntray.io.log_tail import LogTailer
from burntray.model.price_table import PRICES_AS_OF
from burntray.model.pricing import PriceTable
from burntray.model.snapshot import Snapshot, UpstreamFact
from burntray.model.timefmt import NS_PER_HOUR, NS_PER_MINUTE
from burntray.model.usage import UsageRecord
from burntray.sources.record_source import RecordSource
from burntray.store.history import HistoryStore
from burntray.store.schema import EVENTS

if TYPE_CHECKING:
    # Claude's own parts (its reader, duplicate removal, 5-hour blocks, the streaming first
    # read) load with ``ClaudeSource``'s methods: the other agents' sources, built on
    # ``AgentLogSource``, need none of them for a warm status (issue 24)
    from burntray.io.tree_watch import TreeWatcher
    from burntray.model.blocks import UsageBlock
    from burntray.model.progress import ScanProgress
    from burntray.sources.claude.logs import ClaudeLogReader
    from burntray.store.blocks import BlockSums

# With inotify watching, the logs are walked only when it reports a change, and once in this
# many seconds in case an event was lost (an overflowed queue, a folder made between two scans).
RESCAN_EVERY_S = 30.0

# Without inotify (macOS, Windows): files written within ACTIVE_NS are looked at on every poll,
# all files once in FULL_POLL_EVERY_S.
ACTIVE_NS = 3600 * 10**9
FULL_POLL_EVERY_S = 10.0


class RecordReader(Protocol):
    """What a record source over an agent's logs or store asks of its reader."""

    missing: str  # why there is nothing to read at all ("" when the folders are there)
    files_seen: int
    prices: PriceTable

    @property
    def malformed_lines(self) -> int: ...
    @property
    def first_malformed(self) -> str: ...

    def read_new(self, active_since_ns: int | None = None) -> list[UsageRecord]: ...
    def folders(self) -> list[str]: ...
    def unreadable(self) -> dict[str, str]: ...
    def save_state(self) -> str: ...
    def load_state(self, text: str) -> None: ...
    def reset(self) -> None: ...


class LogReader(RecordReader, Protocol):
    """A reader of appended logs: its tailer's offsets tell when the resume state moved."""

    tailer: LogTailer


class AgentLogSource(RecordSource):
    """A record source over one agent's log reader."""

    # the files whose writes wake the monitor (an agent with a database sets its own)
    watch_suffixes: tuple[str, ...] = (".jsonl",)

    def __init__(
        self,
        reader: LogReader,
        folders: list[Path],
        history: HistoryStore | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
        *,
        watch: bool = True,
    ) -> None:
        self.reader = reader
        self.folders = folders
        self._watch = watch
        self._watcher: TreeWatcher | None = None
        self._dirty = True
        self._last_scan = 0.0
        self._last_full = -FULL_POLL_EVERY_S
        self._saved_at_bytes = -1
        self._records_version = 0  # bumped when a read brings records
        super().__init__(history, clock_ns)

    @property
    def price_table(self) -> PriceTable | None:
        return self.reader.prices

    def read_new(self) -> list[UsageRecord]:
        watcher = self._watcher
        now = time.monotonic()
        if (
            watcher is not None
            and watcher.active
            and not watcher.problem
            and not self._dirty
            and now - self._last_scan < RESCAN_EVERY_S
        ):
            return []  # inotify saw nothing: no folder walk, no stat of every file
        active_since = None
        if watcher is None or not watcher.active:
            # Polling (no inotify): each poll looks at new files and those written in the last
            # hour; every file is looked at once in FULL_POLL_EVERY_S (a session idle for
            # hours that resumes is seen within that).
            if now - self._last_full < FULL_POLL_EVERY_S:
                active_since = time.time_ns() - ACTIVE_NS
            else:
                self._last_full = now
        self._dirty = False  # before reading: a change during the read marks it again
        self._last_scan = now
        records = self._read_records(active_since)
        if records:
            self._records_version += 1
        self.problem = ""
        self.partial_reason = describe_unreadable(self.reader.unreadable())
        self.empty_reason = self.reader.missing or (
            "" if self.reader.files_seen else "no logs yet in " + self._where()
        )
        if self._watcher is not None and self._watcher.sync(self.reader.folders()):
            self._dirty = True  # read new folders once more: files made before their watch
        return records

    def _read_records(self, active_since_ns: int | None) -> list[UsageRecord]:
        return self.reader.read_new(active_since_ns)

    def _where(self) -> str:
        return ", ".join(str(f) for f in self.folders)

    def start(self, wake: Callable[[], None]) -> None:
        self._rewake = wake
        if not self._watch or self._watcher is not None:
            return

        def changed() -> None:  # the watcher's thread
            self._dirty = True
            wake()

        from burntray.io.tree_watch import TreeWatcher  # noqa: PLC0415 - only when live

        watcher = TreeWatcher(changed, self.watch_suffixes)
        if watcher.start():
            self._watcher = watcher
            watcher.sync(self.reader.folders())
            self._dirty = True

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None

    def records(self, start_ns: int, end_ns: int) -> list[UsageRecord]:
        """The requests in ``[start, end)``, oldest first (for per-day and per-session views)."""
        if self._events is not None:
            return self._events.records(self.name, start_ns, end_ns)
        return sorted(
            (r for r in self._memory if start_ns <= r.ts_ns < end_ns), key=lambda r: r.ts_ns
        )

    def save_state(self) -> str | None:
        """The offsets, when they moved since the last save (None: nothing to write; the base
        asks after every poll, and an idle tray must not rewrite them every second)."""
        read = self.reader.tailer.stats.bytes_read
        if read == self._saved_at_bytes:
            return None
        self._saved_at_bytes = read
        return self.reader.save_state()

    def load_state(self, state: str) -> None:
        self.reader.load_state(state)

    def reset_reading(self) -> bool:
        self.reader.reset()
        self._dirty = True
        self._last_full = -FULL_POLL_EVERY_S  # the next read is a full one
        self._saved_at_bytes = -1
        self._records_version += 1
        return True

    def facts(self) -> tuple[UpstreamFact, ...]:
        reader = self.reader
        facts = [
            UpstreamFact("Log files", f"{reader.files_seen} in {self._where()}"),
            UpstreamFact("Prices", f"bundled table {PRICES_AS_OF} ([pricing] overrides)"),
        ]
        if self._watcher is not None and self._watcher.active:
            live = f"{self._watcher.backend} on {self._watcher.watched} folders"
            if self._watcher.problem:
                live += f" ({self._watcher.problem})"
        else:
            live = "polling"
        facts.append(UpstreamFact("Live", live))
        if reader.malformed_lines:
            facts.append(
                UpstreamFact(
                    "Malformed lines",
                    f"{reader.malformed_lines} skipped (first: {reader.first_malformed})",
                )
            )
        unreadable = reader.unreadable()
        if unreadable:
            path, why = min(unreadable.items())
            more = f" (+{len(unreadable) - 1} more)" if len(unreadable) > 1 else ""
            facts.append(UpstreamFact("Unreadable", f"{path}: {why}{more}"))
        return tuple(facts)


def describe_unreadable(unreadable: dict[str, str]) -> str:
    """ "not counted, unreadable: /p/alpha: Permission denied (+2 more)", or "" when none."""
    if not unreadable:
        return ""
    path, why = min(unreadable.items())
    more = f" (+{len(unreadable) - 1} more)" if len(unreadable) > 1 else ""
    return f"not counted, unreadable: {path}: {why}{more}"


# How far back the 5-hour block is worked out from when there is no history (records kept in
# memory): a block starts at the first request after the previous block ended, so the chain is
# followed back this far (a day of non-stop use). With a history it goes back to the last night.
BLOCK_LOOKBACK_NS = 48 * NS_PER_HOUR


class ClaudeSource(AgentLogSource):
    name = "claude"
    label = "Claude Code logs"
    reader: ClaudeLogReader
    # a long read's history writes: in a process of their own (True), on a thread (False), or
    # as the machine suits (None)
    write_process: bool | None = None

    def _read_records(self, active_since_ns: int | None) -> list[UsageRecord]:
        """Read, writing a long read's records to the history in batches as it goes."""
        from burntray.sources.agent_logs.streaming import (  # noqa: PLC0415
            read_flushing,
            writer_process_wanted,
        )

        wanted = self.write_process
        if self._events is None or str(self._events.history.path) == ":memory:":
            wanted = False  # no history file for another process to write to
        elif wanted is None:
            wanted = writer_process_wanted()
        self.reader.kept_cores = 2 if wanted else 1  # the writing process takes a core too
        found = read_flushing(
            self.reader,
            self._events,
            self.name,
            self._state_key,
            active_since_ns,
            write_process=wanted,
        )
        self._data_updated_ns = found[1] if found[1] is not None else self._data_updated_ns
        return found[0]

    def scan_progress(self) -> ScanProgress | None:
        from burntray.sources.agent_logs.streaming import progress_of  # noqa: PLC0415

        return progress_of(self.label, self.reader.progress)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._block_cache: tuple[tuple[int, int], int, BlockSums | None] | None = None
        self._snapshot_now: int | None = None
        super().__init__(*args, **kwargs)

    def attach_history(self, history: HistoryStore) -> None:
        super().attach_history(history)
        dedup = getattr(self.reader, "dedup", None)
        if dedup is not None and self._events is not None:
            # requests the reader forgets (or read before a restart) are looked up here
            dedup.lookup = self._known_requests

    def load_state(self, state: str) -> None:
        """Resume from the offsets, and let duplicate removal see the requests read before:
        a streaming rewrite or a sidechain replay of one of them is then not counted again."""
        super().load_state(state)
        dedup = getattr(self.reader, "dedup", None)
        if dedup is not None and self._events is not None:
            from burntray.sources.claude.dedup import LOOKUP_MARGIN_NS  # noqa: PLC0415

            latest = self._events.latest_ns(self.name)
            if latest is not None:
                dedup.lookup_until_ns = latest + LOOKUP_MARGIN_NS

    def _known_requests(self, message_id: str) -> list[tuple[str, int]]:
        """(request id, token total) of the requests with this message id in the history."""

        assert self._events is not None
        prefix = f"m:{message_id}:"
        rows = self._events.history.execute(
            f"SELECT key, input + output + cache_read + cache_write FROM {EVENTS} "  # noqa: S608
            "WHERE source = ? AND key >= ? AND key < ?",
            (self.name, prefix, prefix[:-1] + ";"),  # ";" follows ":": the keys with this prefix
        )
        return [(str(key)[len(prefix) :], total) for key, total in rows if isinstance(total, int)]

    def current_block(self, now_ns: int | None = None) -> UsageBlock | None:
        """The 5-hour block Claude plans are metered in, if one is active now."""
        from burntray.model import blocks  # noqa: PLC0415 - see the imports
        from burntray.store.blocks import chain_start, last_block_sums  # noqa: PLC0415

        now = self._clock_ns() if now_ns is None else now_ns
        if self._events is None:
            return blocks.current_block(self.records(now - BLOCK_LOOKBACK_NS, now + 1), now)
        # The block's sums change when a read brings requests: worked out then (and once a
        # minute, for a history cleared or pruned meanwhile), from a seek per block and the
        # minute rollup; every figure of one snapshot (facts, JSON, alerts) shares them.
        stamp = (self._records_version, now // NS_PER_MINUTE)
        cached = self._block_cache
        if cached is None or cached[0] != stamp or now < cached[1]:
            # the chain of blocks is followed from the last night (five idle hours), however
            # far back: a source in use around the clock has the blocks ccusage shows too
            start = chain_start(self._events, self.name, now + 1)
            cached = (stamp, now, last_block_sums(self._events, self.name, start, now + 1))
            self._block_cache = cached
        sums = cached[2]
        if sums is None:
            return None
        block = blocks.block_of(**sums._asdict(), now_ns=now)
        return block if block.active else None

    def _snapshot(self, window_ns: int, now: int, prefixes: tuple[str, ...]) -> Snapshot:
        # the facts' block is the one at the snapshot's instant: the JSON's block, asked for
        # that instant, is then the same one, not worked out again
        self._snapshot_now = now
        try:
            return super()._snapshot(window_ns, now, prefixes)
        finally:
            self._snapshot_now = None

    def facts(self) -> tuple[UpstreamFact, ...]:
        block = self.current_block(self._snapshot_now)
        if block is None:
            return super().facts()
        return (UpstreamFact("5-hour block", describe_block(block)), *super().facts())


def describe_block(block: UsageBlock) -> str:
    """ "14:00-19:00 · $3.20 · $1.10/h · $6.50 projected" (local times)."""

    def hhmm(ns: int) -> str:
        return _dt.datetime.fromtimestamp(ns / 1e9).strftime("%H:%M")

    parts = [f"{hhmm(block.start_ns)}-{hhmm(block.end_ns)}", f"${block.cost_usd:.2f}"]
    if block.burn_usd_per_hour is not None:
        parts.append(f"${block.burn_usd_per_hour:.2f}/h")
    if block.projected_cost_usd is not None:
        parts.append(f"${block.projected_cost_usd:.2f} projected")
    if block.unpriced_reqs:
        parts.append(f"{block.unpriced_reqs} unpriced")
    return " · ".join(parts)


def claude_source(
    dirs: list[Path],
    prices: PriceTable,
    history: HistoryStore | None = None,
    clock_ns: Callable[[], int] = time.time_ns,
    *,
    watch: bool = True,
) -> ClaudeSource:

    from burntray.sources.claude.logs import ClaudeLogReader  # noqa: PLC0415 - see the imports

    return ClaudeSource(ClaudeLogReader(dirs, prices), dirs, history, clock_ns, watch=watch)
