"""The list of built-in sources names them without importing them: each spec loads on first
use, once, only where it is needed, and a failure to load one is never a missing source."""

from __future__ import annotations

import pytest
from msgspec.structs import replace

from burntray.config_keys import source_field, text
from burntray.sources.base import Source, SourceContext
from burntray.sources.registry import BUILTINS, REGISTRY, Builtin, Registry
from burntray.sources.spec import SourceSpec
from burntray.store.schema import TableSchema


def _build(ctx: SourceContext) -> Source:
    raise AssertionError("not built in these tests")


def _spec(name: str) -> SourceSpec:
    return SourceSpec(name=name, label=name, build=_build, probe=lambda ctx: (False, "absent"))


def test_each_spec_loads_on_first_use_and_once() -> None:
    """Names, choices and membership come from the list; a spec is loaded when it is asked for,
    once, and only that one."""
    loaded: list[str] = []

    def load(entry: Builtin) -> SourceSpec:
        loaded.append(entry.name)
        return _spec(entry.name)

    registry = Registry((Builtin("one"), Builtin("two")), load)
    assert registry.names() == ("one", "two") and "two" in registry
    registry.register(_spec("three"))
    assert registry.choices() == ("auto", "all", "one", "two", "three")
    assert loaded == []
    assert registry.get("two").name == "two" and registry.label("two") == "two"
    assert loaded == ["two"]
    registry2 = Registry((Builtin("a"), Builtin("b")), load)
    assert next(iter(registry2)).name == "a" and loaded == ["two", "a"]  # a loop that stops
    del loaded[1:]
    assert [s.name for s in registry] == ["one", "two", "three"]
    assert loaded == ["two", "one"]


def test_a_spec_that_fails_to_load_fails_again_instead_of_going_missing() -> None:
    def load(entry: Builtin) -> SourceSpec:
        raise ImportError("a source package is missing from this build")

    registry = Registry((Builtin("one"),), load)
    for _ in range(2):
        with pytest.raises(ImportError, match="missing from this build"):
            registry.get("one")
    assert registry.names() == ("one",)


def test_a_name_twice_in_the_list_or_a_meta_name_is_refused() -> None:
    with pytest.raises(ValueError, match="'one' is registered already"):
        Registry((Builtin("one"), Builtin("one")))
    with pytest.raises(ValueError, match="'all' is registered already"):
        Registry((Builtin("all"),))
    registry = Registry((Builtin("one"),), lambda entry: _spec(entry.name))
    with pytest.raises(ValueError, match="'one' is registered already"):
        registry.register(_spec("one"))


def _keyed(name: str, key: str, tables: tuple[TableSchema, ...] = ()) -> SourceSpec:
    field = source_field(key, text, "a folder", "")
    return replace(_spec(name), config_fields=(field,), history_tables=tables)


def test_a_config_key_or_the_history_tables_load_only_the_sources_that_have_them() -> None:
    loaded: list[str] = []
    table = TableSchema("one_events", ("CREATE TABLE IF NOT EXISTS one_events (x)",))
    specs = {
        "one": _keyed("one", "one.dir", (table,)),
        "two": _keyed("two", "two.dir"),
        "hub": _keyed("hub", "team.hub"),
    }

    def load(entry: Builtin) -> SourceSpec:
        loaded.append(entry.name)
        return specs[entry.name]

    entries = (Builtin("one", tables=True), Builtin("two"), Builtin("hub", keys="team"))
    registry = Registry(entries, load)
    field = registry.config_field("two.dir")
    assert field is not None and field.key == "two.dir"
    assert loaded == ["two"]
    assert registry.config_field("two.nothing") is None
    assert registry.config_field("team.hub") is specs["hub"].config_fields[0]
    assert loaded == ["two", "hub"]
    assert registry.history_tables(["two", "three"]) == ()  # one's spec is not loaded for it
    assert loaded == ["two", "hub"]
    assert registry.history_tables() == (table,)
    assert loaded == ["two", "hub", "one"]
    assert registry.history_tables(["one"]) == (table,)


def _with_status_line(name: str) -> SourceSpec:
    return replace(_spec(name), status_line=lambda: None)  # type: ignore[arg-type,return-value]


def test_the_status_line_source_is_found_loading_only_the_lines_that_offer_one() -> None:
    loaded: list[str] = []
    specs = {"one": _spec("one"), "two": _with_status_line("two"), "three": _spec("three")}

    def load(entry: Builtin) -> SourceSpec:
        loaded.append(entry.name)
        return specs[entry.name]

    entries = (Builtin("one"), Builtin("two", status_line=True), Builtin("three"))
    found = Registry(entries, load).status_line_source()
    assert found is specs["two"] and loaded == ["two"]
    assert Registry((Builtin("one"),), load).status_line_source() is None
    assert loaded == ["two"]


@pytest.mark.parametrize(
    ("entry", "spec", "message"),
    [
        (Builtin("one"), _spec("other"), "is named 'other'"),
        (Builtin("one"), _with_status_line("one"), "needs status_line=True"),
        (Builtin("one", status_line=True), _spec("one"), "no status_line=True"),
        (Builtin("one"), _keyed("one", "one.dir", (TableSchema("t", ("x",)),)), "tables=True"),
        (Builtin("one", tables=True), _spec("one"), "no tables=True"),
        (Builtin("one"), _keyed("one", "team.hub"), "keys='team'"),
    ],
)
def test_a_spec_unlike_its_line_in_the_list_is_refused_with_the_fix(
    entry: Builtin, spec: SourceSpec, message: str
) -> None:
    registry = Registry((entry,), lambda _entry: spec)
    with pytest.raises(ValueError, match=message):
        registry.get("one")


def test_every_built_in_spec_agrees_with_its_line() -> None:
    """Loading them all checks each line: name, key prefix, tables."""
    fresh = Registry(BUILTINS)
    assert [s.name for s in fresh] == [e.name for e in BUILTINS]


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
