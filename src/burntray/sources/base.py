"""What a source is, and the context it is built in (building one by name: ``sources.build``).

A source knows one upstream and nothing about UI. It never raises into the monitor: problems
become its ``status``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from burntray.config import Settings
from burntray.model.pricing import PriceTable
from burntray.model.snapshot import Snapshot, SourceStatus
from burntray.paths import AppPaths
from burntray.record import field, record

if TYPE_CHECKING:  # annotations only: sqlite3 and the store load when a history is opened
    from burntray.store.history import HistoryStore


class Source(Protocol):
    name: str  # stable id: "hexai", "cburn"
    label: str  # for people: "hexai cache", "cburn daemon"

    @property
    def status(self) -> SourceStatus: ...

    def availability(self) -> tuple[bool, str]:
        """Whether the upstream looks present, and why (cheap: no network waits)."""
        ...

    def start(self, wake: Callable[[], None]) -> None:
        """Begin background work, if any; call ``wake`` when new data arrives."""
        ...

    def poll(self) -> bool:
        """Do the cheap periodic work; True when the data changed. Never raises."""
        ...

    def snapshot(self, window_ns: int, now_ns: int | None = None) -> Snapshot: ...

    def needs_history(self, window_ns: int, now_ns: int) -> bool:
        """Whether this window reaches back before what the upstream itself still holds."""
        ...

    def attach_history(self, history: HistoryStore) -> None:
        """Record into, and read long windows from, burntray's history from now on."""
        ...

    def close(self) -> None: ...


@record(slots=False)
class SourceContext:
    """The environment a source is built in: injected, so tests can point it anywhere."""

    settings: Settings
    paths: AppPaths
    prices: PriceTable
    history: HistoryStore | None = None
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    clock_ns: Callable[[], int] = time.time_ns
    # opens burntray's history on demand (None: no history can be had here)
    history_opener: Callable[[], HistoryStore | None] | None = None

    def records_history(self) -> HistoryStore | None:
        """The history for sources that keep their records there (always, when it opens):
        a one-shot read then resumes from the offsets saved by the last run."""
        if self.history is not None:
            return self.history
        return self.history_opener() if self.history_opener is not None else None

    def option(self, key: str) -> Any:
        """A source's config value (its registry entry declares the key and default)."""
        return self.settings.option(key)


def wakes_on_change(source: Source) -> bool:
    """Whether ``source`` wakes the monitor itself whenever its data changes (a live inotify
    watch), as its optional ``wakes_on_change`` property says; a source without it is polled.

    Optional rather than part of ``Source``: most sources have no watch of their own."""
    return bool(getattr(source, "wakes_on_change", False))


__all__ = ["Source", "SourceContext", "wakes_on_change"]
