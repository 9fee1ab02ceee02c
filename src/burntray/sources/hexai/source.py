"""The hexai shared stats cache (``stats.json`` + ``stats.lock``), read exactly as hexai reads it.

What hexai's ``TakeSnapshot`` does, we do: no lock for reading (writers replace the file
atomically), events kept when ``ts >= now - window`` (inclusive), ``window_seconds <= 0`` means
1 h, RPM over the nominal window. Reading never writes. The parts live beside this module:
``hexai.parse`` (the format and its columns), ``hexai.delta`` (re-reading only what changed),
``hexai.clear`` (emptying the file on request).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from burntray.io.bounded_read import UnsafeFileError
from burntray.model.aggregate import summarise_bytes
from burntray.model.pricing import PriceTable
from burntray.model.snapshot import Capabilities, Snapshot, SourceStatus
from burntray.sources.hexai import history as hexai_history
from burntray.sources.hexai.delta import StatsReader
from burntray.sources.hexai.parse import (
    DEFAULT_WINDOW_S,
    GO_ZERO_TIME_NS,
    RawEvent,
    StatsFile,
    StatsFormatError,
    empty_stats,
    parse_stats,
    to_history_events,
)

if TYPE_CHECKING:  # imported where used: `burntray status --format tmux` starts fast
    from burntray.io.watch import FolderWatcher
    from burntray.sources.hexai.clear import CLEAR_LOCK_TIMEOUT_S, clear_stats
    from burntray.store.history import HistoryStore

__all__ = [
    "CLEAR_LOCK_TIMEOUT_S",
    "DEFAULT_WINDOW_S",
    "GO_ZERO_TIME_NS",
    "HEXAI_CAPABILITIES",
    "SOURCE_NAME",
    "HexaiSource",
    "RawEvent",
    "StatsFile",
    "StatsFormatError",
    "clear_stats",
    "hexai_snapshot",
    "parse_stats",
    "to_history_events",
]

SOURCE_NAME = "hexai"
# hexai records bytes per request: tokens are bytes/4 and cost comes from burntray's prices
HEXAI_CAPABILITIES = Capabilities(bytes=True, real_tokens=False, per_model=True)


def __getattr__(name: str) -> Any:
    """``clear_stats`` and its timeout stay importable from here, loaded on first use."""
    if name in ("clear_stats", "CLEAR_LOCK_TIMEOUT_S"):
        from burntray.sources.hexai import clear as hexai_clear  # noqa: PLC0415

        return getattr(hexai_clear, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# A window that reaches back before the live file is answered by the history up to here
# (events stamped in the future count, as they do in the file's own window).
_END_OF_TIME_NS = 2**63 - 1


def hexai_snapshot(
    stats: StatsFile, window_ns: int, now_ns: int, prices: PriceTable, status: SourceStatus
) -> Snapshot:
    """Numbers for ``[now - window, ...)`` from the file alone: exactly hexai's TakeSnapshot."""
    totals, rows = summarise_bytes(stats.counters(now_ns - window_ns), window_ns, prices)
    return Snapshot(
        source=SOURCE_NAME,
        window_ns=window_ns,
        as_of_ns=now_ns,
        status=status,
        totals=totals,
        by_model=rows,
        tokens_estimated=True,
        cost_estimated=True,
        capabilities=HEXAI_CAPABILITIES,
        # With no file there is no upstream write to date (its empty stand-in is stamped now
        # only so that the history answers for the window).
        data_updated_ns=(
            stats.updated_ns
            if stats.updated_ns != GO_ZERO_TIME_NS and status.state != "empty"
            else None
        ),
    )


_Fingerprint = tuple[int, int, int, int]  # st_mtime_ns, st_size, st_ino, st_dev


@runtime_checkable
class HasLiveStats(Protocol):
    """A hexai source, itself or as ``auto`` chose it: the last good read of stats.json."""

    @property
    def live_stats(self) -> StatsFile | None: ...


class HexaiSource:
    """Follows stats.json: re-reads only when it changed (and then only what changed), keeps
    the last good parse.

    Not thread-safe: one monitor thread calls ``poll`` and ``snapshot``.
    """

    name = SOURCE_NAME
    label = "hexai cache"

    def __init__(
        self,
        cache_dir: Path,
        prices: PriceTable,
        history: HistoryStore | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.cache_dir = cache_dir
        self.stats_path = cache_dir / "stats.json"
        self.lock_path = cache_dir / "stats.lock"
        self.prices = prices
        self.history = history
        self._clock_ns = clock_ns
        self._reader = StatsReader()  # holds one copy of the file, updated in place
        self._stats = empty_stats()
        self._fingerprint: _Fingerprint | None = None
        self._status = SourceStatus("starting", "not read yet")
        self._last_ok_ns: int | None = None
        self._history_window: hexai_history.HistoryWindow | None = None
        if history is not None:
            self._history_window = hexai_history.HistoryWindow(history, SOURCE_NAME)
        self._watcher: FolderWatcher | None = None
        self.last_read_incremental = False  # whether the last re-read skipped unchanged events

    @property
    def status(self) -> SourceStatus:
        return self._status

    @property
    def stats(self) -> StatsFile:
        """The last good parse (updated in place by ``poll``)."""
        return self._stats

    def start(self, wake: Callable[[], None]) -> None:
        """Wake the monitor as soon as stats.json is replaced (where the OS can tell us), so
        freshness is not bounded by the poll interval. The poll still reads every change.
        A started source is followed, so its reader keeps the file where it re-reads it."""
        from burntray.io.watch import FolderWatcher  # noqa: PLC0415

        self._reader.expect_rereads()
        self._watcher = FolderWatcher(self.cache_dir, frozenset({"stats.json"}), wake)
        self._watcher.start()

    @property
    def wakes_on_change(self) -> bool:
        """True while a live watch wakes the monitor on every replace of stats.json, so the
        monitor need not look for new data every poll interval (see ``Monitor.tick``)."""
        return self._watcher is not None and self._watcher.active

    def attach_history(self, history: HistoryStore) -> None:
        """Start keeping history (and using it for long windows), ingesting what is loaded."""
        self.history = history
        self._history_window = hexai_history.HistoryWindow(history, SOURCE_NAME)
        hexai_history.ingest(history, self._stats.events())

    def last_recorded_ns(self, history: HistoryStore) -> int | None:
        """The newest hexai request in ``history`` (hexai's requests are kept in tables of its
        own, not among the shared per-request records). ``sqlite3.Error`` to the caller."""
        return hexai_history.last_recorded_ns(history)

    def needs_history(self, window_ns: int, now_ns: int) -> bool:
        """True when the window reaches back before what the live file covers."""
        return now_ns - window_ns < self._coverage_start_ns(now_ns)

    @property
    def live_stats(self) -> StatsFile | None:
        """The last good read of stats.json, or None when none succeeded yet."""
        return self._stats if self._last_ok_ns is not None else None

    def _coverage_start_ns(self, now_ns: int) -> int:
        """From when the numbers in memory are complete. A file never read successfully (it
        is corrupt, unreadable, or not read yet) covers no time at all: the whole window then
        comes from the history, the last good figures burntray recorded."""
        if self._last_ok_ns is None:
            return now_ns + 1  # the window includes ts == now
        return self._stats.coverage_start_ns

    def poll(self) -> bool:
        """Re-read stats.json if it changed. Returns True when what it holds changed."""
        now = self._clock_ns()
        if self._watcher is not None and not self._watcher.active:
            self._watcher.start()  # the folder may exist now (hexai's first write creates it)
        try:
            st = os.stat(self.stats_path)
        except FileNotFoundError:
            return self._set_missing(now)
        except OSError as exc:
            return self._set_error(f"cannot stat {self.stats_path}: {exc.strerror or exc}")
        fingerprint = (st.st_mtime_ns, st.st_size, st.st_ino, st.st_dev)
        if fingerprint == self._fingerprint and self._status.state != "starting":
            return False
        self._fingerprint = fingerprint
        try:
            result = self._reader.read_file(self.stats_path, fresh=self.history is not None)
        except UnsafeFileError as exc:
            if exc.missing:
                return self._set_missing(now)
            return self._set_error(f"cannot read {exc}")
        except StatsFormatError as exc:
            return self._set_error(f"{self.stats_path}: {exc}")
        self._stats = result.stats
        self.last_read_incremental = result.incremental
        self._last_ok_ns = now
        self._status = SourceStatus("ok", f"{result.stats.event_count} events", last_ok_ns=now)
        if self.history is not None and result.fresh:
            # Only what this file adds over the last one is offered to the history (which
            # ignores what it already has, e.g. after a restart).
            hexai_history.ingest(self.history, result.fresh)
        return True

    def _set_missing(self, now: int) -> bool:
        changed = self._status.state != "empty" or self._fingerprint is not None
        self._fingerprint = None
        self._reader.reset()
        # A deleted file is an empty one (as hexai's reader sees it), keeping the last window.
        self._stats = empty_stats(self._stats.window_seconds, now)
        self._last_ok_ns = now
        self._status = SourceStatus("empty", f"no stats.json yet at {self.stats_path}", False, now)
        return changed

    def _set_error(self, detail: str) -> bool:
        changed = self._status.detail != detail
        # Keep the last good numbers, marked stale; the file is left exactly as it is.
        self._status = SourceStatus("error", detail, stale=True, last_ok_ns=self._last_ok_ns)
        return changed

    def snapshot(self, window_ns: int, now_ns: int | None = None) -> Snapshot:
        """Usage in ``[now - window, now]``: the live file alone when it covers the window
        (hexai's own numbers); otherwise the history for the whole window.

        The history holds every event the file ever showed (each read ingests what it adds), so
        a window reaching back before the file is answered by the history alone: a cleared or
        deleted stats.json does not change it.
        """
        now = self._clock_ns() if now_ns is None else now_ns
        cutoff = now - window_ns
        stats = self._stats
        snap = hexai_snapshot(stats, window_ns, now, self.prices, self._status)
        if self._history_window is None or cutoff >= self._coverage_start_ns(now):
            return snap
        counters = self._history_window.counters(cutoff, _END_OF_TIME_NS)
        totals, rows = summarise_bytes(counters, window_ns, self.prices)
        return Snapshot(
            source=snap.source,
            window_ns=window_ns,
            as_of_ns=now,
            status=snap.status,
            totals=totals,
            by_model=rows,
            tokens_estimated=True,
            cost_estimated=True,
            capabilities=HEXAI_CAPABILITIES,
            history_used=True,
            data_updated_ns=snap.data_updated_ns,
        )

    def close(self) -> None:
        """Stop the watcher (the file itself is never held open)."""
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
