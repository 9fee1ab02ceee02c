"""What a source is, and the registry that builds one by name.

A source knows one upstream and nothing about UI. It never raises into the monitor: problems
become its ``status``. The registry is explicit (no module scanning, which breaks when frozen).
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from burntray.config import Settings
from burntray.model.pricing import PriceTable
from burntray.model.snapshot import Snapshot, SourceStatus
from burntray.paths import AppPaths, cburn_cache_dir, hexai_cache_dir
from burntray.store import cburn_history as _cburn_history  # noqa: F401 - registers its table
from burntray.store.history import HistoryStore

if TYPE_CHECKING:
    from burntray.sources.cburn_discovery import Discovery as CburnDiscovery


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

    def cburn_discovery(self) -> CburnDiscovery:
        """Where the cburn daemon is: config, env, cburn's state file, then the default."""
        from burntray.sources.cburn_discovery import discover  # noqa: PLC0415

        try:
            cache: Path | None = cburn_cache_dir(self.env)
        except RuntimeError:
            cache = None
        return discover(self.settings.cburn_url, self.env, cache)


SourceFactory = Callable[[SourceContext], Source]


def _hexai_factory(ctx: SourceContext) -> Source:
    from burntray.sources.hexai import HexaiSource  # noqa: PLC0415 - registry stays import-cheap

    return HexaiSource(ctx.hexai_dir(), ctx.prices, ctx.history, ctx.clock_ns)


def _cburn_factory(ctx: SourceContext) -> Source:
    from burntray.sources.cburn import CburnSource  # noqa: PLC0415 - httpx only when used

    return CburnSource(
        ctx.cburn_discovery(),
        ctx.history,
        ctx.clock_ns,
        retention_days=ctx.settings.history_retention_days,
    )


def _cburn_probe(ctx: SourceContext) -> tuple[bool, str]:
    # A plain socket, no httpx: this runs on every `burntray status` with source = "auto".
    from burntray.sources.cburn_discovery import probe  # noqa: PLC0415

    found = ctx.cburn_discovery()
    if found.error:
        return False, found.error
    return probe(found.url)


SOURCE_FACTORIES: dict[str, SourceFactory] = {"hexai": _hexai_factory, "cburn": _cburn_factory}
SOURCE_LABELS: dict[str, str] = {"auto": "Auto", "hexai": "hexai cache", "cburn": "cburn daemon"}


class UnknownSourceError(ValueError):
    pass


def build_source(name: str, ctx: SourceContext) -> Source:
    """Build the source ``name``; ``auto`` picks the best available one (see ``resolve_auto``)."""
    note = ""
    if name == "auto":
        name, note = choose_auto(ctx)
    factory = SOURCE_FACTORIES.get(name)
    if factory is None:
        raise UnknownSourceError(
            f"source {name!r} is not available in this build; available: "
            + ", ".join(["auto", *SOURCE_FACTORIES])
        )
    source = factory(ctx)
    return _noting(source, note) if note else source


def resolve_auto(ctx: SourceContext) -> str:
    """Auto: a reachable cburn daemon first, else the hexai cache."""
    return choose_auto(ctx)[0]


def choose_auto(ctx: SourceContext) -> tuple[str, str]:
    """(source, why) for ``auto``: the why becomes ``Snapshot.note``."""
    probe = AUTO_PROBES.get("cburn")
    if probe is None or "cburn" not in SOURCE_FACTORIES:
        return "hexai", "auto: using hexai cache"
    found, why = probe(ctx)
    if found:
        return "cburn", f"auto: {why}"
    return "hexai", f"auto: no cburn daemon ({why}), using hexai cache"


def _noting(source: Source, note: str) -> Source:
    """Make every Snapshot of ``source`` carry ``note`` (why auto chose it).

    The instance's own ``snapshot`` is wrapped rather than the source in a proxy, so code that
    checks the concrete type (``isinstance(source, HexaiSource)``) still sees it.
    """
    plain = source.snapshot

    def snapshot(window_ns: int, now_ns: int | None = None) -> Snapshot:
        snap = plain(window_ns, now_ns)
        return snap if snap.note else dataclasses.replace(snap, note=note)

    source.snapshot = snapshot  # type: ignore[method-assign]
    return source


# name -> cheap reachability check used by "auto": (reachable, why), registered per source
AUTO_PROBES: dict[str, Callable[[SourceContext], tuple[bool, str]]] = {"cburn": _cburn_probe}
