"""When a window is empty, when was the last use? So a $0 says why it is $0.

A Claude Code user who worked yesterday and looks at a rolling hour saw $0 and nothing else.
When the window holds no request, the monitor looks up the last use burntray knows of (its
history of every tool it follows, and when each upstream last wrote) and what today cost, and
puts both on the Snapshot; the presenter words them ("nothing in the last 1 h · last use
yesterday 18:42 · $3.10 today"). Looked up at most every ``REFRESH_NS``, and never while the
window has requests.
"""

from __future__ import annotations

import sqlite3

from msgspec.structs import replace

from burntray.lazylog import get_logger
from burntray.model.snapshot import Snapshot
from burntray.model.timefmt import NS_PER_SECOND
from burntray.sources.base import KeepsOwnHistory, Source, members_of
from burntray.store.history import HistoryStore

log = get_logger(__name__)

REFRESH_NS = 30 * NS_PER_SECOND


def last_recorded_ns(history: HistoryStore, source: Source) -> int | None:
    """The newest request burntray's history holds for ``source`` or, for ``all``, any of its
    members (None: none): the shared per-request records, and what each source that keeps
    tables of its own (``KeepsOwnHistory``) says it recorded there."""
    from burntray.store.schema import EVENTS  # noqa: PLC0415

    members = members_of(source)
    names = list(members)
    found: list[int] = []
    marks = ", ".join("?" for _ in names)
    rows = history.execute(
        f"SELECT max(ts_ns) FROM {EVENTS} WHERE source IN ({marks})",  # noqa: S608
        names,
    )
    found += [int(r[0]) for r in rows if isinstance(r[0], int)]
    for member in members.values():
        if isinstance(member, KeepsOwnHistory):
            own = member.last_recorded_ns(history)
            found += [own] if own is not None else []
    return max(found, default=None)


class LastUse:
    """Fills ``last_use_ns`` and ``today_cost_usd`` on Snapshots of an empty window."""

    def __init__(self, history: HistoryStore | None) -> None:
        self._history = history
        self._cached: tuple[str, int, int | None, float | None] | None = None

    def __call__(self, snapshot: Snapshot, source: Source, window: str) -> Snapshot:
        if snapshot.totals.reqs or not snapshot.status.healthy:
            return snapshot
        now = snapshot.as_of_ns
        cached = self._cached
        if cached is not None and cached[0] == source.name and 0 <= now - cached[1] < REFRESH_NS:
            _, _, last, today = cached
        else:
            last, today = self._look_up(snapshot, source, window)
            self._cached = (source.name, now, last, today)
        return replace(snapshot, last_use_ns=last, today_cost_usd=today)

    def _look_up(
        self, snapshot: Snapshot, source: Source, window: str
    ) -> tuple[int | None, float | None]:
        from burntray.runtime.alerting import local_day, spent_since  # noqa: PLC0415

        now = snapshot.as_of_ns
        candidates: list[int | None] = [snapshot.data_updated_ns]
        if self._history is not None:
            try:
                candidates.append(last_recorded_ns(self._history, source))
            except sqlite3.OperationalError as exc:
                if "no such table" not in str(exc):  # nothing recorded yet is not a fault
                    log.warning("last use unknown: history unreadable: %s", exc)
            except sqlite3.Error as exc:
                log.warning("last use unknown: history unreadable: %s", exc)
        last = max((c for c in candidates if c is not None and c <= now), default=None)
        today = None
        if window != "today" and last is not None:
            _, midnight = local_day(now)
            today = spent_since(source, midnight, now) if last >= midnight else 0.0
        return last, today
