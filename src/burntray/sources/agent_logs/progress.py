"""Bytes read of the bytes to read, kept by a reader while it reads and asked from any thread."""

from __future__ import annotations

import threading

# A read of fewer new bytes is over before a progress line could be read: none is shown.
PROGRESS_MIN_BYTES = 8 * 1024 * 1024


class ScanCounter:
    """``start`` a read of ``total`` bytes, ``add`` as files are done, ``stop`` at its end;
    ``now`` from another thread gives (done, total) while a large read is under way."""

    def __init__(self, min_bytes: int = PROGRESS_MIN_BYTES) -> None:
        self.min_bytes = min_bytes
        self._lock = threading.Lock()
        self._done = 0
        self._total = 0
        self._active = False

    def start(self, total: int) -> None:
        with self._lock:
            self._done, self._total = 0, total
            self._active = total >= self.min_bytes

    def add(self, done: int) -> None:
        with self._lock:
            self._done += done

    def stop(self) -> None:
        with self._lock:
            self._active = False

    def now(self) -> tuple[int, int] | None:
        """(bytes done, bytes to read) of the read under way; None when none (or a small one)."""
        with self._lock:
            return (self._done, self._total) if self._active else None
