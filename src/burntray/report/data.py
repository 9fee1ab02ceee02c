"""Everything a report shows, gathered once: the snapshot the tray shows plus history over time.

The headline numbers come from the same ``Source.snapshot()`` as ``burntray status`` and the
tray, so they are equal by construction. A source with tables of its own draws its charts
itself (``SourceSpec.chart_minutes``) with the same rule as its headline; the others' come from
their per-request records in burntray's history. The alerts timeline reads ``alert_log``.
Anything missing is described in words, never fatal.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from msgspec import Struct

from burntray.actions import read_once
from burntray.app import AppContext
from burntray.config import Settings
from burntray.lazylog import get_logger
from burntray.model.limits import PlanWindow
from burntray.model.pricing import Price, PriceTable
from burntray.model.snapshot import Snapshot
from burntray.report.minutes import record_minutes
from burntray.report.own_costs import TwoCostTables, read_two_costs
from burntray.report.timeline import (
    MAX_RATE_BUCKETS,
    PricedMinute,
    Timeline,
    build_timeline,
    cost_bucket_minutes,
    pick_bucket_minutes,
)
from burntray.report.view_tables import ReportViews, read_report_views
from burntray.sources.base import HasMembers, Source, members_of
from burntray.sources.registry import REGISTRY
from burntray.store.alert_store import LoggedAlert
from burntray.store.history import HistoryStore
from burntray.store.limits import windows_between

log = get_logger(__name__)

ALERT_TABLE = "alert_log"
MAX_ALERTS_SHOWN = 500


class PricedRow(Struct, frozen=True):
    """How one provider/model row was priced, for the "how costs were estimated" table."""

    provider: str
    model: str
    price_key: str
    origin: str  # a PriceOrigin, "upstream" (the tool's own cost) or "" when unpriced
    input_per_m: float | None
    output_per_m: float | None


class ReportData(Struct, frozen=True):
    settings: Settings
    snapshot: Snapshot
    prices: PriceTable
    generated_ns: int
    start_ns: int  # the window: [start_ns, end_ns)
    end_ns: int
    rate: Timeline | None  # requests per minute and cumulative cost
    cost: Timeline | None  # cost per hour
    chart_source: str  # where the charts come from, in words
    chart_note: str  # why there are no charts, or what they lack
    alerts: tuple[LoggedAlert, ...] | None  # None: no alert log exists yet
    alerts_note: str
    alerts_hidden: int  # alerts in the window left out of the timeline (oldest first)
    priced_rows: tuple[PricedRow, ...]
    history_path: str
    history_error: str = ""
    # under `all`: (tool label, its cost timeline) for every tool counted, for per-tool charts
    tool_costs: tuple[tuple[str, Timeline], ...] = ()
    demo: bool = False  # from `burntray demo`: the page says DEMO
    # per day/week/month and tool, per project and branch, from the history (None: no history)
    views: ReportViews | None = None
    ranged: bool = False  # over a date range (--since, --window all), not the settings' window
    # the plan windows the tools reported over the window (and the last before it), oldest first
    limits: tuple[PlanWindow, ...] = ()
    limits_note: str = ""
    # the tool's own cost beside the logs' per session and day (None: no tool reported one)
    two_costs: TwoCostTables | None = None


def collect(ctx: AppContext, settings: Settings, since_ns: int | None = None) -> ReportData:
    """Read the source and the history for ``settings.window``/``settings.source`` (from
    ``since_ns`` to now instead, when given).

    Raises what building the source raises (unknown source, bad price file); everything after
    that degrades to a note in the report.
    """
    prices = ctx.prices(settings)
    window = None if since_ns is None else max(ctx.clock_ns() - since_ns, 10**9)
    snapshot, source = read_once(ctx, settings, window)
    views = None
    two_costs: TwoCostTables | None = None
    try:
        now = snapshot.as_of_ns
        window_ns = snapshot.window_ns  # a calendar window: its length at the snapshot
        history = ctx.history()
        start_ns, end_ns = now - window_ns, now + 1  # the snapshot counts ts == now too
        minutes, chart_source, chart_note = chart_minutes(history, source, start_ns, end_ns, prices)
        tools = tool_costs(history, source, start_ns, end_ns, prices)
        if history is not None:
            names = None if isinstance(source, HasMembers) else [source.name]
            try:
                views = read_report_views(history, names, start_ns, end_ns)
            except sqlite3.Error as exc:  # the rest of the report still stands
                log.warning("report views left out: history unreadable: %s", exc)
            try:
                two_costs = read_two_costs(history, source, names, start_ns, end_ns)
            except sqlite3.Error as exc:
                log.warning("two costs left out: history unreadable: %s", exc)
        limits, limits_note = read_limits(history, members_of(source), start_ns, end_ns)
    finally:
        source.close()
    rate = cost = None
    alerts: tuple[LoggedAlert, ...] | None = None
    alerts_note, alerts_hidden = "", 0
    if history is None:
        chart_note = chart_note or f"burntray's history is unusable: {ctx.history_error}"
        alerts_note = "alerts are kept in burntray's history, which is unusable"
    else:
        alerts, alerts_hidden, alerts_note = read_alerts(history, start_ns, end_ns)
    if minutes is not None:
        rate = build_timeline(
            minutes, start_ns, end_ns, pick_bucket_minutes(window_ns, MAX_RATE_BUCKETS)
        )
        cost = build_timeline(minutes, start_ns, end_ns, cost_bucket_minutes(window_ns))
    return ReportData(
        settings=settings,
        snapshot=snapshot,
        prices=prices,
        generated_ns=now,
        start_ns=start_ns,
        end_ns=end_ns,
        rate=rate,
        cost=cost,
        chart_source=chart_source,
        chart_note=chart_note,
        alerts=alerts,
        alerts_note=alerts_note,
        alerts_hidden=alerts_hidden,
        priced_rows=priced_rows(snapshot, prices),
        tool_costs=tools,
        history_path=str(ctx.paths.history_db),
        history_error=ctx.history_error,
        demo=ctx.demo,
        views=views,
        ranged=since_ns is not None,
        limits=limits,
        limits_note=limits_note,
        two_costs=two_costs,
    )


def priced_rows(snapshot: Snapshot, prices: PriceTable) -> tuple[PricedRow, ...]:
    """How each row was priced. The origin and rates are those of the table row the source
    named (``price_key``); any other priced row was priced by its upstream (the tool's own cost
    figure, its key, if any, says how); a row without a cost had no price."""
    out = []
    for row in snapshot.by_model:
        price: Price | None = prices.lookup(row.provider, row.model) if row.price_key else None
        if price is not None and price.key != row.price_key:
            price = None  # the table changed since the source priced it: say only what it said
        origin: str
        if price is not None:
            origin = price.origin
        elif row.cost_usd is not None:
            origin = "upstream"
        else:
            origin = ""
        out.append(
            PricedRow(
                provider=row.provider,
                model=row.model,
                price_key=row.price_key,
                origin=origin,
                input_per_m=price.input if price is not None else None,
                output_per_m=price.output if price is not None else None,
            )
        )
    return tuple(out)


def chart_minutes(
    history: HistoryStore | None,
    source: Source,
    start_ns: int,
    end_ns: int,
    prices: PriceTable,
) -> tuple[list[PricedMinute] | None, str, str]:
    """(minutes, where they come from, note) for a source's charts, as its registry entry says;
    for ``all``, every counted member's minutes together."""
    if isinstance(source, HasMembers):
        members = source.members
        covered = source.counted_whole
        minutes: list[PricedMinute] = []
        parts, notes = [], []
        counted = [name for name in members if not covered.get(name)]
        for name in counted:
            got, where, note = chart_minutes(history, members[name], start_ns, end_ns, prices)
            prefix = f"{REGISTRY.label(name)}: " if len(counted) > 1 else ""
            if got is not None:
                minutes.extend(got)
                parts.append(prefix + where)
            if note:
                notes.append(prefix + note)
        if not parts:
            return None, "", "; ".join(notes) or "no source present"
        return sorted(minutes), "; ".join(parts), "; ".join(notes)
    spec = REGISTRY.get(source.name) if source.name in REGISTRY else None
    if spec is not None and spec.chart_minutes is not None:
        return spec.chart_minutes(history, source, start_ns, end_ns, prices)
    return record_minutes(history, source.name, start_ns, end_ns)


def tool_costs(
    history: HistoryStore | None,
    source: Source,
    start_ns: int,
    end_ns: int,
    prices: PriceTable,
) -> tuple[tuple[str, Timeline], ...]:
    """Each counted tool's cost over the window, when ``source`` combines several."""
    if not isinstance(source, HasMembers):
        return ()
    members = source.members
    covered = source.counted_whole
    out = []
    for name, member in members.items():
        if covered.get(name):
            continue
        minutes, _, _ = chart_minutes(history, member, start_ns, end_ns, prices)
        if minutes is not None:
            bucket = cost_bucket_minutes(end_ns - start_ns)
            out.append((REGISTRY.label(name), build_timeline(minutes, start_ns, end_ns, bucket)))
    return tuple(out)


def read_alerts(
    history: HistoryStore, start_ns: int, end_ns: int
) -> tuple[tuple[LoggedAlert, ...] | None, int, str]:
    """(alerts in the window, how many older ones were left out, note)."""
    try:
        if not history.execute(f"SELECT 1 FROM {ALERT_TABLE} LIMIT 1"):  # noqa: S608
            return None, 0, "no alerts recorded"
        total = history.execute(
            f"SELECT count(*) FROM {ALERT_TABLE} WHERE ts_ns >= ? AND ts_ns < ?",  # noqa: S608
            (start_ns, end_ns),
        )[0][0]
        rows = history.execute(
            f"SELECT ts_ns, source, kind, level, message FROM {ALERT_TABLE} "  # noqa: S608
            "WHERE ts_ns >= ? AND ts_ns < ? ORDER BY ts_ns DESC LIMIT ?",
            (start_ns, end_ns, MAX_ALERTS_SHOWN),
        )
    except sqlite3.Error as exc:
        return None, 0, f"the alert log is unreadable: {exc}"
    alerts = tuple(
        LoggedAlert(int(ts), str(src), str(kind), str(level), str(msg))  # type: ignore[call-overload]
        for ts, src, kind, level, msg in reversed(rows)
    )
    hidden = int(total) - len(alerts)  # type: ignore[call-overload]
    return alerts, hidden, "" if alerts else "no alerts recorded in this window"


def read_limits(
    history: HistoryStore | None, sources: Iterable[str], start_ns: int, end_ns: int
) -> tuple[tuple[PlanWindow, ...], str]:
    """(the observations of ``sources`` in the window, with the last one before it; note)."""
    if history is None:
        return (), ""
    try:
        found = windows_between(history, start_ns, end_ns, tuple(sources))
    except sqlite3.Error as exc:
        return (), f"the plan limits kept in the history are unreadable: {exc}"
    return tuple(found), ""
