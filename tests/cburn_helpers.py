"""Shared bits for the cburn tests: fast timings, waiting on conditions, thread accounting."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from burntray.model.snapshot import SourceStatus
from burntray.sources.cburn.client import Timing
from burntray.sources.cburn.discovery import Discovery
from burntray.sources.cburn.source import CburnSource

T = TypeVar("T")
HOUR_NS = 3600 * 1_000_000_000

FAST = Timing(
    connect_timeout_s=1.0,
    request_timeout_s=0.5,
    probe_interval_s=0.3,
    backoff_initial_s=0.05,
    backoff_cap_s=0.2,
)


def wait_for(check: Callable[[], T], timeout: float = 5.0, what: str = "condition") -> T:
    """Poll ``check`` until it returns something truthy, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


class NoJitter(random.Random):
    """Backoff jitter pinned to its middle, so each retry waits exactly the backoff step."""

    def uniform(self, a: float, b: float) -> float:
        return (a + b) / 2


def client_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("burntray")]


class Streaming:
    """A streaming CburnSource driven the way the monitor drives it (poll on wake)."""

    def __init__(self, url: str, timing: Timing = FAST, rng: random.Random | None = None) -> None:
        self.source = CburnSource(Discovery(url, "test"), timing=timing, rng=rng)
        self.woken = threading.Event()
        self.seen: list[SourceStatus] = []  # every status the source woke the monitor with
        self.source.start(self._wake)

    def _wake(self) -> None:
        self.seen.append(self.source.status)
        self.woken.set()

    def wait_seen(self, state: str, contains: str = "", timeout: float = 5.0) -> SourceStatus:
        """Wait until the source has reported ``state`` (even if only for a moment)."""

        def check() -> SourceStatus | None:
            return next((s for s in self.seen if s.state == state and contains in s.detail), None)

        try:
            return wait_for(check, timeout, f"a {state!r} status with {contains!r}")
        except AssertionError as exc:
            raise AssertionError(f"{exc} (seen: {self.seen})") from None

    def snap(self, window_ns: int = HOUR_NS):  # type: ignore[no-untyped-def]
        self.source.poll()
        return self.source.snapshot(window_ns)

    def wait_state(self, state: str, timeout: float = 5.0, contains: str = ""):  # type: ignore[no-untyped-def]
        def check():  # type: ignore[no-untyped-def]
            snap = self.snap()
            ok = snap.status.state == state and contains in snap.status.detail
            return snap if ok else None

        try:
            return wait_for(check, timeout, f"state {state!r} with {contains!r}")
        except AssertionError as exc:
            raise AssertionError(f"{exc} (last: {self.source.status})") from None

    def close(self) -> bool:
        """Close the source; True when its thread has ended (close's own bounded join is the
        hang guard, so no wall-clock figure is needed)."""
        thread = self.source._thread
        self.source.close()
        return thread is None or not thread.is_alive()
