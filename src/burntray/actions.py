"""What the CLI and the tray both do, done once: read once, and the clear actions.

``burntray status``, ``report`` and the tray's menu call these, so a clear or a one-shot read
behaves the same wherever it is started. Every clear names what it will empty first (and
refuses, changing nothing, when that cannot be read), then empties it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from msgspec import Struct
from msgspec.structs import replace

from burntray.config_values import CALENDAR_WINDOWS
from burntray.errors import ClearError
from burntray.sources.registry import REGISTRY

if TYPE_CHECKING:
    from burntray.app import AppContext
    from burntray.config import Settings
    from burntray.model.snapshot import Snapshot
    from burntray.sources.base import Source
    from burntray.store.history import HistoryStore

HISTORY_TARGET = "history"


class ClearTarget(Struct, frozen=True):
    """Something ``clear-cache`` can empty: the history or a source's own store."""

    key: str  # "history" or a source's clear flag ("hexai")
    label: str  # "burntray history", "hexai stats"


def clear_targets() -> tuple[ClearTarget, ...]:
    """Every upstream store that can be emptied (registry order), then burntray's history."""
    targets = [ClearTarget(action.flag, action.label) for _, action in REGISTRY.clear_actions()]
    return (*targets, ClearTarget(HISTORY_TARGET, "burntray history"))


def _action(key: str):  # type: ignore[no-untyped-def]
    for _, action in REGISTRY.clear_actions():
        if action.flag == key:
            return action
    raise ClearError(f"nothing called {key!r} can be cleared")


def describe_clear(ctx: AppContext, key: str, settings: Settings | None = None) -> str:
    """What clearing ``key`` would empty ("42 events in .../stats.json"). Raises
    ``BurntrayError`` when that cannot be told (then nothing may be cleared)."""
    if key == HISTORY_TARGET:
        return f"all usage records in {ctx.paths.history_db}"
    return str(_action(key).describe(ctx.source_context(settings, with_history=False)))


def run_clear(ctx: AppContext, key: str, settings: Settings | None = None) -> str:
    """Empty ``key``; returns what was done. Raises ``BurntrayError`` when nothing changed."""
    if key != HISTORY_TARGET:
        return str(_action(key).run(ctx.source_context(settings, with_history=False)))
    if not ctx.paths.history_db.exists():
        return f"no history at {ctx.paths.history_db}: nothing to clear"
    history = ctx.history()
    if history is None:
        raise ClearError(f"history not cleared: {ctx.history_error}")
    history.require(REGISTRY.history_tables())  # every usage table, whoever declared it
    removed = history.clear_usage()
    events = sum(n for table, n in removed.items() if not table.endswith(("minutes", "quarters")))
    return f"cleared {events} usage records from {ctx.paths.history_db}"


def read_once(
    ctx: AppContext,
    settings: Settings,
    window_ns: int | None = None,
    built: Callable[[Source], object] | None = None,
) -> tuple[Snapshot, Source]:
    """Build the chosen source, read it once and take its Snapshot for the window (see
    ``read_source_once``); the caller closes the source. ``window_ns`` replaces the settings'
    window (a report over a date range); ``built`` is given the source before it reads (to
    follow a long read's progress)."""
    from burntray.sources.build import build_source  # noqa: PLC0415

    source = build_source(settings.source, ctx.source_context(settings, with_history=False))
    try:
        if built is not None:
            built(source)
        span = settings.window_ns_at(ctx.clock_ns()) if window_ns is None else window_ns
        snapshot = read_source_once(source, span, ctx.history, ctx.clock_ns)
        if settings.window in CALENDAR_WINDOWS and window_ns is None:
            snapshot = replace(snapshot, window_name=settings.window)
        return snapshot, source
    except BaseException:
        source.close()
        raise


def read_source_once(
    source: Source,
    window_ns: int,
    history: Callable[[], HistoryStore | None],
    clock_ns: Callable[[], int] = time.time_ns,
) -> Snapshot:
    """Poll ``source`` once; its Snapshot of ``[now - window, now]``, ``now`` read after the
    poll (a daemon's answer may take a while).

    The tray's monitor keeps a source alive with burntray's history attached from the start; a
    one-shot read starts cold. So that both show the same figures, the history (opened by
    ``history``, None when unusable) is attached whenever the live data cannot answer the window
    alone: the window reaches back before what the upstream still holds (``needs_history``;
    sources that keep their records there open it themselves), or the upstream cannot be read
    (an unhealthy or stale status): the history then holds the last good figures, marked stale.
    The rule names no source: one added later gets it by implementing ``needs_history`` and
    ``attach_history``.
    """
    from burntray.model.snapshot import stale_if_from_history  # noqa: PLC0415
    from burntray.sources.base import with_limits  # noqa: PLC0415

    source.poll()
    now = clock_ns()
    status = source.status  # stale too: e.g. ``all`` with one member broken is "ok, partial"
    if not status.healthy or status.stale or source.needs_history(window_ns, now):
        store = history()
        if store is not None:
            source.attach_history(store)
    return with_limits(stale_if_from_history(source.snapshot(window_ns, now)), source)
