"""What a source is, and the registry that builds one by name.

A source knows one upstream and nothing about UI. It never raises into the monitor: problems
become its ``status``. The registry is explicit (no module scanning, which breaks when frozen).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from burntray.config import Settings
from burntray.model.pricing import PriceTable
from burntray.model.snapshot import Snapshot, SourceStatus
from burntray.paths import AppPaths, hexai_cache_dir
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


@dataclass(frozen=True)
class SourceContext:
    """The environment a source is built in: injected, so tests can point it anywhere."""

    settings: Settings
    paths: AppPaths
    prices: PriceTable
    history: HistoryStore | None = None
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    clock_ns: Callable[[], int] = time.time_ns

    def hexai_dir(self) -> Path:
        if self.settings.hexai_dir.strip():
            return Path(self.settings.hexai_dir).expanduser()
        return hexai_cache_dir(self.env)


SourceFactory = Callable[[SourceContext], Source]


def _hexai_factory(ctx: SourceContext) -> Source:
    from burntray.sources.hexai import HexaiSource  # noqa: PLC0415 - registry stays import-cheap

    return HexaiSource(ctx.hexai_dir(), ctx.prices, ctx.history, ctx.clock_ns)


SOURCE_FACTORIES: dict[str, SourceFactory] = {"hexai": _hexai_factory}
SOURCE_LABELS: dict[str, str] = {"auto": "Auto", "hexai": "hexai cache", "cburn": "cburn daemon"}


class UnknownSourceError(ValueError):
    pass


def build_source(name: str, ctx: SourceContext) -> Source:
    """Build the source ``name``; ``auto`` picks the best available one (see ``resolve_auto``)."""
    if name == "auto":
        name = resolve_auto(ctx)
    factory = SOURCE_FACTORIES.get(name)
    if factory is None:
        raise UnknownSourceError(
            f"source {name!r} is not available in this build; available: "
            + ", ".join(["auto", *SOURCE_FACTORIES])
        )
    return factory(ctx)


def resolve_auto(ctx: SourceContext) -> str:
    """Auto: a reachable cburn daemon first, else the hexai cache."""
    probe = AUTO_PROBES.get("cburn")
    if probe is not None and "cburn" in SOURCE_FACTORIES and probe(ctx):
        return "cburn"
    return "hexai"


# name -> cheap reachability check used by "auto" (registered by sources that need one)
AUTO_PROBES: dict[str, Callable[[SourceContext], bool]] = {}
