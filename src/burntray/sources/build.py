"""Building a source by name: a registered one, ``auto`` or ``all``.

Apart from ``base`` (what a source is) so that ``all``, which is built from the other sources'
specs, can import ``base`` without ``base`` importing it back.
"""

from __future__ import annotations

from burntray.model.snapshot import Snapshot
from burntray.record import replace
from burntray.sources.base import Source, SourceContext
from burntray.sources.registry import REGISTRY, UnknownSourceError


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
    return _noting(source, note) if note else source


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
