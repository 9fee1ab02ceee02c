"""The report's views: its range per day, week or month and per tool (a chart each), and its
usage per project and per project and branch (tables), read from burntray's history with the
same rule as ``status --by`` (``report.views``), so a report and ``--by`` agree."""

from __future__ import annotations

import datetime as dt

from msgspec import Struct

from burntray.model.periods import ViewRow, day_start_ns
from burntray.report.views import ViewQuery, read_view
from burntray.store.history import HistoryStore

DAY_NS = 86400 * 10**9
# The period a report's chart is drawn in: days up to this span, then weeks, then months.
DAYS_UP_TO_NS = 62 * DAY_NS
WEEKS_UP_TO_NS = 200 * DAY_NS
MAX_TABLE_ROWS = 50  # the dearest groups; the rest are summed in one line


class PeriodBar(Struct, frozen=True):
    start_ns: int
    end_ns: int
    key: str  # 2026-11-20, the week's first day, or 2026-11
    cost_usd: float
    reqs: int
    tokens: int
    unpriced_reqs: int


class ReportViews(Struct, frozen=True):
    unit: str  # day, week or month
    totals: tuple[PeriodBar, ...]  # every period of the range, oldest first
    by_tool: tuple[tuple[str, tuple[PeriodBar, ...]], ...]  # each tool's periods
    projects: tuple[ViewRow, ...]  # dearest first
    branches: tuple[ViewRow, ...]  # (project, branch), dearest first
    hidden_projects: int = 0
    hidden_branches: int = 0


def period_unit(span_ns: int) -> str:
    if span_ns <= DAYS_UP_TO_NS:
        return "day"
    return "week" if span_ns <= WEEKS_UP_TO_NS else "month"


def _bounds(unit: str, key: str, tz: dt.tzinfo | None) -> tuple[int, int]:
    """The period named ``key`` as ``[start, end)`` in ``tz``."""
    if unit == "month":
        first = dt.date.fromisoformat(key + "-01")
        after = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    else:
        first = dt.date.fromisoformat(key)
        after = first + dt.timedelta(days=1 if unit == "day" else 7)
    return day_start_ns(first, tz), day_start_ns(after, tz)


def _bars(rows: list[ViewRow], unit: str, tz: dt.tzinfo | None) -> tuple[PeriodBar, ...]:
    return tuple(
        PeriodBar(
            *_bounds(unit, r.keys[0], tz), r.keys[0], r.cost_usd, r.reqs, r.tokens, r.unpriced_reqs
        )
        for r in rows
    )


def read_report_views(
    history: HistoryStore,
    names: list[str] | None,
    start_ns: int,
    end_ns: int,
    tz: dt.tzinfo | None = None,
) -> ReportViews | None:
    """``names``' usage in ``[start, end)`` (None: every source with records, as ``all``);
    None when none of them keeps per-request records in the history."""
    unit = period_unit(end_ns - start_ns)
    whole = read_view(history, names, ViewQuery((unit,), start_ns, end_ns, tz))
    if not whole.sources:
        return None
    totals = whole.rows
    per_tool = read_view(history, names, ViewQuery((unit, "tool"), start_ns, end_ns, tz)).rows
    tools: dict[str, list[ViewRow]] = {}
    for row in per_tool:
        tools.setdefault(row.keys[1], []).append(ViewRow((row.keys[0],), *_sums(row)))
    projects = read_view(history, names, ViewQuery(("project",), start_ns, end_ns, tz)).rows
    branches = read_view(
        history, names, ViewQuery(("project", "branch"), start_ns, end_ns, tz)
    ).rows
    return ReportViews(
        unit=unit,
        totals=_bars(totals, unit, tz),
        by_tool=tuple((name, _bars(rows, unit, tz)) for name, rows in sorted(tools.items())),
        projects=tuple(projects[:MAX_TABLE_ROWS]),
        branches=tuple(branches[:MAX_TABLE_ROWS]),
        hidden_projects=max(0, len(projects) - MAX_TABLE_ROWS),
        hidden_branches=max(0, len(branches) - MAX_TABLE_ROWS),
    )


def _sums(row: ViewRow) -> tuple[int, int, int, int, int, float, int]:
    return (
        row.reqs,
        row.input_tokens,
        row.output_tokens,
        row.cache_read_tokens,
        row.cache_write_tokens,
        row.cost_usd,
        row.unpriced_reqs,
    )
