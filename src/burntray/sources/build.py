"""Building a source by name: a registered one, ``auto`` or ``all``.

Apart from ``base`` (what a source is) so that ``all``, which is built from the other sources'
specs, can import ``base`` without ``base`` importing it back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from msgspec.structs import replace

from burntray.model.snapshot import Snapshot, SourceStatus
from burntray.sources.base import Source, SourceContext
from burntray.sources.registry import REGISTRY, UnknownSourceError

if TYPE_CHECKING:
    from burntray.store.history import HistoryStore


def build_source(name: str, ctx: SourceContext) -> Source:
    """Build the source ``name``: a registered one, ``auto`` (the best single source present)
    or ``all`` (every source present, summed)."""
    if name == "all":
        from burntray.sources.all import CombinedSource  # noqa: PLC0415 - only when asked

        return CombinedSource(ctx)
    note = ""
    if name == "auto":
        name, note = choose_auto(ctx)
    spec = REGISTRY.get(name)
    source = spec.build(ctx)
    return NotedSource(source, note) if note else source


def resolve_auto(ctx: SourceContext) -> str:
    """Auto: the present source ranked highest for auto (a reachable cburn daemon first)."""
    return choose_auto(ctx)[0]


def choose_auto(ctx: SourceContext) -> tuple[str, str]:
    """(source, why) for ``auto``: the why becomes ``Snapshot.note``.

    Candidates are tried from the highest ``auto_rank`` down; the lowest-ranked one is the
    fallback used even when absent (it then shows why it has nothing).
    """
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


class NotedSource:
    """The source ``auto`` chose, whose every Snapshot carries why it was chosen (``note``).

    A wrapper, not a patched instance: the source's own methods stay as its class wrote them.
    What only some sources can do (the capability protocols in ``base``) is looked up on the
    chosen source, so ``isinstance(noted, HasRecords)`` and ``noted.records(...)`` answer as
    the chosen source does; ``chosen`` is that source itself."""

    def __init__(self, chosen: Source, note: str) -> None:
        self.chosen = chosen
        self.note = note
        self.name = chosen.name
        self.label = chosen.label

    def __getattr__(self, attr: str) -> Any:
        # only reached for what this class lacks: a capability of the chosen source
        return getattr(self.chosen, attr)

    @property
    def status(self) -> SourceStatus:
        return self.chosen.status

    def start(self, wake: Callable[[], None]) -> None:
        self.chosen.start(wake)

    def poll(self) -> bool:
        return self.chosen.poll()

    def snapshot(self, window_ns: int, now_ns: int | None = None) -> Snapshot:
        snap = self.chosen.snapshot(window_ns, now_ns)
        return snap if snap.note else replace(snap, note=self.note)

    def needs_history(self, window_ns: int, now_ns: int) -> bool:
        return self.chosen.needs_history(window_ns, now_ns)

    def attach_history(self, history: HistoryStore) -> None:
        self.chosen.attach_history(history)

    def close(self) -> None:
        self.chosen.close()
