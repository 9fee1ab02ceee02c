"""A tool's own cost beside burntray's log-derived one, per session and per day (Claude Code's,
from its status line or OTLP): the figures for ``status --by session|day`` and the report's
"Two costs" section. The two are compared, never added."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from msgspec import Struct
from msgspec.structs import replace

from burntray.model import own_cost
from burntray.model.format import usd
from burntray.model.own_cost import OwnFigure
from burntray.model.periods import PeriodKeys
from burntray.report.by_period import GAP_FLAG_PCT, cost_gap_pct
from burntray.report.views import ViewQuery, read_view
from burntray.sources.base import HasOwnSessionCosts, Source, members_of

if TYPE_CHECKING:
    from burntray.store.history import HistoryStore

MAX_SESSIONS = 50  # the report's table: the most recent sessions a tool reported on


def own_figures(
    history: HistoryStore, source: Source, names: list[str] | None, query: ViewQuery
) -> dict[str, OwnFigure]:
    """The tools' own cost per session or per day of ``query`` (``dims`` ``("session",)`` or
    ``("day",)``): a day's is compared with the logs' cost of the same sessions that day
    (another tool's requests that day are not in it)."""
    items = []
    for member in members_of(source).values():
        if isinstance(member, HasOwnSessionCosts):
            items.extend(member.own_costs(query.start_ns, query.end_ns))
    if query.dims == ("session",):
        return own_cost.per_session(items)
    keys = PeriodKeys("day", query.tz, query.week_start)
    days = own_cost.per_day(items, lambda ts: keys.key(keys.date_of(ts)))
    if not days:
        return {}
    logged: dict[tuple[str, str], float] = {}
    for row in read_view(history, names, replace(query, dims=("day", "session"))).rows:
        logged[(row.keys[0], row.keys[1])] = row.cost_usd
    return {
        day: replace(fig, logged_usd=sum(logged.get((day, s), 0.0) for s in fig.sessions))
        for day, fig in days.items()
    }


class TwoCosts(Struct, frozen=True):
    """One session's or day's two costs: the logs' (burntray's) and the tool's own."""

    key: str
    logged_usd: float
    own_usd: float
    origin: str

    @property
    def gap_pct(self) -> float | None:
        return cost_gap_pct(self.own_usd, self.logged_usd)


class TwoCostTables(Struct, frozen=True):
    sessions: tuple[TwoCosts, ...]  # most recent first
    days: tuple[TwoCosts, ...]  # oldest first
    hidden_sessions: int = 0


def read_two_costs(
    history: HistoryStore,
    source: Source,
    names: list[str] | None,
    start_ns: int,
    end_ns: int,
    *,
    tz: dt.tzinfo | None = None,
) -> TwoCostTables | None:
    """The sessions and days of ``[start, end)`` a tool reported its own cost of, beside the
    logs' cost; None when no tool reported one."""
    query = ViewQuery(("session",), start_ns, end_ns, tz)
    own = own_figures(history, source, names, query)
    if not own:
        return None
    sessions = [
        TwoCosts(row.keys[0], row.cost_usd, own[row.keys[0]].usd, own[row.keys[0]].origin)
        for row in read_view(history, names, query).rows
        if row.keys[0] in own
    ]
    days = own_figures(history, source, names, replace(query, dims=("day",)))
    return TwoCostTables(
        sessions=tuple(sessions[:MAX_SESSIONS]),
        days=tuple(
            TwoCosts(day, fig.logged_usd or 0.0, fig.usd, fig.origin)
            for day, fig in sorted(days.items())
        ),
        hidden_sessions=max(0, len(sessions) - MAX_SESSIONS),
    )


def _html_row(row: TwoCosts) -> dict[str, Any]:
    gap = row.gap_pct
    return {
        "key": row.key,
        "logged": usd(row.logged_usd),
        "own": usd(row.own_usd),
        "origin": row.origin,
        "gap": "" if gap is None else f"{gap:+.1f} %",
        "flagged": gap is not None and abs(gap) > GAP_FLAG_PCT,
    }


def two_cost_context(tables: TwoCostTables | None) -> dict[str, Any] | None:
    """The report's "Two costs" section, or None when no tool reported its own cost."""
    if tables is None:
        return None
    return {
        "sessions": [_html_row(r) for r in tables.sessions],
        "days": [_html_row(r) for r in tables.days],
        "hidden": tables.hidden_sessions,
        "flag_pct": f"{GAP_FLAG_PCT:g}",
    }
