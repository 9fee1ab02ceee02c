"""``burntray status --by`` and ``report --by``: the views' rows (``report.views``) as a table,
CSV or JSON.

Only sources that keep each request in burntray's history can be grouped; the others are named
in the output (``not_grouped``), as are sources not added because another counts the same
requests (``not_added``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from burntray.model.own_cost import OwnFigure
from burntray.model.periods import ViewRow
from burntray.model.timefmt import format_rfc3339_ns

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
# A dimension's column: a day is a "date"; a week is named by its first day, a month YYYY-MM.
_KEY_COLUMN = {"day": "date"}
_TEXT_HEAD = ("REQS", "INPUT", "OUTPUT", "CACHE W", "CACHE R", "TOKENS", "COST")
_MAX_TEXT_KEY = 40  # a session id or a long path is cut in the table (CSV and JSON keep it)
# Beyond this gap between a tool's own session cost and the log-derived one, it is flagged.
GAP_FLAG_PCT = 5.0
OWN_DIMS = (("session",), ("day",))
_OWN_COLUMNS = ["tool_cost_usd", "cost_gap_pct", "tool_cost_origin"]


def cost_gap_pct(own: float, logged: float) -> float | None:
    """How far a tool's own cost is from the log-derived one, in % of the latter."""
    return None if logged <= 0 else 100.0 * (own - logged) / logged


def own_shown(dims: tuple[str, ...], own: Mapping[str, OwnFigure] | None) -> bool:
    """A tool's own cost is shown by session alone or by day alone: a row of another grouping
    holds part of a session, or several, or more than one day."""
    return own is not None and dims in OWN_DIMS


def _own(row: ViewRow, own: Mapping[str, OwnFigure]) -> tuple[float | None, float | None, str]:
    figure = own.get(row.keys[0])
    if figure is None:
        return None, None, ""
    logged = row.cost_usd if figure.logged_usd is None else figure.logged_usd
    gap = cost_gap_pct(figure.usd, logged)
    return round(figure.usd, 6), None if gap is None else round(gap, 2), figure.origin


def _own_text(row: ViewRow, own: Mapping[str, OwnFigure]) -> str:
    value, gap, _ = _own(row, own)
    if value is None:
        return "-"
    if gap is None:
        return f"${value:,.2f}"
    flag = " !" if abs(gap) > GAP_FLAG_PCT else ""
    return f"${value:,.2f} {gap:+.1f}%{flag}"


def _values(row: ViewRow) -> list[object]:
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


def _session_extras(dims: tuple[str, ...]) -> bool:
    """A session view also shows the session's project (unless grouped by it) and last request."""
    return "session" in dims


def key_columns(dims: tuple[str, ...]) -> list[str]:
    cols = [_KEY_COLUMN.get(d, d) for d in dims]
    if _session_extras(dims):
        if "project" not in dims:
            cols.append("project")
        cols.append("last_request")
    return cols


def _key_values(row: ViewRow, dims: tuple[str, ...]) -> list[object]:
    values: list[object] = list(row.keys)
    if _session_extras(dims):
        if "project" not in dims:
            values.append(row.project)
        values.append(format_rfc3339_ns(row.last_ns) if row.last_ns else "")
    return values


def to_csv(
    rows: list[ViewRow], dims: tuple[str, ...], own: Mapping[str, OwnFigure] | None = None
) -> str:
    """``own`` (by session or day alone): the tools' own cost per row, in three more columns."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    extra = _OWN_COLUMNS if own_shown(dims, own) else []
    writer.writerow([*key_columns(dims), *COLUMNS, "models", *extra])
    for row in rows:
        more = ["" if v is None else v for v in _own(row, own or {})] if extra else []
        writer.writerow([*_key_values(row, dims), *_values(row), " ".join(row.models), *more])
    return buf.getvalue()


def to_json(
    rows: list[ViewRow],
    dims: tuple[str, ...],
    source: str,
    *,
    window: str,
    since: str = "",
    until: str = "",
    timezone: str = "",
    week_start: str = "",
    not_grouped: list[str] | None = None,
    not_added: dict[str, str] | None = None,
    own: Mapping[str, OwnFigure] | None = None,
) -> dict[str, Any]:
    """The rows as JSON; ``window`` is what was asked (``7d``, ``today``, ``all``, or ``range``
    for ``since``/``until``). ``own`` (by session or day alone): ``tool_cost_usd``,
    ``cost_gap_pct`` and ``tool_cost_origin`` per row (null: unknown), never added to the
    totals."""
    cols = key_columns(dims)
    shown = own_shown(dims, own)

    def one(row: ViewRow) -> dict[str, Any]:
        doc = {
            **dict(zip(cols, _key_values(row, dims), strict=True)),
            **dict(zip(COLUMNS, _values(row), strict=True)),
            "models": list(row.models),
        }
        if shown:
            usd, gap, origin = _own(row, own or {})
            doc.update(tool_cost_usd=usd, cost_gap_pct=gap, tool_cost_origin=origin or None)
        return doc

    totals = [sum(v) for v in zip(*(_values(r) for r in rows), strict=True)] if rows else None
    doc: dict[str, Any] = {
        "by": ",".join(dims),
        "source": source,
        "window": window,
        "since": since or None,
        "until": until or None,
        "timezone": timezone,
    }
    if week_start:
        doc["week_starts_on"] = week_start
    doc.update(
        rows=[one(r) for r in rows],
        totals=dict(zip(COLUMNS, totals, strict=True)) if totals else None,
        not_grouped=not_grouped or [],
        not_added=not_added or {},
    )
    return doc


def _cost(cost: float, unpriced: int) -> str:
    return f"${cost:,.2f}" + (f" +{unpriced}?" if unpriced else "")


def to_text(
    rows: list[ViewRow],
    dims: tuple[str, ...],
    not_grouped: list[str],
    not_added: dict[str, str] | None = None,
    own: Mapping[str, OwnFigure] | None = None,
) -> str:
    """``own`` (by session or day alone): OWN FROM and TOOL'S OWN columns where a tool
    reported its own cost."""
    n = len(dims)
    head = [_KEY_COLUMN.get(d, d).upper() for d in dims] + list(_TEXT_HEAD)
    shown = own if own_shown(dims, own) and any(r.keys[0] in (own or {}) for r in rows) else None
    if shown is not None:
        head += ["OWN FROM", "TOOL'S OWN"]
    table = [head]
    for row in rows:
        keys = [k if len(k) <= _MAX_TEXT_KEY else k[: _MAX_TEXT_KEY - 1] + "…" for k in row.keys]
        table.append([*keys, f"{row.reqs:,}", f"{row.input_tokens:,}", f"{row.output_tokens:,}",
                      f"{row.cache_write_tokens:,}", f"{row.cache_read_tokens:,}",
                      f"{row.tokens:,}", _cost(row.cost_usd, row.unpriced_reqs)])  # fmt: skip
        if shown is not None:
            figure = shown.get(row.keys[0])
            table[-1] += [figure.origin if figure else "", _own_text(row, shown)]
    if rows:
        table.append(["Total", *[""] * (n - 1), f"{sum(r.reqs for r in rows):,}",
                      f"{sum(r.input_tokens for r in rows):,}",
                      f"{sum(r.output_tokens for r in rows):,}",
                      f"{sum(r.cache_write_tokens for r in rows):,}",
                      f"{sum(r.cache_read_tokens for r in rows):,}",
                      f"{sum(r.tokens for r in rows):,}",
                      _cost(sum(r.cost_usd for r in rows),
                            sum(r.unpriced_reqs for r in rows))])  # fmt: skip
        if shown is not None:
            table[-1] += ["", ""]  # the tools' own costs are never added to the logs' ones
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    lines = [
        "  ".join(
            cell.ljust(width) if i < n else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in table
    ]
    if not rows:
        lines.append("(no requests in this window)")
    if any(r.unpriced_reqs for r in rows):
        lines.append("+N? = requests of models without a price (not counted as $0)")
    if shown is not None:
        lines.append(
            "TOOL'S OWN = the tool's own cost (Claude Code's status line or OTLP; OWN FROM: "
            "the one seen last), beside the logs' cost, never added; ! = over "
            f"{GAP_FLAG_PCT:g} % apart"
            + (
                "; a day's gap is against the logs' cost of the same sessions"
                if n == 1 and dims == ("day",)
                else ""
            )
        )
    if not_grouped:
        lines.append("not grouped (no per-request records): " + ", ".join(not_grouped))
    for name, winner in (not_added or {}).items():
        lines.append(f"not added: {name} (its requests are counted from {winner})")
    return "\n".join(lines) + "\n"
