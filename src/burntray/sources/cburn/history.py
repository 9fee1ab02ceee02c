"""cburn daemon samples in the history store, and windowed figures from them.

The daemon reports cumulative totals over its own sliding ``--days`` period, never per-request
records. A window's figures are therefore the sum of the **positive increases** between
consecutive samples whose later sample falls in the window:

- a decrease (a session leaving the daemon's period, float noise) counts as 0, never negative;
- a daemon restart re-reports the same totals, so the increase across it is ~0: nothing is
  counted twice (usage made while it was down shows up at its first poll after the restart);
- samples of different periods (other ``--days``/filters/data dir) are never compared: the
  first sample after such a change is a new baseline.

Each row stores running sums of those increases (``cum_*``), so a window is two index lookups
however long it is. Rows are keyed by the daemon's poll time, so re-reading the event buffer,
the stream greeting or the status summary never adds a row twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from burntray.store.schema import TableSchema

if TYPE_CHECKING:
    from burntray.store.history import HistoryStore

TABLE = "cburn_snapshots"  # the name the HTML report reads
COST_NOISE_USD = 1e-9  # increases below this are float noise from re-summing, not spend

SNAPSHOTS = TableSchema(
    TABLE,
    (
        f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    at_ns INTEGER NOT NULL,
    run_ns INTEGER NOT NULL,
    period TEXT NOT NULL,
    sessions INTEGER NOT NULL,
    prompts INTEGER NOT NULL,
    api_calls INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    cost_usd REAL NOT NULL,
    cum_calls INTEGER NOT NULL DEFAULT 0,
    cum_tokens INTEGER NOT NULL DEFAULT 0,
    cum_cost REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (at_ns, run_ns, period)
) WITHOUT ROWID""",
    ),
)  # usage history: "clear history" empties it; the source prunes it itself
TABLES = (SNAPSHOTS,)


class Sample(NamedTuple):
    """One daemon poll's cumulative figures, identified by when the daemon polled."""

    at_ns: int
    run_ns: int  # the daemon's started_at: which daemon process saw it
    period: str  # days, filters, data dir: samples compare only within one period
    sessions: int
    prompts: int
    api_calls: int
    tokens: int
    cost_usd: float


class WindowFigures(NamedTuple):
    api_calls: int
    tokens: int
    cost_usd: float


def ensure_schema(store: HistoryStore) -> None:
    store.require(TABLES)


def _increase(prev: Any, row: Any) -> tuple[int, int, float]:
    # columns: at_ns, run_ns, period, sessions, prompts, api_calls, tokens, cost_usd, cum...
    if prev is None or prev[2] != row[2]:
        return 0, 0, 0.0
    calls = max(0, int(row[5]) - int(prev[5]))
    tokens = max(0, int(row[6]) - int(prev[6]))
    cost = float(row[7]) - float(prev[7])
    return calls, tokens, cost if cost > COST_NOISE_USD else 0.0


def ingest(store: HistoryStore, samples: Iterable[Sample]) -> int:
    """Add samples not seen before and update the running sums; returns how many were new."""
    batch = sorted(set(samples))
    if not batch:
        return 0
    first = batch[0]
    with store.transaction() as conn:
        new = 0
        for sample in batch:
            new += conn.execute(
                f"INSERT OR IGNORE INTO {TABLE} (at_ns, run_ns, period, sessions, prompts, "  # noqa: S608
                "api_calls, tokens, cost_usd) VALUES (?,?,?,?,?,?,?,?)",
                sample,
            ).rowcount
        if not new:
            return 0
        key = (first.at_ns, first.run_ns, first.period)
        prev = conn.execute(
            f"SELECT * FROM {TABLE} WHERE (at_ns, run_ns, period) < (?,?,?) "  # noqa: S608
            "ORDER BY at_ns DESC, run_ns DESC, period DESC LIMIT 1",
            key,
        ).fetchone()
        rows = conn.execute(
            f"SELECT * FROM {TABLE} WHERE (at_ns, run_ns, period) >= (?,?,?) "  # noqa: S608
            "ORDER BY at_ns, run_ns, period",
            key,
        ).fetchall()
        cum_calls, cum_tokens, cum_cost = (0, 0, 0.0) if prev is None else prev[8:11]
        updates = []
        for row in rows:
            calls, tokens, cost = _increase(prev, row)
            cum_calls += calls
            cum_tokens += tokens
            cum_cost += cost
            if (cum_calls, cum_tokens, cum_cost) != tuple(row[8:11]):
                updates.append((cum_calls, cum_tokens, cum_cost, *row[:3]))
            prev = row
        conn.executemany(
            f"UPDATE {TABLE} SET cum_calls = ?, cum_tokens = ?, cum_cost = ? "  # noqa: S608
            "WHERE at_ns = ? AND run_ns = ? AND period = ?",
            updates,
        )
    return new


def _cum_at(store: HistoryStore, at_ns: int) -> tuple[int, int, float] | None:
    rows: list[Any] = store.execute(
        f"SELECT cum_calls, cum_tokens, cum_cost FROM {TABLE} WHERE at_ns <= ? "  # noqa: S608
        "ORDER BY at_ns DESC, run_ns DESC, period DESC LIMIT 1",
        (at_ns,),
    )
    if not rows:
        return None
    calls, tokens, cost = rows[0]
    return int(calls), int(tokens), float(cost)


def window(store: HistoryStore, start_ns: int, end_ns: int) -> WindowFigures:
    """Increases observed in ``(start, end]``."""
    end = _cum_at(store, end_ns)
    if end is None:
        return WindowFigures(0, 0, 0.0)
    start = _cum_at(store, start_ns) or (0, 0, 0.0)
    return WindowFigures(end[0] - start[0], end[1] - start[1], max(0.0, end[2] - start[2]))


class Increase(NamedTuple):
    """What one sample added to the running sums (the parts a window's figures are made of)."""

    at_ns: int
    api_calls: int
    tokens: int
    cost_usd: float


def increases(store: HistoryStore, start_ns: int, end_ns: int) -> list[Increase]:
    """Each sample's increase in ``(start, end]``, oldest first, zero increases left out.

    Read from the running sums ``ingest`` wrote with the one increase rule, never recomputed:
    they add up to exactly what ``window`` gives for the same bounds, so a chart drawn from
    these cannot disagree with the headline (a period change, restart or decrease adds 0 here
    as it does there).
    """
    base = _cum_at(store, start_ns) or (0, 0, 0.0)
    rows: list[Any] = store.execute(
        f"SELECT at_ns, cum_calls, cum_tokens, cum_cost FROM {TABLE} "  # noqa: S608
        "WHERE at_ns > ? AND at_ns <= ? ORDER BY at_ns, run_ns, period",
        (start_ns, end_ns),
    )
    out: list[Increase] = []
    prev_calls, prev_tokens, prev_cost = base
    for at_ns, cum_calls, cum_tokens, cum_cost in rows:
        calls, tokens, cost = int(cum_calls), int(cum_tokens), float(cum_cost)
        if (calls, tokens, cost) != (prev_calls, prev_tokens, prev_cost):
            out.append(
                Increase(int(at_ns), calls - prev_calls, tokens - prev_tokens, cost - prev_cost)
            )
        prev_calls, prev_tokens, prev_cost = calls, tokens, cost
    return out


def first_sample_ns(store: HistoryStore) -> int | None:
    rows: list[Any] = store.execute(f"SELECT min(at_ns) FROM {TABLE}")  # noqa: S608
    value = rows[0][0] if rows else None
    return None if value is None else int(value)


_COLUMNS = "at_ns, run_ns, period, sessions, prompts, api_calls, tokens, cost_usd"


def all_samples(store: HistoryStore) -> list[Sample]:
    rows: list[Any] = store.execute(f"SELECT {_COLUMNS} FROM {TABLE} ORDER BY at_ns")  # noqa: S608
    return [Sample(*row) for row in rows]


def samples_since(store: HistoryStore, since_ns: int) -> list[Sample]:
    """Samples from ``since_ns`` on, plus the one before (the baseline of the first)."""
    rows: list[Any] = store.execute(
        f"SELECT {_COLUMNS} FROM {TABLE} WHERE at_ns >= coalesce("  # noqa: S608
        f"(SELECT max(at_ns) FROM {TABLE} WHERE at_ns < ?), ?) ORDER BY at_ns",
        (since_ns, since_ns),
    )
    return [Sample(*row) for row in rows]


def prune(store: HistoryStore, before_ns: int) -> int:
    """Drop samples older than ``before_ns`` (later rows' running sums stay valid)."""
    with store.transaction() as conn:
        removed = conn.execute(f"DELETE FROM {TABLE} WHERE at_ns < ?", (before_ns,)).rowcount  # noqa: S608
    return int(removed)


def prune_keeping_baseline(store: HistoryStore, before_ns: int) -> int:
    """Drop samples before ``before_ns`` except the last one (the baseline of the next)."""
    with store.transaction() as conn:
        removed = conn.execute(
            f"DELETE FROM {TABLE} WHERE at_ns < (SELECT max(at_ns) FROM {TABLE} "  # noqa: S608
            "WHERE at_ns < ?)",
            (before_ns,),
        ).rowcount
    return int(removed)


def has_samples_before(store: HistoryStore, at_ns: int) -> bool:
    rows = store.execute(f"SELECT 1 FROM {TABLE} WHERE at_ns < ? LIMIT 1", (at_ns,))  # noqa: S608
    return bool(rows)


def count_samples(store: HistoryStore) -> int:
    store.require(TABLES)
    rows: list[Any] = store.execute(f"SELECT count(*) FROM {TABLE}")  # noqa: S608
    return int(rows[0][0])
