"""What a source is, and the registry that builds one by name.

A source knows one upstream and nothing about UI. It never raises into the monitor: problems
become its ``status``. The registry is explicit (no module scanning, which breaks when frozen).
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
from burntray.record import field, record, replace
from burntray.sources.registry import UnknownSourceError

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


def build_source(name: str, ctx: SourceContext) -> Source:
    """Build the source ``name``: a registered one, ``auto`` (the best single source present)
    or ``all`` (every source present, summed)."""
    from burntray.sources.registry import REGISTRY  # noqa: PLC0415

    if name == "all":
        from burntray.sources.all import CombinedSource  # noqa: PLC0415

        return CombinedSource(ctx)
    note = ""
    if name == "auto":
        name, note = choose_auto(ctx)
    spec = REGISTRY.get(name)
    source = spec.build(ctx)
    return _noting(source, note) if note else source


def resolve_auto(ctx: SourceContext) -> str:
    """Auto: the present source ranked highest for auto (a reachable cburn daemon first)."""
    return choose_auto(ctx)[0]


def choose_auto(ctx: SourceContext) -> tuple[str, str]:
    """(source, why) for ``auto``: the why becomes ``Snapshot.note``.

    Candidates are tried from the highest ``auto_rank`` down; the lowest-ranked one is the
    fallback used even when absent (it then shows why it has nothing).
    """
    from burntray.sources.registry import REGISTRY  # noqa: PLC0415

    ranked = sorted(
        (s for s in REGISTRY if s.auto_rank is not None), key=lambda s: -(s.auto_rank or 0)
    )
    if not ranked:
        raise UnknownSourceError("no source in this build can be chosen automatically")
    missing: list[str] = []
    for spec in ranked[:-1]:
        found, why = spec.probe(ctx)
        if found:
            return spec.name, f"auto: {why}" if why else f"auto: using {spec.label}"
        missing.append(f"no {spec.label} ({why})" if why else f"no {spec.label}")
    fallback = ranked[-1]
    if missing:
        return fallback.name, f"auto: {', '.join(missing)}, using {fallback.label}"
    return fallback.name, f"auto: using {fallback.label}"


def _noting(source: Source, note: str) -> Source:
    """Make every Snapshot of ``source`` carry ``note`` (why auto chose it).

    The instance's own ``snapshot`` is wrapped rather than the source in a proxy, so code that
    checks the concrete type (``isinstance(source, HexaiSource)``) still sees it.
    """
    plain = source.snapshot

    def snapshot(window_ns: int, now_ns: int | None = None) -> Snapshot:
        snap = plain(window_ns, now_ns)
        return snap if snap.note else replace(snap, note=note)

    source.snapshot = snapshot  # type: ignore[method-assign]
    return source


__all__ = ["Source", "SourceContext", "UnknownSourceError", "build_source", "wakes_on_change"]
