"""A latest-value slot: writers overwrite, readers take the newest. Never a queue or backlog."""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestSlot(Generic[T]):
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._value: T | None = None
        self._version = 0

    def put(self, value: T) -> None:
        with self._cond:
            self._value = value
            self._version += 1
            self._cond.notify_all()

    def get(self) -> tuple[int, T | None]:
        with self._cond:
            return self._version, self._value

    def wait_newer(self, seen_version: int, timeout: float | None) -> tuple[int, T | None]:
        """Block until a value newer than ``seen_version`` is put, or ``timeout`` passes."""
        with self._cond:
            self._cond.wait_for(lambda: self._version > seen_version, timeout)
            return self._version, self._value
