"""The list of built-in sources loads on first use, once, and a failure to load it is never an
empty registry."""

from __future__ import annotations

import pytest

from burntray.sources.base import Source, SourceContext
from burntray.sources.registry import REGISTRY, Registry
from burntray.sources.spec import SourceSpec


def _build(ctx: SourceContext) -> Source:
    raise AssertionError("not built in these tests")


def _spec(name: str) -> SourceSpec:
    return SourceSpec(name=name, label=name, build=_build, probe=lambda ctx: (False, "absent"))


def test_the_list_loads_on_first_use_and_once() -> None:
    calls = []

    def builtins() -> tuple[SourceSpec, ...]:
        calls.append(1)
        return (_spec("one"), _spec("two"))

    registry = Registry(builtins)
    assert calls == []
    assert registry.names() == ("one", "two")
    registry.register(_spec("three"))
    assert registry.choices() == ("auto", "all", "one", "two", "three")
    assert calls == [1]


def test_a_list_that_fails_to_load_fails_again_instead_of_being_empty() -> None:
    def builtins() -> tuple[SourceSpec, ...]:
        raise ImportError("a source package is missing from this build")

    registry = Registry(builtins)
    for _ in range(2):
        with pytest.raises(ImportError, match="missing from this build"):
            registry.names()


def test_a_name_twice_in_the_list_or_a_meta_name_is_refused() -> None:
    with pytest.raises(ValueError, match="'one' is registered already"):
        Registry(lambda: (_spec("one"), _spec("one"))).names()
    with pytest.raises(ValueError, match="'all' is registered already"):
        Registry(lambda: (_spec("all"),)).names()


def test_the_built_in_list_names_every_source_package() -> None:
    assert REGISTRY.names()[:8] == (
        "hexai", "cburn", "claude", "codex", "roder", "ctm", "yoi", "otel"
    )  # fmt: skip
    # the coding agents read as ccusage reads them, most used first
    assert REGISTRY.names()[8:] == (
        "opencode",
        "gemini",
        "copilot",
        "ampcode",
        "qwen",
        "kimi",
        "droid",
        "codebuff",
        "pi-agent",
        "kilo",
        "goose",
        "hermes",
        "openclaw",
        "grok",
        "zcode",
        "antigravity",
        # then a team hub's view of the machines that report to it
        "hub",
    )
