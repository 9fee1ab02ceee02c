"""The dispatcher: latest wins, coalesced to the rate limit, handed over only on change."""

from __future__ import annotations

import itertools
import threading
import time

from burntray.model.snapshot import Snapshot, SourceStatus, Totals
from burntray.runtime.dispatch import Dispatcher
from burntray.runtime.slot import LatestSlot


def snap(reqs: int) -> Snapshot:
    return Snapshot("hexai", 3600 * 10**9, reqs, SourceStatus("ok"), Totals(reqs=reqs))


def render(snapshot: Snapshot | None) -> str:
    return "none" if snapshot is None else f"{snapshot.totals.reqs} reqs"


class Applied:
    """Records what the tray would show; lets a test wait for a value."""

    def __init__(self) -> None:
        self.views: list[str] = []
        self.threads: set[str] = set()
        self._cond = threading.Condition()

    def __call__(self, view: str) -> None:
        with self._cond:
            self.views.append(view)
            self.threads.add(threading.current_thread().name)
            self._cond.notify_all()

    def wait_for(self, view: str, timeout: float = 5.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: view in self.views, timeout)


def test_hands_over_only_when_the_view_changes() -> None:
    slot: LatestSlot[Snapshot] = LatestSlot()
    applied = Applied()
    dispatcher = Dispatcher(slot, render, applied)
    assert dispatcher.run_once()  # the first view is always shown
    slot.put(snap(1))
    assert dispatcher.run_once()
    slot.put(snap(1))  # a new Snapshot, same view: nothing to do
    assert not dispatcher.run_once()
    slot.put(snap(2))
    assert dispatcher.run_once()
    assert applied.views == ["none", "1 reqs", "2 reqs"]
    assert dispatcher.handoffs == 3


def test_latest_wins_and_bursts_are_coalesced() -> None:
    slot: LatestSlot[Snapshot] = LatestSlot()
    applied = Applied()
    dispatcher = Dispatcher(slot, render, applied, min_interval_s=0.3)
    dispatcher.start()
    try:
        slot.put(snap(1))
        dispatcher.nudge()
        assert applied.wait_for("1 reqs")
        for reqs in range(2, 52):  # a burst much faster than the rate limit
            slot.put(snap(reqs))
            dispatcher.nudge()
        assert applied.wait_for("51 reqs")
        # 1 first, then at most one update per 0.3 s while the burst lasted, ending on 51
        assert applied.views[-1] == "51 reqs"
        assert len(applied.views) <= 4, applied.views
        assert applied.threads == {"burntray-dispatch"}
    finally:
        dispatcher.stop()
    assert not dispatcher.alive


def test_rate_limit_spaces_handoffs() -> None:
    slot: LatestSlot[Snapshot] = LatestSlot()
    stamps: list[float] = []
    done = threading.Event()

    def apply(view: str) -> None:
        stamps.append(time.monotonic())
        if view == "5 reqs":
            done.set()

    dispatcher = Dispatcher(slot, render, apply, min_interval_s=0.2)
    dispatcher.start()
    try:
        for reqs in range(1, 6):
            slot.put(snap(reqs))
            dispatcher.nudge()
            time.sleep(0.05)  # writers arriving faster than the limit (not a wait for a result)
        assert done.wait(30)
    finally:
        dispatcher.stop()
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert all(gap >= 0.19 for gap in gaps), gaps


def test_schedule_is_how_views_reach_the_tray_thread() -> None:
    slot: LatestSlot[Snapshot] = LatestSlot()
    queue: list[object] = []
    applied = Applied()
    dispatcher = Dispatcher(slot, render, applied, schedule=queue.append)
    dispatcher.run_once()
    assert applied.views == []  # nothing applied on the dispatcher's side
    queue.pop()()  # type: ignore[operator]  # the tray thread runs it
    assert applied.views == ["none"]


def test_a_dead_monitor_is_reported_and_shown() -> None:
    slot: LatestSlot[Snapshot] = LatestSlot()
    slot.put(snap(3))
    dead = threading.Event()
    state = {"error": ""}

    def on_dead() -> None:
        state["error"] = "monitor stopped"
        dead.set()

    applied = Applied()
    dispatcher = Dispatcher(
        slot,
        lambda s: render(s) + (f" ({state['error']})" if state["error"] else ""),
        applied,
        monitor_alive=lambda: False,
        on_monitor_dead=on_dead,
        health_check_s=0.05,
    )
    dispatcher.start()
    try:
        assert dead.wait(30)
        assert applied.wait_for("3 reqs (monitor stopped)")
    finally:
        dispatcher.stop()


def test_stop_is_prompt_while_idle() -> None:
    # Idle, the thread waits up to a minute between health checks: a stop that did not wake
    # it would leave it alive after the join (no wall-clock bound needed, none to be flaky).
    dispatcher = Dispatcher(LatestSlot(), render, Applied(), health_check_s=60.0)
    dispatcher.start()
    dispatcher.stop(timeout=10)
    assert not dispatcher.alive
