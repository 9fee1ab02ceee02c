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

from burntray.config_keys import ConfigField
from burntray.sources.spec import ClearAction, SourceSpec
from burntray.store.schema import TableSchema

META_SOURCES = ("auto", "all")
META_LABELS = {"auto": "Auto", "all": "All tools"}


class UnknownSourceError(ValueError):
    pass


class Registry:
    """The sources of this build. The built-in list is loaded on first use, not at import:
    ``config`` imports the registry for the sources' keys, and most commands never need a
    source package's spec before they build one."""

    def __init__(self, builtins: Callable[[], tuple[SourceSpec, ...]] = lambda: ()) -> None:
        self._builtins: Callable[[], tuple[SourceSpec, ...]] | None = builtins
        self._loaded: dict[str, SourceSpec] = {}

    @property
    def _specs(self) -> dict[str, SourceSpec]:
        builtins = self._builtins
        if builtins is not None:
            # Built whole, then published: a failing import leaves the registry unloaded (the
            # next use raises again, never an empty list), and a second thread loading at the
            # same moment publishes the same entries.
            loaded: dict[str, SourceSpec] = {}
            for spec in builtins():
                self._check_new(spec, loaded)
                loaded[spec.name] = spec
            if self._builtins is not None:
                self._loaded, self._builtins = loaded, None
        return self._loaded

    @staticmethod
    def _check_new(spec: SourceSpec, specs: dict[str, SourceSpec]) -> None:
        if spec.name in specs or spec.name in META_SOURCES:
            raise ValueError(f"source {spec.name!r} is registered already")

    def register(self, spec: SourceSpec) -> SourceSpec:
        specs = self._specs
        self._check_new(spec, specs)
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

    def history_tables(self) -> tuple[TableSchema, ...]:
        return tuple(t for s in self._specs.values() for t in s.history_tables)


def _builtin_specs() -> tuple[SourceSpec, ...]:
    """The sources of this build, in menu order: one line each; each spec is its package's
    ``SPEC`` (``sources/<name>/__init__.py``)."""
    from burntray.sources import (  # noqa: PLC0415 - loaded on first use of the registry
        ampcode,
        antigravity,
        cburn,
        claude,
        codebuff,
        codex,
        copilot,
        ctm,
        droid,
        gemini,
        goose,
        grok,
        hermes,
        hexai,
        hub,
        kilo,
        kimi,
        openclaw,
        opencode,
        otel,
        pi_agent,
        qwen,
        roder,
        yoi,
        zcode,
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
        opencode.SPEC,
        gemini.SPEC,
        copilot.SPEC,
        ampcode.SPEC,
        qwen.SPEC,
        kimi.SPEC,
        droid.SPEC,
        codebuff.SPEC,
        pi_agent.SPEC,
        kilo.SPEC,
        goose.SPEC,
        hermes.SPEC,
        openclaw.SPEC,
        grok.SPEC,
        zcode.SPEC,
        antigravity.SPEC,
        hub.SPEC,
    )


REGISTRY = Registry(_builtin_specs)
