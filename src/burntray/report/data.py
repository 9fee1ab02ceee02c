"""Everything a report shows, gathered once: the snapshot the tray shows plus history over time.

The headline numbers come from the same ``Source.snapshot()`` as ``burntray status`` and the
tray, so they are equal by construction. The hexai charts split the window exactly as that
snapshot does: the live stats.json where it covers, burntray's history before (the per-minute
rollup, with the partial minutes at the edges read from the events), so chart totals equal the
headline. cburn charts come from the daemon samples' running sums, the same ones its headline reads.
The alerts timeline reads the ``alert_log`` table when the alerts feature has created it.
Anything missing is described in words, never fatal.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from burntray.app import AppContext
from burntray.config import Settings
from burntray.model.pricing import Price, PriceTable
from burntray.model.snapshot import Snapshot
from burntray.report.timeline import (
    MAX_RATE_BUCKETS,
    NS_PER_MINUTE,
    MinuteRow,
    PricedMinute,
    Timeline,
    build_timeline,
    cost_bucket_minutes,
    pick_bucket_minutes,
    price_minute_rows,
)
from burntray.sources.base import Source
from burntray.sources.hexai import StatsFile
from burntray.store import cburn_history
from burntray.store.alert_store import LoggedAlert
from burntray.store.history import HistoryStore

ALERT_TABLE = "alert_log"
MAX_ALERTS_SHOWN = 500


@dataclass(frozen=True, slots=True)
class PricedRow:
    """How one provider/model row was priced, for the "how costs were estimated" table."""

    provider: str
    model: str
    price_key: str
    origin: str  # table, override, litellm, local; "" when unpriced
    input_per_m: float | None
    output_per_m: float | None


@dataclass(frozen=True, slots=True)
class ReportData:
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


def collect(ctx: AppContext, settings: Settings) -> ReportData:
    """Read the source and the history for ``settings.window``/``settings.source``.

    Raises what building the source raises (unknown source, bad price file); everything after
    that degrades to a note in the report.
    """
    from burntray.actions import read_once  # noqa: PLC0415

    prices = ctx.prices(settings)
    snapshot, source = read_once(ctx, settings)
    try:
        now = snapshot.as_of_ns
        window_ns = settings.window_ns
        history = ctx.history()
        start_ns, end_ns = now - window_ns, now + 1  # the snapshot counts ts == now too
        minutes, chart_source, chart_note = chart_minutes(history, source, start_ns, end_ns, prices)
        tools = tool_costs(history, source, start_ns, end_ns, prices)
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
    )


def priced_rows(snapshot: Snapshot, prices: PriceTable) -> tuple[PricedRow, ...]:
    out = []
    for row in snapshot.by_model:
        price: Price | None = prices.lookup(row.provider, row.model)
        out.append(
            PricedRow(
                provider=row.provider,
                model=row.model,
                price_key=row.price_key,
                origin=price.origin if price is not None else "",
                input_per_m=price.input if price is not None else None,
                output_per_m=price.output if price is not None else None,
            )
        )
    return tuple(out)


def _table_columns(history: HistoryStore, table: str) -> list[str] | None:
    found = history.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    )
    if not found:
        return None
    return [str(row[1]) for row in history.execute(f"PRAGMA table_info({table})")]


def chart_minutes(
    history: HistoryStore | None,
    source: Source,
    start_ns: int,
    end_ns: int,
    prices: PriceTable,
) -> tuple[list[PricedMinute] | None, str, str]:
    """(minutes, where they come from, note) for a source's charts, as its registry entry says;
    for ``all``, every counted member's minutes together."""
    from burntray.sources.combined import CombinedSource, counted_sources  # noqa: PLC0415
    from burntray.sources.registry import REGISTRY  # noqa: PLC0415

    if isinstance(source, CombinedSource):
        members = source.members
        covered = counted_sources([REGISTRY.get(n) for n in members])
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
    from burntray.sources.combined import CombinedSource, counted_sources  # noqa: PLC0415
    from burntray.sources.registry import REGISTRY  # noqa: PLC0415

    if not isinstance(source, CombinedSource):
        return ()
    members = source.members
    covered = counted_sources([REGISTRY.get(n) for n in members])
    out = []
    for name, member in members.items():
        if covered.get(name):
            continue
        minutes, _, _ = chart_minutes(history, member, start_ns, end_ns, prices)
        if minutes is not None:
            bucket = cost_bucket_minutes(end_ns - start_ns)
            out.append((REGISTRY.label(name), build_timeline(minutes, start_ns, end_ns, bucket)))
    return tuple(out)


def record_minutes(
    history: HistoryStore | None, source: str, start_ns: int, end_ns: int
) -> tuple[list[PricedMinute] | None, str, str]:
    """Per-minute figures of a record-keeping source, from burntray's history (whole minutes:
    a chart's resolution)."""
    if history is None:
        return None, "", f"charts of {source} need burntray's history"
    from burntray.store.usage_events import UsageEvents  # noqa: PLC0415

    try:
        series = UsageEvents(history).minute_series(source, start_ns, end_ns)
    except sqlite3.Error as exc:
        return None, "", f"history unreadable: {exc}"
    minutes: dict[int, list[float]] = {}
    for minute, _provider, _model, reqs, _tokens, cost, unpriced in series:
        acc = minutes.setdefault(minute, [0, 0.0, 0])
        acc[0] += reqs
        acc[1] += cost
        acc[2] += unpriced
    rows = [(m, int(r), float(c), int(u)) for m, (r, c, u) in sorted(minutes.items())]
    note = "" if rows else f"no {source} requests recorded in this window"
    return rows, "per-request records in burntray's history (real tokens)", note


def hexai_chart_minutes(
    history: HistoryStore | None,
    live: StatsFile | None,
    start_ns: int,
    end_ns: int,
    prices: PriceTable,
) -> tuple[list[PricedMinute] | None, str, str]:
    return _hexai_minutes(history, start_ns, end_ns, prices, live)


def _hexai_minutes(
    history: HistoryStore | None,
    start_ns: int,
    end_ns: int,
    prices: PriceTable,
    live: StatsFile | None,
) -> tuple[list[PricedMinute] | None, str, str]:
    """The same split as ``HexaiSource.snapshot``: the live file's events when it covers the
    window, otherwise burntray's history for the whole window."""
    coverage = live.coverage_start_ns if live is not None else end_ns
    rows: list[MinuteRow] = []
    if live is not None and start_ns >= coverage:
        rows.extend(file_minutes(live, start_ns, end_ns))
        where = "hexai's stats.json"
    elif history is None:
        return None, "", "the window reaches back before stats.json: charts need history"
    else:
        try:
            rows.extend(hexai_window_minutes(history, start_ns, end_ns))
        except sqlite3.Error as exc:
            return None, "", f"history unreadable: {exc}"
        where = "burntray's history (every event stats.json showed it)"
    where += " (tokens estimated as bytes/4, priced per model)"
    note = "" if rows else "no hexai requests recorded in this window"
    return price_minute_rows(rows, prices), where, note


def file_minutes(stats: StatsFile, start_ns: int, end_ns: int) -> list[MinuteRow]:
    """Per-minute rows of the live file's events with ``start <= ts < end``."""
    sums: dict[tuple[int, str, str], list[int]] = {}
    for event in stats.events():
        if start_ns <= event.ts_ns < end_ns:
            key = (event.ts_ns // NS_PER_MINUTE, event.provider, event.model)
            acc = sums.get(key)
            if acc is None:
                sums[key] = [1, event.sent, event.recv]
            else:
                acc[0] += 1
                acc[1] += event.sent
                acc[2] += event.recv
    return [(m, p, mo, n, s, r) for (m, p, mo), (n, s, r) in sums.items()]


def hexai_window_minutes(history: HistoryStore, start_ns: int, end_ns: int) -> list[MinuteRow]:
    """Per-minute rows holding exactly the events with ``start <= ts < end``.

    Whole minutes come from the rollup; the partial minutes at either edge from the events
    themselves, as ``HistoryStore.hexai_counters`` does for the headline.
    """
    first_full = -(-start_ns // NS_PER_MINUTE)
    end_full = end_ns // NS_PER_MINUTE
    if end_full <= first_full:
        return _hexai_event_minutes(history, start_ns, end_ns)
    return [
        *_hexai_event_minutes(history, start_ns, first_full * NS_PER_MINUTE),
        *history.hexai_minute_series(first_full * NS_PER_MINUTE, end_full * NS_PER_MINUTE),
        *_hexai_event_minutes(history, end_full * NS_PER_MINUTE, end_ns),
    ]


def _hexai_event_minutes(history: HistoryStore, start_ns: int, end_ns: int) -> list[MinuteRow]:
    if end_ns <= start_ns:
        return []
    rows = history.execute(
        "SELECT ts_ns / ?, provider, model, count(*), sum(sent), sum(recv) FROM hexai_events "
        "WHERE ts_ns >= ? AND ts_ns < ? GROUP BY 1, 2, 3",
        (NS_PER_MINUTE, start_ns, end_ns),
    )
    return [
        (int(m), str(p), str(mo), int(n), int(s), int(r))  # type: ignore[call-overload]
        for m, p, mo, n, s, r in rows
    ]


def cburn_chart_minutes(
    history: HistoryStore, start_ns: int, end_ns: int
) -> tuple[list[PricedMinute] | None, str, str]:
    try:
        if _table_columns(history, cburn_history.TABLE) is None:
            return None, "", "no cburn daemon snapshots recorded in burntray's history yet"
        # The headline counts samples in (now - window, now] and the report's window is
        # [start, end) with end = now + 1: the same bounds, so chart totals equal the headline.
        found = cburn_history.increases(history, start_ns, end_ns - 1)
    except sqlite3.Error as exc:
        return None, "", f"{cburn_history.TABLE} unreadable: {exc}"
    minutes: list[PricedMinute] = [
        (step.at_ns // NS_PER_MINUTE, step.api_calls, max(0.0, step.cost_usd), 0)
        for step in found
        if step.api_calls or step.cost_usd > 0
    ]
    where = (
        "the cburn daemon's cumulative snapshots in burntray's history "
        "(increases only: a restart, a shrinking daemon window or a change of its period "
        "never counts twice)"
    )
    note = "" if minutes else "no usage increase recorded from the cburn daemon in this window"
    return minutes, where, note


def read_alerts(
    history: HistoryStore, start_ns: int, end_ns: int
) -> tuple[tuple[LoggedAlert, ...] | None, int, str]:
    """(alerts in the window, how many older ones were left out, note)."""
    try:
        if _table_columns(history, ALERT_TABLE) is None:
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
