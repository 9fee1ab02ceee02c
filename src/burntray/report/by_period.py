"""``burntray report --by day|session`` (and ``status --by``): per-request sources' usage grouped
by calendar day (the machine's zone) or by session, as a table, CSV or JSON.

Only sources that keep each request (the agent logs) can be grouped; for ``all`` their records
are pooled, and the sources that cannot be grouped are named in the output.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

from burntray.model.periods import PeriodRow, by_day, by_session
from burntray.model.timefmt import format_duration, format_rfc3339_ns
from burntray.model.usage import UsageRecord
from burntray.sources.base import HasOwnSessionCosts, HasRecords, Source, members_of

COLUMNS = (
    "reqs",
    "input_tokens",
    "output_tokens",
    "cache_write_tokens",
    "cache_read_tokens",
    "total_tokens",
    "cost_usd",
    "unpriced_reqs",
)


def gather_records(
    source: Source, start_ns: int, end_ns: int
) -> tuple[list[UsageRecord], list[str]]:
    """Records of every member that keeps them; and the names of those that do not."""
    records: list[UsageRecord] = []
    skipped: list[str] = []
    for name, member in members_of(source).items():
        if isinstance(member, HasRecords):
            records.extend(member.records(start_ns, end_ns))
        else:
            skipped.append(name)
    records.sort(key=lambda r: r.ts_ns)
    return records, skipped


# Beyond this gap between the tool's own session cost and the log-derived one, it is flagged.
GAP_FLAG_PCT = 5.0


def gather_own_costs(source: Source) -> dict[str, float]:
    """The tools' own cost per session, where a member knows it (Claude Code's status line):
    shown beside the log-derived cost, never added to it."""
    own: dict[str, float] = {}
    for member in members_of(source).values():
        if isinstance(member, HasOwnSessionCosts):
            own.update(member.own_session_costs())
    return own


def cost_gap_pct(own: float, logged: float) -> float | None:
    """How far the tool's own cost is from the log-derived one, in % of the latter."""
    return None if logged <= 0 else 100.0 * (own - logged) / logged


def _own(row: PeriodRow, own: Mapping[str, float]) -> tuple[float | None, float | None]:
    value = own.get(row.key)
    if value is None:
        return None, None
    gap = cost_gap_pct(value, row.cost_usd)
    return round(value, 6), None if gap is None else round(gap, 2)


def group(records: Iterable[UsageRecord], by: str) -> list[PeriodRow]:
    return by_day(records) if by == "day" else by_session(records)


def _values(row: PeriodRow) -> list[object]:
    return [
        row.reqs,
        row.input_tokens,
        row.output_tokens,
        row.cache_write_tokens,
        row.cache_read_tokens,
        row.tokens,
        round(row.cost_usd, 6),
        row.unpriced_reqs,
    ]


def _first_column(by: str) -> list[str]:
    return ["date"] if by == "day" else ["session", "project", "last_request"]


def _key_values(row: PeriodRow, by: str) -> list[object]:
    if by == "day":
        return [row.key]
    return [row.key, row.project, format_rfc3339_ns(row.last_ns)]


def to_csv(rows: list[PeriodRow], by: str, own: Mapping[str, float] | None = None) -> str:
    """``own`` (sessions only): the tools' own cost per session, in two more columns."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    extra = ["tool_cost_usd", "cost_gap_pct"] if own is not None and by == "session" else []
    writer.writerow([*_first_column(by), *COLUMNS, "models", *extra])
    for row in rows:
        more = ["" if v is None else v for v in _own(row, own or {})] if extra else []
        writer.writerow([*_key_values(row, by), *_values(row), " ".join(row.models), *more])
    return buf.getvalue()


def to_json(
    rows: list[PeriodRow],
    by: str,
    source: str,
    window_ns: int,
    skipped: list[str],
    *,
    window_name: str = "",
    own: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """The rows as JSON; ``window`` is ``window_name`` for a calendar window (``today``).
    ``own`` (sessions only): ``tool_cost_usd`` and ``cost_gap_pct`` per row (null: unknown)."""

    def one(row: PeriodRow) -> dict[str, Any]:
        doc = {
            **dict(zip(_first_column(by), _key_values(row, by), strict=True)),
            **dict(zip(COLUMNS, _values(row), strict=True)),
            "models": list(row.models),
        }
        if own is not None and by == "session":
            doc["tool_cost_usd"], doc["cost_gap_pct"] = _own(row, own)
        return doc

    totals = [sum(v) for v in zip(*(_values(r) for r in rows), strict=True)] if rows else None
    return {
        "by": by,
        "source": source,
        "window": window_name or format_duration(window_ns),
        "rows": [one(r) for r in rows],
        "totals": dict(zip(COLUMNS, totals, strict=True)) if totals else None,
        "not_grouped": skipped,
    }


def _own_text(row: PeriodRow, own: Mapping[str, float]) -> str:
    value, gap = _own(row, own)
    if value is None:
        return "-"
    if gap is None:
        return f"${value:,.2f}"
    flag = " !" if abs(gap) > GAP_FLAG_PCT else ""
    return f"${value:,.2f} {gap:+.1f}%{flag}"


def to_text(
    rows: list[PeriodRow], by: str, skipped: list[str], own: Mapping[str, float] | None = None
) -> str:
    """``own`` (sessions only): a TOOL'S OWN column where a tool reported its own cost."""
    head = ["DATE" if by == "day" else "SESSION", "REQS", "INPUT", "OUTPUT", "CACHE W",
            "CACHE R", "TOKENS", "COST"]  # fmt: skip
    shown = own if by == "session" and own and any(r.key in own for r in rows) else None
    if shown is not None:
        head.append("TOOL'S OWN")
    table = [head]
    for row in rows:
        key = row.key if by == "day" else row.key[:40]
        cost = f"${row.cost_usd:,.2f}" + (f" +{row.unpriced_reqs}?" if row.unpriced_reqs else "")
        table.append([key, f"{row.reqs:,}", f"{row.input_tokens:,}", f"{row.output_tokens:,}",
                      f"{row.cache_write_tokens:,}", f"{row.cache_read_tokens:,}",
                      f"{row.tokens:,}", cost])  # fmt: skip
        if shown is not None:
            table[-1].append(_own_text(row, shown))
    if rows:
        total_cost = sum(r.cost_usd for r in rows)
        unpriced = sum(r.unpriced_reqs for r in rows)
        table.append(["Total", f"{sum(r.reqs for r in rows):,}",
                      f"{sum(r.input_tokens for r in rows):,}",
                      f"{sum(r.output_tokens for r in rows):,}",
                      f"{sum(r.cache_write_tokens for r in rows):,}",
                      f"{sum(r.cache_read_tokens for r in rows):,}",
                      f"{sum(r.tokens for r in rows):,}",
                      f"${total_cost:,.2f}" + (f" +{unpriced}?" if unpriced else "")])  # fmt: skip
        if shown is not None:
            table[-1].append("")  # the tool's own costs are not summed with the logs' ones
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    lines = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(r, widths, strict=True))
        )
        for r in table
    ]
    if not rows:
        lines.append("(no requests in this window)")
    if any(r.unpriced_reqs for r in rows):
        lines.append("+N? = requests of models without a price (not counted as $0)")
    if shown is not None:
        lines.append(
            "TOOL'S OWN = the tool's own session cost (Claude Code's status line), beside the "
            f"logs' cost, never added; ! = over {GAP_FLAG_PCT:g} % apart"
        )
    if skipped:
        lines.append("not grouped (no per-request records): " + ", ".join(skipped))
    return "\n".join(lines) + "\n"
