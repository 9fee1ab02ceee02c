"""The spec shape the coding agents' sources share: a folder-list option, a probe, doctor lines.

Every agent source (Amp, Codebuff, Gemini CLI, Goose, ...) reads its data where the agent keeps
it: from a comma-separated list of folders (or database files) in its config option when set,
else by the agent's own rule (``<agent>/paths.py``). It is present when one of those is there,
and ``doctor`` says where it reads and how much it found there, without reading it. Its history
is per-request records, it is never chosen by ``auto``, and ``all`` counts its tool from it.

This module is imported at registry load: the agent's reader, paths and source modules are
named as ``"module:name"`` and imported only when a source is built or asked about.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgspec import Struct

from burntray.config_keys import source_field, text
from burntray.sources.agent_logs.spec import DETAIL, dirs_option, doctor_lines
from burntray.sources.spec import SourceSpec

if TYPE_CHECKING:
    from burntray.sources.base import Source, SourceContext

Probe = Callable[["SourceContext"], tuple[bool, str]]
Doctor = Callable[["SourceContext"], list[str]]


def load(ref: str) -> Any:
    """The object ``"package.module:name"`` names, its module imported now."""
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


class Places(Struct, frozen=True):
    """Where an agent's data is: the paths in config option ``option`` when set (each through
    ``configured``, when given), else the agent's own rule ``default`` (``"module:function"``
    of the environment)."""

    option: str
    default: str
    configured: Callable[[Path], Path] | None = None

    def __call__(self, ctx: SourceContext) -> list[Path]:
        paths = dirs_option(ctx.option(self.option))
        if paths:
            return [self.configured(p) for p in paths] if self.configured else paths
        found: list[Path] = load(self.default)(ctx.env)
        return found


def _same(path: Path) -> Path:
    return path


Within = Callable[[Path], Path] | str  # a place to what is looked at there: a function, a name


def _within(at: Within) -> Callable[[Path], Path]:
    if isinstance(at, str):
        name = at
        return lambda place: place / name
    return at


def probe_places(
    places: Places,
    absent: str,
    at: Within = _same,
    *,
    files: bool = False,
) -> Probe:
    """Present when one of the places (``at`` each: a subfolder, a file) is there: a folder,
    or anything when ``files``; else ``absent`` and where it looked. No home to resolve the
    default from (``RuntimeError``) is why it is absent."""
    within = _within(at)

    def probe(ctx: SourceContext) -> tuple[bool, str]:
        try:
            places_now = places(ctx)
        except RuntimeError as exc:
            return False, str(exc)
        wanted = [within(p) for p in places_now]
        found = [str(p) for p in wanted if (p.exists() if files else p.is_dir())]
        if found:
            return True, ", ".join(found)
        return False, absent + ", ".join(map(str, places_now))

    return probe


def prices_line(own_cost: str = "") -> str:
    """Doctor's prices line; ``own_cost``: the agent whose own recorded cost comes first."""
    from burntray.model.price_table import PRICES_AS_OF  # noqa: PLC0415

    if own_cost:
        return f"prices       {own_cost}'s own cost, else bundled table {PRICES_AS_OF}"
    return f"prices       bundled table {PRICES_AS_OF} ([pricing] overrides it)"


def count_files(
    places: Places,
    word: str,
    unit: str,
    suffixes: tuple[str, ...],
    at: Within = _same,
    *,
    unreadable: bool = False,
) -> Doctor:
    """Doctor lines that count the agent's files in each folder (``word``: the line's name,
    ``unit``: what a file is), without reading them; ``unreadable``: name those that cannot
    be listed."""
    within = _within(at)

    def doctor(ctx: SourceContext) -> list[str]:
        from burntray.sources.agent_logs.files import JsonlFinder  # noqa: PLC0415

        lines = []
        for folder in places(ctx):
            where = within(folder)
            finder = JsonlFinder(where, suffixes=suffixes)
            files = finder.find()
            lines.append(f"{word:<12} {finder.problem or f'{where}: {len(files)} {unit}'}")
            if unreadable:
                bad = sorted(finder.unreadable.items())
                lines += [f"UNREADABLE   {p}: {why}" for p, why in bad]
        lines.append(prices_line())
        return lines

    return doctor


def list_databases(places: Places, own_cost: str = "") -> Doctor:
    """Doctor lines naming each database file, and whether it is there."""

    def doctor(ctx: SourceContext) -> list[str]:
        lines = [f"database     {db}{'' if db.exists() else ' (not there)'}" for db in places(ctx)]
        lines.append(prices_line(own_cost))
        return lines

    return doctor


def log_doctor(name: str, places: Places, subdirs: tuple[str, ...]) -> Doctor:
    """Doctor lines for JSONL logs in ``subdirs`` of each place (``spec.doctor_lines``)."""

    def doctor(ctx: SourceContext) -> list[str]:
        return doctor_lines(ctx, name, places(ctx), subdirs)

    return doctor


def _builder(  # noqa: PLR0917 - the agent's names, places, reader, what wakes it, its source
    name: str,
    label: str,
    places: Places,
    reader: str,
    watched: tuple[str, ...],
    source: str,
    *,
    databases: bool,
) -> Callable[[SourceContext], Source]:
    def build(ctx: SourceContext) -> Source:
        paths = places(ctx)
        cls = load(reader)
        if databases:
            made = cls(paths, ctx.prices, ctx.clock_ns)
            folders = list(dict.fromkeys(p.parent for p in paths))
        else:
            made, folders = cls(paths, ctx.prices), paths
        built: Source = load(source)(
            name, label, made, folders, ctx.records_history(), ctx.clock_ns, watch_suffixes=watched
        )
        return built

    return build


def store_build(
    name: str,
    label: str,
    places: Places,
    reader: str,
    watched: tuple[str, ...],
    *,
    databases: bool = False,
    parts: bool = False,
) -> Callable[[SourceContext], Source]:
    """Build a ``StoreSource`` over the reader class ``reader`` (``"module:Class"``, made with
    the places and the prices; ``databases``: the places are database files, the reader also
    takes the clock and their folders are watched; ``parts``: the reader keeps its state in
    parts, ``state_parts.PartsSource``)."""
    source = "burntray.sources.agent_logs." + (
        "state_parts:PartsSource" if parts else "stores:StoreSource"
    )
    return _builder(name, label, places, reader, watched, source, databases=databases)


def log_build(
    name: str,
    label: str,
    places: Places,
    reader: str,
    watched: tuple[str, ...] = (".jsonl",),
) -> Callable[[SourceContext], Source]:
    """Build a ``NamedLogSource`` over the agent's ``JsonlReader`` class ``reader``
    (``"module:Class"``, made with the places and the prices)."""
    source = "burntray.sources.agent_logs.named:NamedLogSource"
    return _builder(name, label, places, reader, watched, source, databases=False)


def agent_spec(
    *,
    name: str,
    label: str,
    places: Places,
    option_help: str,
    covers: str,
    summary: str,
    build: Callable[[SourceContext], Source],
    probe: Probe,
    doctor: Doctor,
) -> SourceSpec:
    """The spec of an agent read from its places (see the module docstring)."""
    return SourceSpec(
        name=name,
        label=label,
        build=build,
        probe=probe,
        config_fields=(source_field(places.option, text, option_help, ""),),
        covers=frozenset({covers}),
        detail=DETAIL,
        auto_rank=None,
        doctor=doctor,
        summary=summary,
    )
