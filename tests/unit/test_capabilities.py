"""What only some sources can do is a capability protocol the core checks with ``isinstance``
(and mypy checks its use), never a ``getattr`` probe or a source's name."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from burntray.config import Settings
from burntray.model.pricing import build_price_table
from burntray.model.snapshot import Snapshot, SourceStatus
from burntray.paths import app_paths
from burntray.runtime.last_use import last_recorded_ns
from burntray.serve.run import SourceWatch, receiver_ready, receiver_requested
from burntray.sources.base import (
    HasBlocks,
    HasLimits,
    HasMembers,
    HasMinuteSeries,
    HasOwnSessionCosts,
    HasRecords,
    KeepsOwnHistory,
    Listens,
    SourceContext,
    SplitsByUpstream,
    WakesOnChange,
    members_of,
)
from burntray.sources.build import build_source
from burntray.sources.hexai.writer import hexai_update
from burntray.sources.registry import REGISTRY
from burntray.sources.spec import ReceiverSpec, SourceSpec
from burntray.store.history import HistoryStore
from burntray.store.usage_events import UsageEvents


def _history(path: Path) -> HistoryStore:
    """burntray's history as the app has it: with the shared per-request records' table."""
    history = HistoryStore(path)
    UsageEvents(history)
    return history


CAPABILITIES = {
    "members": HasMembers,
    "records": HasRecords,
    "blocks": HasBlocks,
    "minutes": HasMinuteSeries,
    "wakes": WakesOnChange,
    "own-history": KeepsOwnHistory,
    "splits": SplitsByUpstream,
    "listens": Listens,
    "limits": HasLimits,
    "own-costs": HasOwnSessionCosts,
}
# what each built-in source can do (the rest it cannot): the protocols match the real classes
EXPECTED = {
    "hexai": {"wakes", "own-history"},
    "claude": {"records", "blocks", "splits", "limits", "own-costs"},
    "codex": {"records", "splits", "limits"},
    "roder": {"minutes"},
    "ctm": {"minutes"},
    "otel": {"splits", "listens", "own-costs"},
    "all": {"members", "wakes", "limits"},
}


def _context(history: HistoryStore | None = None, **options: object) -> SourceContext:
    return SourceContext(
        Settings(source_options={"otel.listen": "127.0.0.1:0", **options}),
        app_paths(),
        build_price_table({}, None),
        history=history,
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_source_has_exactly_its_capabilities(name: str) -> None:
    source = build_source(name, _context())
    try:
        have = {key for key, protocol in CAPABILITIES.items() if isinstance(source, protocol)}
    finally:
        source.close()
    assert have == EXPECTED[name]


def test_members_of_is_the_members_of_all_else_the_source_itself() -> None:
    single = build_source("hexai", _context())
    combined = build_source("all", _context())
    try:
        assert members_of(single) == {"hexai": single}
        assert isinstance(combined, HasMembers)
        assert members_of(combined) == combined.members
    finally:
        single.close()
        combined.close()


def test_the_last_use_comes_from_a_source_that_keeps_its_own_tables(tmp_path: Path) -> None:
    """hexai keeps its requests in tables of its own: the last use asks it, not its name."""
    history = _history(tmp_path / "history.sqlite3")
    cache = tmp_path / "hexai"
    at = 1_790_000_000 * 10**9
    hexai_update(cache, "openai", "gpt-4.1", 400, 40, clock_ns=lambda: at)
    source = build_source("hexai", _context(history, **{"hexai.dir": str(cache)}))
    try:
        source.poll()
        source.attach_history(history)
        assert isinstance(source, KeepsOwnHistory)
        assert last_recorded_ns(history, source) == at
    finally:
        source.close()
        history.close()


class _Remembers:
    """A source of a name no core module knows, that keeps its own tables."""

    name = "elsewhere"
    label = "elsewhere"

    def last_recorded_ns(self, history: HistoryStore) -> int | None:
        return 42


def test_any_source_keeping_its_own_tables_is_asked(tmp_path: Path) -> None:
    history = _history(tmp_path / "history.sqlite3")
    try:
        assert last_recorded_ns(history, _Remembers()) == 42  # type: ignore[arg-type]
    finally:
        history.close()


class _Receiving:
    name = "listener"
    label = "listener"

    def __init__(self, health: tuple[bool, str]) -> None:
        self.health = health

    def listening_health(self) -> tuple[bool, str]:
        return self.health


@pytest.fixture
def listener_spec() -> Iterator[SourceSpec]:
    spec = SourceSpec(
        name="listener",
        label="listener",
        build=lambda ctx: _Receiving((True, "ok")),  # type: ignore[arg-type,return-value]
        probe=lambda ctx: (True, ""),
        receiver=ReceiverSpec(label="test receiver", enabled_key="otel.enabled"),
    )
    REGISTRY.register(spec)
    try:
        yield spec
    finally:
        REGISTRY.unregister(spec.name)


def test_the_receiver_asked_for_comes_from_the_specs() -> None:
    assert receiver_requested(Settings(source="otel"))
    assert not receiver_requested(Settings(source="hexai"))
    assert not receiver_requested(Settings(source="all"))
    assert receiver_requested(Settings(source="all", source_options={"otel.enabled": True}))
    assert receiver_requested(Settings(source="auto", source_options={"otel.enabled": True}))


@pytest.mark.usefixtures("listener_spec")
def test_a_new_listening_source_is_served_without_naming_it() -> None:
    settings = Settings(source="listener")
    assert receiver_requested(settings)
    watch = SourceWatch()
    check: Callable[[], tuple[bool, str]] = receiver_ready(watch, settings)
    ok, why = check()
    assert not ok and why.startswith("test receiver not ready: starting")
    snap = Snapshot("listener", 60, 0, SourceStatus("ok"))
    watch(snap, _Receiving((False, "test receiver not listening: port taken")))  # type: ignore[arg-type]
    assert check() == (False, "test receiver not listening: port taken")
    watch(snap, _Receiving((True, "ok")))  # type: ignore[arg-type]
    assert check() == (True, "ok")
    # with no settings every receiver is checked: the OTLP one is not among the sources here
    ok, why = receiver_ready(watch)()
    assert not ok and why == "OTLP receiver not ready: source otel: not among the sources"


def test_doctor_counts_what_each_source_keeps_in_its_own_tables() -> None:
    """doctor's history line asks each spec's ``history_summary``; it names no source."""
    from burntray.app import AppContext
    from burntray.doctor import _history

    spec = SourceSpec(
        name="widgets",
        label="widgets",
        build=lambda ctx: _Remembers(),  # type: ignore[arg-type,return-value]
        probe=lambda ctx: (True, ""),
        history_summary=lambda history: "7 widgets kept",
    )
    REGISTRY.register(spec)
    ctx = AppContext.load()
    try:
        assert ctx.history() is not None
        (line,) = _history(ctx)
    finally:
        REGISTRY.unregister(spec.name)
        ctx.close()
    assert "0 hexai events, 7 widgets kept, kept " in line


def test_auto_wraps_its_choice_and_keeps_the_choices_capabilities(tmp_path: Path) -> None:
    """``auto`` wraps the source it chose (no patched ``snapshot``): every Snapshot says why,
    and what the chosen source can do is still found through the protocols."""
    from burntray.sources.build import NotedSource
    from burntray.sources.hexai.source import HasLiveStats

    cache = tmp_path / "hexai"
    hexai_update(cache, "openai", "gpt-4.1", 400, 40)
    # cburn's daemon is looked for at a port nothing listens on: auto falls back to hexai
    source = build_source(
        "auto", _context(**{"hexai.dir": str(cache), "cburn.url": "http://127.0.0.1:9"})
    )
    try:
        assert isinstance(source, NotedSource) and source.name == "hexai"
        assert "snapshot" not in vars(source.chosen)  # the chosen source is left as it was
        assert source.poll()
        snap = source.snapshot(3600 * 10**9)
        assert snap.note.startswith("auto: no cburn daemon") and snap.totals.reqs == 1
        assert isinstance(source, WakesOnChange) and isinstance(source, KeepsOwnHistory)
        assert isinstance(source, HasLiveStats) and source.live_stats is not None
        assert not isinstance(source, HasRecords) and not isinstance(source, HasMembers)
    finally:
        source.close()


def test_status_json_finds_the_block_through_the_protocol(tmp_path: Path) -> None:
    """``block`` in status JSON: from the source that knows 5-hour blocks, itself or a member
    of ``all``; absent when no source does."""
    from burntray.cli.status import _block_json

    claude = build_source("claude", _context(**{"claude.dirs": str(tmp_path / "c")}))
    codex = build_source("codex", _context(**{"codex.dirs": str(tmp_path / "x")}))
    (tmp_path / "projects").mkdir()  # a Claude config folder: `all` follows it
    combined = build_source("all", _context(**{"claude.dirs": str(tmp_path)}))
    try:
        assert _block_json(claude, 0) == {"present": True, "current": None}
        assert _block_json(codex, 0) is None
        assert isinstance(combined, HasMembers) and "claude" in combined.members
        assert _block_json(combined, 0) == {"present": True, "current": None}
    finally:
        for source in (claude, codex, combined):
            source.close()
