"""The otel source's waker: a burst of exports is one wake of the monitor, and no export is left
without a wake after it."""

from __future__ import annotations

import threading

from burntray.sources.otel.source import CoalescingWaker


def test_a_burst_of_nudges_is_folded_into_few_wakes() -> None:
    wakes = threading.Semaphore(0)
    count = [0]

    def wake() -> None:
        count[0] += 1
        wakes.release()

    waker = CoalescingWaker(wake, gap_s=0.3)
    try:
        waker.nudge()
        assert wakes.acquire(timeout=5)  # the first nudge after a quiet spell: at once
        for _ in range(200):  # microseconds, far inside the gap that follows
            waker.nudge()
        assert wakes.acquire(timeout=5)  # all of them: one wake at the end of the gap
        assert not wakes.acquire(timeout=0.6)  # and no more (two gaps)
        assert count[0] == 2
    finally:
        waker.close()


def test_every_nudge_is_followed_by_a_wake() -> None:
    """A writer bumps a counter then nudges, as the receiver adds to the ledger then nudges;
    whatever the interleaving, a wake sees the writer's last value."""
    value = [0]
    seen: list[int] = []
    caught_up = threading.Event()
    last = 3000

    def wake() -> None:
        seen.append(value[0])
        if value[0] == last:
            caught_up.set()

    waker = CoalescingWaker(wake, gap_s=0.001)
    try:
        for i in range(1, last + 1):
            value[0] = i
            waker.nudge()
        assert caught_up.wait(30), seen[-5:]
        assert len(seen) < last
    finally:
        waker.close()


def test_close_ends_the_thread_even_inside_a_gap() -> None:
    waker = CoalescingWaker(lambda: None, gap_s=60.0)
    waker.nudge()
    waker.nudge()  # the second waits out a one-minute gap
    waker.close()
    assert not waker._thread.is_alive()
