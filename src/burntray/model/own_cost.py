"""A tool's own cost beside burntray's log-derived one (Claude Code's, from its status line or
its OTLP ``cost_usd``): per session and per day, never added to burntray's totals.

Sources report ``OwnCost`` items: the status line one per session (its running total, as last
seen), OTLP one per request. A session reported by both shows the origin seen last: each
origin's figure is whole for what it saw, so mixing them would count requests twice or not at
all. A day is known only from per-request items (a status-line total has no day).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from msgspec import Struct

STATUS_LINE = "status line"
OTLP = "otlp"


class OwnCost(Struct, frozen=True):
    """One report of a tool's own cost: ``usd`` for ``session`` as of ``at_ns``;
    ``per_request``: one request's cost (OTLP), else the session's running total."""

    session: str
    at_ns: int
    usd: float
    origin: str
    per_request: bool


class OwnFigure(Struct, frozen=True):
    """What a row shows beside the logs' cost: the tool's own ``usd``, where it came from, when
    it was last reported, and the logs' cost it is compared with (None: the row's own)."""

    usd: float
    origin: str
    at_ns: int
    logged_usd: float | None = None
    sessions: tuple[str, ...] = ()


def _by_origin(items: Iterable[OwnCost]) -> dict[str, dict[str, tuple[float, int]]]:
    """session -> origin -> (usd, last report): per-request items summed, totals the last."""
    found: dict[str, dict[str, tuple[float, int]]] = {}
    for item in items:
        per = found.setdefault(item.session, {})
        usd, at = per.get(item.origin, (0.0, 0))
        if item.per_request:
            per[item.origin] = (usd + item.usd, max(at, item.at_ns))
        elif item.at_ns >= at:
            per[item.origin] = (item.usd, item.at_ns)
    return found


def per_session(items: Iterable[OwnCost]) -> dict[str, OwnFigure]:
    """Each session's own cost from the origin that reported it last."""
    shown: dict[str, OwnFigure] = {}
    for session, per in _by_origin(items).items():
        origin, (usd, at) = max(per.items(), key=lambda kv: (kv[1][1], kv[0]))
        shown[session] = OwnFigure(usd, origin, at)
    return shown


def per_day(items: Iterable[OwnCost], day_of: Callable[[int], str]) -> dict[str, OwnFigure]:
    """Each day's own cost from the per-request items (``day_of``: a time's day key), with the
    sessions it covers (to compare with the logs' cost of the same sessions that day)."""
    sums: dict[str, tuple[float, int, str, set[str]]] = {}
    for item in items:
        if not item.per_request:
            continue
        day = day_of(item.at_ns)
        usd, at, _, sessions = sums.get(day, (0.0, 0, item.origin, set()))
        sessions.add(item.session)
        sums[day] = (usd + item.usd, max(at, item.at_ns), item.origin, sessions)
    return {
        day: OwnFigure(usd, origin, at, sessions=tuple(sorted(sessions)))
        for day, (usd, at, origin, sessions) in sums.items()
    }
