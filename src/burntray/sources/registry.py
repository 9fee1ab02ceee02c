"""The source registry: one ``SourceSpec`` per source, in one explicit list.

Everything that varies by source - config keys, CLI choices, the Source menu, doctor, the clear
actions, history tables, reports - asks this registry and the Snapshot's capabilities, never a
source's name. Adding a source is one package (``sources/<name>/``) plus one line in
``_builtin_specs``. No module scanning (it breaks when frozen); every source module is imported
lazily by its ``build``, so importing the registry stays cheap for ``status --format tmux``.

Two meta sources are not in the list: ``auto`` (the best single source present) and ``all``
(every source present, summed; see ``burntray.sources.all``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from burntray.config import ConfigField
from burntray.record import field, record

if TYPE_CHECKING:
    from pathlib import Path

    from burntray.model.pricing import PriceTable
    from burntray.sources.base import Source, SourceContext
    from burntray.store.history import HistoryStore

# (history, the live source, start_ns, end_ns, prices) -> (per-minute rows or None, where they
# come from, note); rows are (minute, reqs, priced cost, unpriced reqs)
ChartMinutes = Callable[
    ["HistoryStore | None", "Source", int, int, "PriceTable"],
    tuple["list[tuple[int, int, float, int]] | None", str, str],
]

META_SOURCES = ("auto", "all")
META_LABELS = {"auto": "Auto", "all": "All tools"}


@record(slots=False)
class ClearAction:
    """Emptying an upstream's own store (only where the upstream itself offers a clear).

    ``describe`` says what would be emptied ("hexai stats at ... (42 events)") or raises
    ``BurntrayError`` when it cannot be read (then nothing may be cleared); ``run`` empties it and
    returns a sentence for the user, raising ``BurntrayError`` when nothing was changed.
    """

    label: str  # menu label: "hexai stats"
    flag: str  # `burntray clear-cache --FLAG`
    describe: Callable[[SourceContext], str]
    run: Callable[[SourceContext], str]


@record(slots=False)
class SourceSpec:
    name: str  # stable id used in config and on the command line
    label: str  # for people: "hexai cache"
    build: Callable[[SourceContext], Source]
    # cheap availability check (no network waits): (present, why) - "why" is shown when absent
    probe: Callable[[SourceContext], tuple[bool, str]]
    config_fields: tuple[ConfigField, ...] = ()
    # upstreams this source reports; among sources covering one upstream, `all` counts the one
    # with the highest ``detail`` and shows the others as covered by it
    covers: frozenset[str] = frozenset()
    detail: int = 0
    # True when each of its records names the upstream it came from (its key starts with
    # "<upstream>:"): `all` then leaves out only the upstreams another source counts, and adds
    # the rest (OTLP from Gemini CLI beside Claude Code's own logs), instead of all or nothing
    per_upstream: bool = False
    # "auto" picks the present source with the highest rank (None: never chosen by auto)
    auto_rank: int | None = None
    doctor: Callable[[SourceContext], list[str]] | None = None
    clear: ClearAction | None = None
    history_tables: tuple[str, ...] = ()
    # the report's charts; None: the per-request records this source keeps in the history
    chart_minutes: ChartMinutes | None = None
    summary: str = ""  # one line for the README table and `doctor`
    aliases: tuple[str, ...] = field(default=())


def path_probe(
    where: Callable[[SourceContext], Path], absent: str
) -> Callable[[SourceContext], tuple[bool, str]]:
    """A probe for a source that reads one path: present when anything is there (a directory
    or a bad file where the store should be is a problem for the source to show, not absence);
    ``where`` raising ``RuntimeError`` (no home to resolve, say) is why it is absent."""

    def probe(ctx: SourceContext) -> tuple[bool, str]:
        try:
            path = where(ctx)
        except RuntimeError as exc:
            return False, str(exc)
        if path.exists():
            return True, str(path)
        return False, f"no {absent} at {path}"

    return probe


def minute_series_chart(upstream: str, unit: str, where: str) -> ChartMinutes:
    """The report's charts from the live source's own ``minute_series`` (sources that read their
    upstream's database in place keep no records in burntray's history). ``unit`` names what a
    request is there ("turns"), ``where`` the chart's origin for the report."""

    def chart(
        history: HistoryStore | None,
        source: Source,
        start_ns: int,
        end_ns: int,
        prices: PriceTable,
    ) -> tuple[list[tuple[int, int, float, int]] | None, str, str]:
        series = getattr(source, "minute_series", None)
        if series is None:
            return None, "", f"not a {upstream} source"
        minutes = series(start_ns, end_ns)
        if minutes is None:
            return None, "", f"{upstream} database unreadable: {source.status.detail}"
        note = "" if minutes else f"no {upstream} {unit} in this window"
        return minutes, where, note

    return chart


class UnknownSourceError(ValueError):
    pass


class Registry:
    """The sources of this build. The built-in list is loaded on first use, not at import, so
    a source package may import the registry (for ``SourceSpec``) without a circular import."""

    def __init__(self, builtins: Callable[[], tuple[SourceSpec, ...]] = lambda: ()) -> None:
        self._builtins: Callable[[], tuple[SourceSpec, ...]] | None = builtins
        self._loaded: dict[str, SourceSpec] = {}

    @property
    def _specs(self) -> dict[str, SourceSpec]:
        if self._builtins is not None:
            builtins, self._builtins = self._builtins, None
            for spec in builtins():
                self.register(spec)
        return self._loaded

    def register(self, spec: SourceSpec) -> SourceSpec:
        specs = self._specs
        if spec.name in specs or spec.name in META_SOURCES:
            raise ValueError(f"source {spec.name!r} is registered already")
        specs[spec.name] = spec
        return spec

    def unregister(self, name: str) -> None:
        self._specs.pop(name, None)

    def get(self, name: str) -> SourceSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownSourceError(
                f"source {name!r} is not available in this build; available: "
                + ", ".join(self.choices())
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[SourceSpec]:
        return iter(list(self._specs.values()))

    def names(self) -> tuple[str, ...]:
        return tuple(self._specs)

    def choices(self) -> tuple[str, ...]:
        """What ``--source`` and ``source =`` accept."""
        return (*META_SOURCES, *self._specs)

    def label(self, name: str) -> str:
        if name in META_LABELS:
            return META_LABELS[name]
        spec = self._specs.get(name)
        return spec.label if spec else name

    def config_fields(self) -> tuple[ConfigField, ...]:
        return tuple(f for spec in self._specs.values() for f in spec.config_fields)

    def clear_actions(self) -> list[tuple[SourceSpec, ClearAction]]:
        return [(s, s.clear) for s in self._specs.values() if s.clear is not None]

    def history_tables(self) -> tuple[str, ...]:
        return tuple(t for s in self._specs.values() for t in s.history_tables)


def _builtin_specs() -> tuple[SourceSpec, ...]:
    """The sources of this build, in menu order: one line each; each spec is its package's
    ``SPEC`` (``sources/<name>/__init__.py``)."""
    from burntray.sources import (  # noqa: PLC0415 - loaded on first use of the registry
        cburn,
        claude,
        codex,
        ctm,
        hexai,
        otel,
        roder,
        yoi,
    )

    return (
        hexai.SPEC,
        cburn.SPEC,
        claude.SPEC,
        codex.SPEC,
        roder.SPEC,
        ctm.SPEC,
        yoi.SPEC,
        otel.SPEC,
    )


REGISTRY = Registry(_builtin_specs)
