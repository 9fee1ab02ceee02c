"""What a source is, and the context it is built in (building one by name: ``sources.build``).

A source knows one upstream and nothing about UI. It never raises into the monitor: problems
become its ``status``. What only some sources can do is a capability: a protocol below that
the core checks with ``isinstance`` (and mypy then knows the method), never a ``getattr``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from msgspec import Struct, field
from msgspec.structs import replace

from burntray.lazylog import get_logger

# Annotations only: sqlite3 and the store load when a history is opened, and the registry's
# entries (which config reads for the sources' keys) import this module: config must not.
if TYPE_CHECKING:
    from burntray.config import Settings
    from burntray.model.blocks import UsageBlock
    from burntray.model.limits import PlanWindow
    from burntray.model.own_cost import OwnCost
    from burntray.model.pricing import PriceTable
    from burntray.model.progress import ScanProgress
    from burntray.model.snapshot import Snapshot, SourceStatus, Totals, UsageRow
    from burntray.model.usage import UsageRecord
    from burntray.paths import AppPaths
    from burntray.store.history import HistoryStore
    from burntray.store.team import HostTotals


log = get_logger(__name__)


class Source(Protocol):
    name: str  # stable id: "hexai", "cburn"
    label: str  # for people: "hexai cache", "cburn daemon"

    @property
    def status(self) -> SourceStatus: ...

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


class SourceContext(Struct, frozen=True):
    """The environment a source is built in: injected, so tests can point it anywhere."""

    settings: Settings
    paths: AppPaths
    prices: PriceTable
    history: HistoryStore | None = None
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    clock_ns: Callable[[], int] = time.time_ns
    # opens burntray's history on demand (None: no history can be had here)
    history_opener: Callable[[], HistoryStore | None] | None = None

    def records_history(self) -> HistoryStore | None:
        """The history for sources that keep their records there (always, when it opens):
        a one-shot read then resumes from the offsets saved by the last run."""
        if self.history is not None:
            return self.history
        return self.history_opener() if self.history_opener is not None else None

    def option(self, key: str) -> Any:
        """A source's config value (its registry entry declares the key and default)."""
        return self.settings.option(key)


# --- capabilities: what only some sources can do ---------------------------------------------


@runtime_checkable
class HasMembers(Protocol):
    """A source made of other sources (``all``): the ones it follows, and those left out."""

    @property
    def members(self) -> dict[str, Source]:
        """The member sources present, by name."""
        ...

    @property
    def absent(self) -> dict[str, str]:
        """The sources left out, and why."""
        ...

    @property
    def counted_whole(self) -> dict[str, str]:
        """Member name -> "" when all its figures are added, else the source counted instead
        for the first upstream it loses (per-source charts leave such a member out)."""
        ...


@runtime_checkable
class HasRecords(Protocol):
    """A source that keeps one record per request (per-day and per-session views)."""

    def records(self, start_ns: int, end_ns: int) -> list[UsageRecord]:
        """The requests in ``[start, end)``, oldest first."""
        ...


@runtime_checkable
class HasBlocks(Protocol):
    """A source that knows the 5-hour block a plan is metered in."""

    def current_block(self, now_ns: int | None = None) -> UsageBlock | None:
        """The block active at ``now_ns`` (None: none is)."""
        ...


@runtime_checkable
class HasMinuteSeries(Protocol):
    """A source that reads per-minute figures from its upstream's own database."""

    def minute_series(self, start_ns: int, end_ns: int) -> list[tuple[int, int, float, int]] | None:
        """(minute, reqs, priced cost, unpriced reqs) rows; None when the database is unreadable."""
        ...


@runtime_checkable
class WakesOnChange(Protocol):
    """A source that wakes the monitor itself whenever its data changes (a live watch)."""

    @property
    def wakes_on_change(self) -> bool:
        """True while that watch is live (else the monitor polls it)."""
        ...


@runtime_checkable
class KeepsOwnHistory(Protocol):
    """A source that records its requests in tables of its own in burntray's history (not in
    the shared per-request records), so only it can say when it last saw one."""

    def last_recorded_ns(self, history: HistoryStore) -> int | None:
        """The newest request it recorded in ``history`` (None: none)."""
        ...


@runtime_checkable
class SplitsByUpstream(Protocol):
    """A source whose records each name the upstream they came from (OTLP from several tools):
    ``all`` can leave out only the upstreams another source reports."""

    def split_snapshot(
        self, window_ns: int, now_ns: int, upstreams: Iterable[str]
    ) -> tuple[Snapshot, dict[str, tuple[Totals, tuple[UsageRow, ...]]]]:
        """The window's Snapshot less ``upstreams``' requests, and their figures per upstream."""
        ...


@runtime_checkable
class Listens(Protocol):
    """A source that receives its data over the network (a receiver), for readiness checks."""

    def listening_health(self) -> tuple[bool, str]:
        """(ready, why): whether it listens and counts what it acknowledges."""
        ...


@runtime_checkable
class HasHosts(Protocol):
    """A source whose records came from several machines (a team's hub): its figures per host
    and user, for ``/metrics``' ``host`` series."""

    def host_totals(self, start_ns: int, end_ns: int) -> list[HostTotals]:
        """Per (host, user) sums over ``[start, end)``, the busiest first."""
        ...


@runtime_checkable
class HasLimits(Protocol):
    """A source that knows a subscription plan's usage windows (5-hour, weekly) as the tool
    itself reported them. Unknown windows are absent (never 0 %); ``burntray.model.limits``
    merges observations (freshest wins, a passed reset resets)."""

    def plan_windows(self, now_ns: int) -> tuple[PlanWindow, ...]:
        """The windows as known at ``now_ns`` (already merged by ``current_windows``)."""
        ...


def plan_windows_of(source: Source, now_ns: int) -> tuple[PlanWindow, ...]:
    """The plan windows ``source`` knows (every ``HasLimits`` member of ``all``), merged:
    freshest wins, a passed reset resets. A member that fails is left out (logged), never the
    reason the others go missing."""
    found: list[PlanWindow] = []
    for member in members_of(source).values():
        if isinstance(member, HasLimits):
            try:
                found.extend(member.plan_windows(now_ns))
            except Exception:
                log.exception("%s: plan windows unavailable", member.name)
    if not found:  # the usual answer: the merging code is loaded only for windows
        return ()
    from burntray.model.limits import current_windows  # noqa: PLC0415 - see above

    return current_windows(found, now_ns)


def with_limits(snapshot: Snapshot, source: Source) -> Snapshot:
    """``snapshot`` with ``limits`` filled from ``source`` at the snapshot's time (what every
    place that builds a Snapshot for people calls: the monitor, ``status``, ``serve``)."""
    limits = plan_windows_of(source, snapshot.as_of_ns)
    return replace(snapshot, limits=limits) if limits != snapshot.limits else snapshot


@runtime_checkable
class FoldsNames(Protocol):
    """A source that keeps a bounded set of the names its senders choose (models): requests of
    names past the bound are counted under "other"; ``/metrics`` counts them."""

    def folded_since_start(self) -> dict[str, int]:
        """Requests counted under model "other" in this process, per tool."""
        ...


@runtime_checkable
class HasOwnSessionCosts(Protocol):
    """A source that knows the tool's own cost (Claude Code's, from its status line or its
    OTLP ``cost_usd``), shown beside burntray's log-derived cost and never added to it."""

    def own_costs(self, start_ns: int, end_ns: int) -> list[OwnCost]:
        """The tool's own cost reports of ``[start, end)``: a session's running total as last
        reported, or one request's cost (``OwnCost.per_request``)."""
        ...


@runtime_checkable
class ReportsProgress(Protocol):
    """A source whose read can take a while (the first scan of a GB of logs): how far it has
    got, asked from any thread while it reads, so the tray and the terminal say so."""

    def scan_progress(self) -> ScanProgress | None:
        """Bytes done of bytes to read of the long read under way; None when none is."""
        ...


def scan_progress(source: Source) -> tuple[ScanProgress, ...]:
    """The long reads under way in ``source`` (each member of ``all`` that reports one)."""
    found = []
    for member in members_of(source).values():
        if isinstance(member, ReportsProgress):
            progress = member.scan_progress()
            if progress is not None:
                found.append(progress)
    return tuple(found)


def wakes_on_change(source: Source) -> bool:
    """Whether ``source`` wakes the monitor itself whenever its data changes (``WakesOnChange``);
    a source without that capability is polled."""
    return isinstance(source, WakesOnChange) and bool(source.wakes_on_change)


def members_of(source: Source) -> dict[str, Source]:
    """The sources ``source`` stands for: the members of ``all``, else itself."""
    return source.members if isinstance(source, HasMembers) else {source.name: source}


__all__ = [
    "FoldsNames",
    "HasBlocks",
    "HasLimits",
    "HasMembers",
    "HasMinuteSeries",
    "HasOwnSessionCosts",
    "HasRecords",
    "KeepsOwnHistory",
    "Listens",
    "ReportsProgress",
    "Source",
    "SourceContext",
    "SplitsByUpstream",
    "WakesOnChange",
    "members_of",
    "plan_windows_of",
    "scan_progress",
    "wakes_on_change",
    "with_limits",
]
