"""A hub's per-minute rollups of its machines' byte-counting sources (hexai), and their figures.

A machine sends what such a source knows, requests and bytes per minute, provider and model
(``team_wire.MinuteRollup``); the hub keeps one row per (host, source, minute, provider, model)
and a resent minute replaces it. Tokens and cost are worked out per host with the source's own
rules (``summarise_bytes``: tokens = round(bytes / 4) over the window, cost from the summed
bytes), so a host's figures equal that machine's own ``status`` for the source; the team's total
is the sum of the hosts' (each rounded as its machine rounds it). A minute counts in a window
when any of it is inside: the hub has no finer time than the minute.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from burntray.model.aggregate import BYTES_PER_TOKEN, summarise_bytes
from burntray.model.pricing import PriceTable
from burntray.model.snapshot import Totals, UsageRow
from burntray.model.timefmt import NS_PER_MINUTE
from burntray.sources.hub.tables import HUB_MINUTES
from burntray.store.history import HistoryStore

if TYPE_CHECKING:
    from burntray.runtime.team_wire import MinuteRollup


def store(
    history: HistoryStore,
    origin: tuple[str, str],
    minutes: Iterable[MinuteRollup],
    prices: PriceTable | None = None,
) -> int:
    """Keep ``minutes`` from ``origin`` (host, user), each replacing the one held."""
    rows = []
    for m in minutes:
        price = prices.lookup(m.provider, m.model) if prices is not None else None
        cost = None
        if price is not None:
            cost = price.cost(m.sent / BYTES_PER_TOKEN, m.recv / BYTES_PER_TOKEN)
        rows.append((*origin, m.source, m.minute, m.provider, m.model, m.reqs, m.sent, m.recv,
                     cost))  # fmt: skip
    if not rows:
        return 0
    history.require((HUB_MINUTES,))
    with history.transaction() as conn:
        conn.executemany(
            "INSERT INTO hub_minutes VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT "
            "(host, source, minute, provider, model) DO UPDATE SET user = excluded.user, "
            "reqs = excluded.reqs, sent = excluded.sent, recv = excluded.recv, "
            "cost = excluded.cost",
            rows,
        )
    return len(rows)


def hosts(history: HistoryStore) -> set[tuple[str, str]]:
    history.require((HUB_MINUTES,))
    rows = history.execute("SELECT DISTINCT host, user FROM hub_minutes")
    return {(str(h), str(u)) for h, u in rows}


class HostBytes(NamedTuple):
    host: str
    user: str
    totals: Totals
    rows: tuple[UsageRow, ...]


def per_host(
    history: HistoryStore, start_ns: int, end_ns: int, window_ns: int, prices: PriceTable
) -> list[HostBytes]:
    """Each (host, user)'s byte-counting usage in the window, figured as its machine does."""
    history.require((HUB_MINUTES,))
    rows = history.execute(
        "SELECT host, user, provider, model, sum(reqs), sum(sent), sum(recv) FROM hub_minutes "
        "WHERE minute >= ? AND minute < ? GROUP BY host, user, provider, model "
        "ORDER BY host, user, provider, model",
        (start_ns // NS_PER_MINUTE, -(-end_ns // NS_PER_MINUTE)),
    )
    grouped: dict[tuple[str, str], list[tuple[str, str, int, int, int]]] = {}
    for host, user, provider, model, reqs, sent, recv in rows:
        grouped.setdefault((str(host), str(user)), []).append(
            (str(provider), str(model), int(reqs), int(sent), int(recv))  # type: ignore[call-overload]
        )
    out = []
    for (host, user), counters in grouped.items():
        totals, by_model = summarise_bytes(counters, window_ns, prices)
        out.append(HostBytes(host, user, totals, by_model))
    return out
