"""hexai's events in burntray's history: the tables, ingest, window counters and pruning.

hexai prunes its file after its own window (default 1 h); burntray keeps every event it saw.
Ingest is idempotent: each event is keyed by its full content plus an ordinal among identical
events, so re-reading the same file never double counts. Per-minute rollups, maintained at
ingest for new rows only, keep a 7-day query over a million rows in milliseconds: full minutes
come from the rollup, the partial minutes at either edge from the events themselves, so results
stay exact.
"""

# ruff: noqa: S608 - SQL here is built from this module's constants only; values are bound

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from burntray.model.timefmt import NS_PER_MINUTE
from burntray.store.schema import TableSchema, prune_before_minute

if TYPE_CHECKING:
    import sqlite3

    from burntray.store.history import HistoryStore

Counter = tuple[str, str, int, int, int]  # provider, model, reqs, sent, recv
MinuteRow = tuple[int, str, str, int, int, int]  # minute, provider, model, reqs, sent, recv


class HexaiEvent(NamedTuple):
    ts_ns: int
    provider: str
    model: str
    sent: int
    recv: int
    dup: int = 0  # 0, 1, 2... among events identical in every other field


def _prune(conn: sqlite3.Connection, before_ns: int, batch: int) -> int:
    """At most ``batch`` of the oldest events before ``before_ns``, in whole minutes so the
    rollup and the events always cover the same minutes."""
    bound = (before_ns // NS_PER_MINUTE) * NS_PER_MINUTE
    nth = conn.execute(
        "SELECT ts_ns FROM hexai_events ORDER BY ts_ns LIMIT 1 OFFSET ?", (batch,)
    ).fetchone()
    if nth is not None and nth[0] < bound:
        bound = (nth[0] // NS_PER_MINUTE) * NS_PER_MINUTE
    removed = conn.execute("DELETE FROM hexai_events WHERE ts_ns < ?", (bound,)).rowcount
    conn.execute("DELETE FROM hexai_minutes WHERE minute < ?", (bound // NS_PER_MINUTE,))
    return int(removed)


EVENTS = TableSchema(
    "hexai_events",
    (
        """CREATE TABLE IF NOT EXISTS hexai_events (
            ts_ns INTEGER NOT NULL,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            sent INTEGER NOT NULL,
            recv INTEGER NOT NULL,
            dup INTEGER NOT NULL,
            PRIMARY KEY (ts_ns, provider, model, sent, recv, dup)
        ) WITHOUT ROWID""",
    ),
    prune=_prune,  # prunes the rollup with the events
)
MINUTES = TableSchema(
    "hexai_minutes",
    (
        """CREATE TABLE IF NOT EXISTS hexai_minutes (
            minute INTEGER NOT NULL,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            reqs INTEGER NOT NULL,
            sent INTEGER NOT NULL,
            recv INTEGER NOT NULL,
            PRIMARY KEY (minute, provider, model)
        ) WITHOUT ROWID""",
    ),
)
TABLES = (EVENTS, MINUTES)


# The minutes still owed to a team's hub (``hexai.team``): while reporting is on (a
# ``team_cursor`` row exists), every minute written or grown is marked here by a trigger, and
# the sender unmarks it once the hub acknowledged it as it is now. Finding what is owed costs
# a look at this (usually empty) table, not a comparison of every minute kept.
# (a WHEN, not INSERT OR IGNORE: the statement that fires a trigger imposes its own conflict
# policy on the trigger's statements)
_OWE = (
    "EXISTS (SELECT 1 FROM team_cursor) AND NOT EXISTS (SELECT 1 FROM hexai_team_owed o "
    "WHERE o.minute = NEW.minute AND o.provider = NEW.provider AND o.model = NEW.model)"
)
TEAM_OWED = TableSchema(
    "hexai_team_owed",
    (
        (
            "CREATE TABLE IF NOT EXISTS hexai_team_owed (minute INTEGER NOT NULL, "
            "provider TEXT NOT NULL, model TEXT NOT NULL, "
            "PRIMARY KEY (minute, provider, model)) WITHOUT ROWID",
            "CREATE TRIGGER IF NOT EXISTS hexai_team_owed_add AFTER INSERT ON hexai_minutes "
            f"WHEN {_OWE} BEGIN INSERT INTO hexai_team_owed "
            "VALUES (NEW.minute, NEW.provider, NEW.model); END",
            "CREATE TRIGGER IF NOT EXISTS hexai_team_owed_change AFTER UPDATE ON hexai_minutes "
            f"WHEN {_OWE} BEGIN INSERT INTO hexai_team_owed "
            "VALUES (NEW.minute, NEW.provider, NEW.model); END",
        ),
    ),
    prune=prune_before_minute("hexai_team_owed"),
)


def ingest(store: HistoryStore, events: Iterable[HexaiEvent]) -> int:
    """Add events not seen before; returns how many were new. Replays add nothing."""
    rows = [ev for ev in events if ev.ts_ns >= 0]  # Go zero times never fall in a window
    if not rows:
        return 0
    store.require(TABLES)
    with store.transaction() as conn:
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS staging (ts_ns INTEGER, provider TEXT, "
            "model TEXT, sent INTEGER, recv INTEGER, dup INTEGER, "
            "PRIMARY KEY (ts_ns, provider, model, sent, recv, dup)) WITHOUT ROWID"
        )
        conn.execute("DELETE FROM temp.staging")
        conn.executemany("INSERT OR IGNORE INTO temp.staging VALUES (?,?,?,?,?,?)", rows)
        conn.execute(
            "DELETE FROM temp.staging WHERE EXISTS (SELECT 1 FROM hexai_events e WHERE "
            "e.ts_ns = staging.ts_ns AND e.provider = staging.provider AND "
            "e.model = staging.model AND e.sent = staging.sent AND "
            "e.recv = staging.recv AND e.dup = staging.dup)"
        )
        new = conn.execute("INSERT INTO hexai_events SELECT * FROM temp.staging").rowcount
        conn.execute(
            "INSERT INTO hexai_minutes SELECT ts_ns / ?, provider, model, "
            "count(*), sum(sent), sum(recv) FROM temp.staging WHERE true "
            "GROUP BY 1, 2, 3 ON CONFLICT (minute, provider, model) DO UPDATE SET "
            "reqs = reqs + excluded.reqs, sent = sent + excluded.sent, "
            "recv = recv + excluded.recv",
            (NS_PER_MINUTE,),
        )
        conn.execute("DELETE FROM temp.staging")
    return int(new)


def raw_counters(store: HistoryStore, start_ns: int, end_ns: int) -> list[Counter]:
    """Counters from the events themselves, for ``start <= ts < end``."""
    if end_ns <= start_ns:
        return []
    store.require(TABLES)
    rows = store.execute(
        "SELECT provider, model, count(*), sum(sent), sum(recv) FROM hexai_events "
        "WHERE ts_ns >= ? AND ts_ns < ? GROUP BY provider, model",
        (start_ns, end_ns),
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def minute_counters(store: HistoryStore, first_minute: int, end_minute: int) -> list[Counter]:
    """Counters from the rollup, for whole minutes ``first <= minute < end``."""
    if end_minute <= first_minute:
        return []
    store.require(TABLES)
    rows = store.execute(
        "SELECT provider, model, sum(reqs), sum(sent), sum(recv) FROM hexai_minutes "
        "WHERE minute >= ? AND minute < ? GROUP BY provider, model",
        (first_minute, end_minute),
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def counters(store: HistoryStore, start_ns: int, end_ns: int) -> list[Counter]:
    """Exact counters for ``start <= ts < end``: rollup minutes plus raw edges."""
    first_minute = -(-start_ns // NS_PER_MINUTE)  # ceil
    end_minute = end_ns // NS_PER_MINUTE
    if end_minute <= first_minute:
        return raw_counters(store, start_ns, end_ns)
    return [
        *raw_counters(store, start_ns, first_minute * NS_PER_MINUTE),
        *minute_counters(store, first_minute, end_minute),
        *raw_counters(store, end_minute * NS_PER_MINUTE, end_ns),
    ]


def minute_series(store: HistoryStore, start_ns: int, end_ns: int) -> list[MinuteRow]:
    """Per-minute rows ``(minute, provider, model, reqs, sent, recv)`` for charts."""
    store.require(TABLES)
    rows = store.execute(
        "SELECT minute, provider, model, reqs, sent, recv FROM hexai_minutes "
        "WHERE minute >= ? AND minute < ? ORDER BY minute",
        (start_ns // NS_PER_MINUTE, -(-end_ns // NS_PER_MINUTE)),
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def event_minutes(store: HistoryStore, start_ns: int, end_ns: int) -> list[MinuteRow]:
    """Per-minute rows summed from the events themselves, for ``start <= ts < end``."""
    if end_ns <= start_ns:
        return []
    store.require(TABLES)
    rows = store.execute(
        "SELECT ts_ns / ?, provider, model, count(*), sum(sent), sum(recv) FROM hexai_events "
        "WHERE ts_ns >= ? AND ts_ns < ? GROUP BY 1, 2, 3",
        (NS_PER_MINUTE, start_ns, end_ns),
    )
    return [
        (int(m), str(p), str(mo), int(n), int(s), int(r))  # type: ignore[call-overload]
        for m, p, mo, n, s, r in rows
    ]


def window_minutes(store: HistoryStore, start_ns: int, end_ns: int) -> list[MinuteRow]:
    """Per-minute rows holding exactly the events with ``start <= ts < end``: the same split
    as ``counters`` (the headline), so a chart drawn from them adds up to it."""
    first_full = -(-start_ns // NS_PER_MINUTE)
    end_full = end_ns // NS_PER_MINUTE
    if end_full <= first_full:
        return event_minutes(store, start_ns, end_ns)
    return [
        *event_minutes(store, start_ns, first_full * NS_PER_MINUTE),
        *minute_series(store, first_full * NS_PER_MINUTE, end_full * NS_PER_MINUTE),
        *event_minutes(store, end_full * NS_PER_MINUTE, end_ns),
    ]


def count_events(store: HistoryStore) -> int:
    store.require(TABLES)
    rows: list[Any] = store.execute("SELECT count(*) FROM hexai_events")
    return int(rows[0][0])


def last_recorded_ns(store: HistoryStore) -> int | None:
    """The newest event recorded (None: none). ``sqlite3.Error`` to the caller."""
    store.require(TABLES)
    rows = store.execute("SELECT max(ts_ns) FROM hexai_events")
    return max((int(r[0]) for r in rows if isinstance(r[0], int)), default=None)


class HistoryWindow:
    """Repeated window queries at a sliding cutoff, cheap: the whole-minute middle is cached.

    The monitor asks every poll for ``[now - window, coverage)``; only the partial minutes at
    the edges are re-queried (a short index range), the middle only when a minute boundary is
    crossed or the history changed.
    """

    def __init__(self, store: HistoryStore, source: str) -> None:
        self.store = store
        self.source = source
        self._key: tuple[int, int, int] | None = None
        self._middle: list[Counter] = []

    def counters(self, start_ns: int, end_ns: int) -> list[Counter]:
        first_minute = -(-start_ns // NS_PER_MINUTE)
        end_minute = end_ns // NS_PER_MINUTE
        if end_minute <= first_minute:
            return raw_counters(self.store, start_ns, end_ns)
        key = (first_minute, end_minute, self.store.generation)
        if key != self._key:
            self._middle = minute_counters(self.store, first_minute, end_minute)
            self._key = key
        return [
            *raw_counters(self.store, start_ns, first_minute * NS_PER_MINUTE),
            *self._middle,
            *raw_counters(self.store, end_minute * NS_PER_MINUTE, end_ns),
        ]
