"""The history rule for a failing source is generic: any source gets it, by implementing the
protocol's ``needs_history``/``attach_history``, with no code that knows its name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from burntray.actions import read_source_once
from burntray.config import Settings
from burntray.model.snapshot import Snapshot, SourceStatus, Totals
from burntray.runtime.monitor import Monitor
from burntray.sources.hexai import history as hexai_history
from burntray.sources.hexai.history import HexaiEvent
from burntray.store.history import HistoryStore

NOW = 1_800_000_000 * 10**9
HOUR = 3600 * 10**9


class LaterSource:
    """A source as a future one might be written: its upstream is down, its figures come from
    the history once attached, and its ``needs_history`` knows nothing about failures."""

    name = "later"
    label = "a later source"

    def __init__(self) -> None:
        self.history: HistoryStore | None = None
        self.polls = 0

    @property
    def status(self) -> SourceStatus:
        return SourceStatus("offline", "upstream down")

    def start(self, wake: Callable[[], None]) -> None:
        pass

    def poll(self) -> bool:
        self.polls += 1
        return False

    def needs_history(self, window_ns: int, now_ns: int) -> bool:
        return False  # it holds "everything" live: only the failure says otherwise

    def attach_history(self, history: HistoryStore) -> None:
        self.history = history

    def snapshot(self, window_ns: int, now_ns: int | None = None) -> Snapshot:
        now = NOW if now_ns is None else now_ns
        reqs = 0
        if self.history is not None:
            found = hexai_history.counters(self.history, now - window_ns, now + 1)
            reqs = sum(int(r[2]) for r in found)
        return Snapshot(
            source=self.name,
            window_ns=window_ns,
            as_of_ns=now,
            status=self.status,
            totals=Totals(reqs=reqs),
            history_used=self.history is not None,
        )

    def close(self) -> None:
        pass


def history_with_two_events(tmp_path: Path) -> HistoryStore:
    store = HistoryStore(tmp_path / "history.sqlite3")
    hexai_history.ingest(
        store,
        [
            HexaiEvent(NOW - 10 * 60 * 10**9, "p", "m", 1, 1),
            HexaiEvent(NOW - 60 * 10**9, "p", "m", 2, 2),
        ],
    )
    return store


def test_a_failing_source_answers_from_history_marked_stale(tmp_path: Path) -> None:
    store = history_with_two_events(tmp_path)
    source = LaterSource()
    try:
        snap = read_source_once(source, HOUR, lambda: store, lambda: NOW)
    finally:
        store.close()
    assert source.polls == 1
    assert snap.totals.reqs == 2 and snap.history_used
    assert snap.status.state == "offline" and snap.status.stale
    assert snap.as_of_ns == NOW


def test_without_a_usable_history_the_snapshot_is_left_as_it_is() -> None:
    snap = read_source_once(LaterSource(), HOUR, lambda: None, lambda: NOW)
    assert snap.totals.reqs == 0 and not snap.history_used and not snap.status.stale


def test_the_monitor_marks_the_same_figures_stale(tmp_path: Path) -> None:
    store = history_with_two_events(tmp_path)
    source = LaterSource()
    source.attach_history(store)  # the tray attaches its history when it builds the source
    monitor = Monitor(Settings(), lambda _s: source, history=store, clock_ns=lambda: NOW)  # type: ignore[arg-type, return-value]
    try:
        monitor.tick()
        snap = monitor.slot.get()[1]
    finally:
        monitor.stop()
        store.close()
    assert snap is not None
    assert snap.totals.reqs == 2 and snap.status.stale
