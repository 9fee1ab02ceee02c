"""A hub's per-minute increases of its machines' running-totals sources (cburn, ctm).

A machine sends each minute's increases of such a source's totals as it counts them itself
(``team_wire.MinuteRollup`` with a cost): requests, input, output and all tokens, and the
upstream's own cost. The hub keeps one row per (host, source, minute, provider, model), a
resent minute replacing it, and adds them up: a host's figures over a window are that
machine's own ``status`` for the source (a minute counts when any of it is inside).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from burntray.model.timefmt import NS_PER_MINUTE
from burntray.store.schema import TableSchema, prune_before_minute

if TYPE_CHECKING:
    from burntray.runtime.team_wire import MinuteRollup
    from burntray.store.history import HistoryStore


HUB_COUNTERS = TableSchema(
    "hub_counter_minutes",
    (
        """CREATE TABLE IF NOT EXISTS hub_counter_minutes (
            host TEXT NOT NULL,
            user TEXT NOT NULL,
            source TEXT NOT NULL,
            minute INTEGER NOT NULL,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            reqs INTEGER NOT NULL,
            input INTEGER NOT NULL,
            output INTEGER NOT NULL,
            tokens INTEGER NOT NULL,
            cost REAL NOT NULL,
            PRIMARY KEY (host, source, minute, provider, model)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS hub_counter_minutes_by_time ON hub_counter_minutes (minute)""",
    ),
    prune=prune_before_minute("hub_counter_minutes"),
)


def store(history: HistoryStore, origin: tuple[str, str], minutes: Iterable[MinuteRollup]) -> int:
    """Keep ``minutes`` from ``origin`` (host, user), each replacing the one held."""
    rows = [
        (*origin, m.source, m.minute, m.provider, m.model, m.reqs, m.input, m.output, m.tokens,
         m.cost)
        for m in minutes
    ]  # fmt: skip
    if not rows:
        return 0
    history.require((HUB_COUNTERS,))
    with history.transaction() as conn:
        conn.executemany(
            "INSERT INTO hub_counter_minutes VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT "
            "(host, source, minute, provider, model) DO UPDATE SET user = excluded.user, "
            "reqs = excluded.reqs, input = excluded.input, output = excluded.output, "
            "tokens = excluded.tokens, cost = excluded.cost",
            rows,
        )
    return len(rows)


def hosts(history: HistoryStore) -> set[tuple[str, str]]:
    history.require((HUB_COUNTERS,))
    rows = history.execute("SELECT DISTINCT host, user FROM hub_counter_minutes")
    return {(str(h), str(u)) for h, u in rows}


class Sums(NamedTuple):
    """Running-totals figures of one group: ``tokens`` all of them, input and output
    included (cburn's are not split)."""

    reqs: int
    input: int
    output: int
    tokens: int
    cost: float


class ModelSums(NamedTuple):
    host: str
    user: str
    provider: str
    model: str
    sums: Sums


def per_model(history: HistoryStore, start_ns: int, end_ns: int) -> list[ModelSums]:
    """Per host, user, provider and model, the minutes any of which is in ``[start, end)``."""
    history.require((HUB_COUNTERS,))
    rows: list[Any] = history.execute(
        "SELECT host, user, provider, model, sum(reqs), sum(input), sum(output), sum(tokens), "
        "total(cost) FROM hub_counter_minutes WHERE minute >= ? AND minute < ? "
        "GROUP BY host, user, provider, model ORDER BY host, user, provider, model",
        (start_ns // NS_PER_MINUTE, -(-end_ns // NS_PER_MINUTE)),
    )
    out = []
    for r in rows:
        sums = Sums(int(r[4]), int(r[5]), int(r[6]), int(r[7]), float(r[8]))
        out.append(ModelSums(str(r[0]), str(r[1]), str(r[2]), str(r[3]), sums))
    return out
