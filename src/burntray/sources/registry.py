"""The source registry: one ``SourceSpec`` per source, in one explicit list.

Everything that varies by source - config keys, CLI choices, the Source menu, doctor, the clear
actions, history tables, reports - asks this registry and the Snapshot's capabilities, never a
source's name. Adding a source is one package (``sources/<name>/``) plus one line in
``BUILTINS``. No module scanning (it breaks when frozen).

The list names each source without importing it: a spec is imported when it is first asked
for, so ``status --source claude --format tmux`` (tmux runs it every few seconds) loads the one
package it reads, not all of them. A line also says what must be known before the package is
imported: the prefix of its config keys (its name unless said) and whether it keeps tables of
its own in burntray's history (opening the history for every source needs those; a one-source
``status`` opens it with that source's alone); the spec is checked against
its line when it loads.

Two meta sources are not in the list: ``auto`` (the best single source present) and ``all``
(every source present, summed; see ``burntray.sources.all``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the spec module loads with the first spec
    from burntray.config_keys import ConfigField
    from burntray.sources.spec import ClearAction, SourceSpec
    from burntray.store.schema import TableSchema

META_SOURCES = ("auto", "all")
META_LABELS = {"auto": "Auto", "all": "All tools"}


class UnknownSourceError(ValueError):
    pass


class Builtin:
    """A built-in source as known before its package is imported: its name (the package is
    ``burntray.sources.<name>``, ``-`` spelled ``_``), the first part of its config keys,
    whether its spec declares ``history_tables`` and whether it offers a ``status_line``."""

    __slots__ = ("key_prefix", "module", "name", "status_line", "tables")

    def __init__(
        self, name: str, *, keys: str = "", tables: bool = False, status_line: bool = False
    ) -> None:
        self.name = name
        self.module = "burntray.sources." + name.replace("-", "_")
        self.key_prefix = keys or name
        self.tables = tables
        self.status_line = status_line


def import_spec(entry: Builtin) -> SourceSpec:
    """The ``SPEC`` of a built-in source's package."""
    spec: SourceSpec = importlib.import_module(entry.module).SPEC
    return spec


class Registry:
    """The sources of this build: ``builtins`` in menu order, each loaded by ``load`` on first
    use, once; then any ``register``-ed. A spec that fails to load is not kept (the next use
    raises again, never a missing entry)."""

    def __init__(
        self,
        builtins: Iterable[Builtin] = (),
        load: Callable[[Builtin], SourceSpec] = import_spec,
    ) -> None:
        self._load = load
        self._entries: dict[str, Builtin] = {}
        for entry in builtins:
            self._check_new(entry.name, self._entries)
            self._entries[entry.name] = entry
        self._order: list[str] = list(self._entries)
        self._specs: dict[str, SourceSpec] = {}

    @staticmethod
    def _check_new(name: str, known: Iterable[str]) -> None:
        if name in known or name in META_SOURCES:
            raise ValueError(f"source {name!r} is registered already")

    def _spec(self, name: str) -> SourceSpec | None:
        spec = self._specs.get(name)
        if spec is None and name in self._entries:
            entry = self._entries[name]
            spec = self._load(entry)
            _check_entry(entry, spec)
            self._specs[name] = spec  # a second thread loading it too stores the same spec
        return spec

    def register(self, spec: SourceSpec) -> SourceSpec:
        self._check_new(spec.name, self._order)
        self._specs[spec.name] = spec
        self._order.append(spec.name)
        return spec

    def unregister(self, name: str) -> None:
        if name in self._order:
            self._order.remove(name)
        self._entries.pop(name, None)
        self._specs.pop(name, None)

    def get(self, name: str) -> SourceSpec:
        spec = self._spec(name) if name in self._order else None
        if spec is None:
            raise UnknownSourceError(
                f"source {name!r} is not available in this build; available: "
                + ", ".join(self.choices())
            )
        return spec

    def __contains__(self, name: object) -> bool:
        return name in self._order

    def __iter__(self) -> Iterator[SourceSpec]:
        """Every spec, in menu order, each loaded as it is reached: a loop that stops at the
        one it wants (the status line's source) leaves the rest unloaded."""
        for name in tuple(self._order):
            if name in self._order:  # not unregistered meanwhile
                yield self.get(name)

    def names(self) -> tuple[str, ...]:
        return tuple(self._order)

    def choices(self) -> tuple[str, ...]:
        """What ``--source`` and ``source =`` accept."""
        return (*META_SOURCES, *self._order)

    def label(self, name: str) -> str:
        if name in META_LABELS:
            return META_LABELS[name]
        spec = self._spec(name) if name in self._order else None
        return spec.label if spec else name

    def config_fields(self) -> tuple[ConfigField, ...]:
        return tuple(f for spec in self for f in spec.config_fields)

    def config_field(self, key: str) -> ConfigField | None:
        """The source key ``key`` ("claude.dirs") as its source declares it (None: no source
        does), loading only the sources whose keys start as it does."""
        prefix = key.split(".", 1)[0]
        for name in list(self._order):
            entry = self._entries.get(name)
            if entry is not None and entry.key_prefix != prefix:
                continue  # a built-in whose keys start otherwise: left unloaded
            spec = self._spec(name)
            for field in spec.config_fields if spec else ():
                if field.key == key:
                    return field
        return None

    def status_line_source(self) -> SourceSpec | None:
        """The first source that offers a status line (``burntray statusline``), loading only
        the built-ins whose line says they do (Claude Code runs it after every message)."""
        for name in list(self._order):
            entry = self._entries.get(name)
            if entry is None or entry.status_line:
                spec = self._spec(name)
                if spec is not None and spec.status_line is not None:
                    return spec
        return None

    def clear_actions(self) -> list[tuple[SourceSpec, ClearAction]]:
        return [(s, s.clear) for s in self if s.clear is not None]

    def history_tables(self, names: Iterable[str] | None = None) -> tuple[TableSchema, ...]:
        """Every source's own history tables (only those of the sources ``names`` when given),
        loading only the sources that keep some."""
        wanted = None if names is None else set(names)
        tables: list[TableSchema] = []
        for name in list(self._order):
            if wanted is not None and name not in wanted:
                continue
            entry = self._entries.get(name)
            if entry is None or entry.tables:
                spec = self._spec(name)
                tables.extend(spec.history_tables if spec else ())
        return tuple(tables)


def _check_entry(entry: Builtin, spec: SourceSpec) -> None:
    """The spec says what its line in ``BUILTINS`` says, or loading it fails with what to fix
    (the lazy lookups trust the line)."""
    where = f"source {entry.name!r} ({entry.module}.SPEC)"
    if spec.name != entry.name:
        raise ValueError(f"{where} is named {spec.name!r}: its registry line must say so")
    if bool(spec.history_tables) != entry.tables:
        fix = "tables=True" if spec.history_tables else "no tables=True"
        raise ValueError(f"{where}: its registry line needs {fix} (its history_tables)")
    if (spec.status_line is not None) != entry.status_line:
        fix = "status_line=True" if spec.status_line else "no status_line=True"
        raise ValueError(f"{where}: its registry line needs {fix} (its status_line)")
    for field in spec.config_fields:
        if field.key.split(".", 1)[0] != entry.key_prefix:
            raise ValueError(
                f"{where}: config key {field.key!r} does not start with "
                f"{entry.key_prefix!r}.: give its line keys={field.key.split('.', 1)[0]!r}"
            )


# The sources of this build, in menu order: one line each; each spec is its package's ``SPEC``
# (``sources/<name>/__init__.py``).
BUILTINS = (
    Builtin("hexai", tables=True),
    Builtin("cburn", tables=True),
    Builtin("claude", status_line=True),
    Builtin("codex"),
    Builtin("roder"),
    Builtin("ctm", tables=True),
    Builtin("yoi"),
    Builtin("otel"),
    Builtin("opencode"),
    Builtin("gemini"),
    Builtin("copilot"),
    Builtin("ampcode"),
    Builtin("qwen"),
    Builtin("kimi"),
    Builtin("droid"),
    Builtin("codebuff"),
    Builtin("pi-agent"),
    Builtin("kilo"),
    Builtin("goose"),
    Builtin("hermes"),
    Builtin("openclaw"),
    Builtin("grok"),
    Builtin("zcode"),
    Builtin("antigravity"),
    Builtin("hub", keys="team", tables=True),
)

REGISTRY = Registry(BUILTINS)
