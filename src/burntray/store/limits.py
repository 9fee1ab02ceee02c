"""Plan-window observations in burntray's history (the ``plan_limits`` table of
``store.schema``): written when a tool's reported window changes, read back for the windows as
last known (after a restart, before the tool reports again) and for the report's timeline.

Any source that knows plan windows records here with the same rows, so the table names no
tool: ``tool`` and ``source`` are columns.
"""

# ruff: noqa: S608 - SQL here names only this module's constant table; values are bound

from __future__ import annotations

from collections.abc import Iterable

from burntray.model.limits import PlanWindow
from burntray.store.history import HistoryStore
from burntray.store.schema import ALERT_LOG, ALERT_STATE, PLAN_LIMITS

TABLE = PLAN_LIMITS.name
_COLUMNS = (
    "tool, window_minutes, observed_ns, used_percent, resets_at_ns, origin, source, limit_reached, "
    "rise_from_ns, rise_from_percent"
)
_MARKS = ",".join("?" * 10)
MAX_TIMELINE_ROWS = 20_000  # a report's timeline: ample for a month of changes, bounded


def record_windows(history: HistoryStore, windows: Iterable[PlanWindow]) -> int:
    """Keep each observation (one seen before is kept once) with the start of its rise (so the
    pace is known again after a restart), and that start as an observation of its own; returns
    how many rows were new."""
    rows: list[tuple[object, ...]] = []
    for w in windows:
        if w.reset_since_observed:  # a derived reset is not an observation
            continue
        row = (w.tool, w.window_minutes, w.observed_ns, w.used_percent, w.resets_at_ns)
        tail = (w.origin, w.source, int(w.limit_reached), w.rise_from_ns, w.rise_from_percent)
        if w.rise_from_ns is not None and w.rise_from_percent is not None:
            # the start of the rise is an observation too: the timeline shows where it began
            start = (w.tool, w.window_minutes, w.rise_from_ns, w.rise_from_percent)
            rows.append((*start, w.resets_at_ns, w.origin, w.source, 0, None, None))
        rows.append((*row, *tail))
    if not rows:
        return 0
    with history.transaction() as conn:
        before = conn.total_changes
        conn.executemany(f"INSERT OR IGNORE INTO {TABLE} ({_COLUMNS}) VALUES ({_MARKS})", rows)
        return int(conn.total_changes - before)


def parse_window(row: tuple[object, ...]) -> PlanWindow | None:
    tool, minutes, observed, used, resets, origin, source, reached, rise_ns, rise_pct = row
    if not isinstance(rise_ns, int) or not isinstance(rise_pct, int | float):
        rise_ns = rise_pct = None
    if not (
        isinstance(tool, str)
        and isinstance(minutes, int)
        and isinstance(observed, int)
        and isinstance(used, int | float)
        and (resets is None or isinstance(resets, int))
        and origin in ("official", "estimate")
        and isinstance(source, str)
    ):
        return None  # a row another program wrote oddly: left out, never a crash
    return PlanWindow(
        tool,
        minutes,
        float(used),
        resets,
        observed,
        "official" if origin == "official" else "estimate",
        source,
        bool(reached),
        rise_from_ns=rise_ns,
        rise_from_percent=None if rise_pct is None else float(rise_pct),
    )


def latest_windows(history: HistoryStore, sources: Iterable[str] | None = None) -> list[PlanWindow]:
    """The newest observation of each (tool, window), of ``sources`` only when given."""
    rows = history.execute(
        f"SELECT {_COLUMNS} FROM {TABLE} AS p WHERE observed_ns = (SELECT max(observed_ns) "
        f"FROM {TABLE} AS q WHERE q.tool = p.tool AND q.window_minutes = p.window_minutes)"
    )
    wanted = None if sources is None else set(sources)
    out = [w for w in map(parse_window, rows) if w is not None]
    return [w for w in out if wanted is None or w.source in wanted]


def windows_between(
    history: HistoryStore, start_ns: int, end_ns: int, sources: Iterable[str] | None = None
) -> list[PlanWindow]:
    """The observations in ``[start, end)``, oldest first, plus the last one of each window
    before ``start`` (where the timeline starts); at most ``MAX_TIMELINE_ROWS``."""
    rows = history.execute(
        f"SELECT {_COLUMNS} FROM {TABLE} WHERE observed_ns >= ? AND observed_ns < ? "
        "ORDER BY observed_ns LIMIT ?",
        (start_ns, end_ns, MAX_TIMELINE_ROWS),
    )
    before = history.execute(
        f"SELECT {_COLUMNS} FROM {TABLE} AS p WHERE observed_ns = (SELECT max(observed_ns) "
        f"FROM {TABLE} AS q WHERE q.tool = p.tool AND q.window_minutes = p.window_minutes "
        "AND q.observed_ns < ?)",
        (start_ns,),
    )
    wanted = None if sources is None else set(sources)
    out = [w for w in map(parse_window, [*before, *rows]) if w is not None]
    return [w for w in out if wanted is None or w.source in wanted]


def load_alert_state(history: HistoryStore, key: str) -> str | None:
    """The plan-limit alert state kept under ``key`` in ``alert_state``, or None."""
    rows = history.execute(f"SELECT state FROM {ALERT_STATE.name} WHERE source = ?", (key,))
    return str(rows[0][0]) if rows else None


def save_alert_state(
    history: HistoryStore, key: str, state: str, logged: Iterable[tuple[int, str, str, str, str]]
) -> None:
    """The state and the alerts told, in one transaction: both or neither (as the spend
    alerts' store does), so a restart never tells one twice."""
    with history.transaction() as conn:
        conn.execute(
            f"INSERT INTO {ALERT_STATE.name} VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET "
            "state = excluded.state",
            (key, state),
        )
        conn.executemany(f"INSERT INTO {ALERT_LOG.name} VALUES (?, ?, ?, ?, ?)", list(logged))


__all__ = [
    "latest_windows",
    "load_alert_state",
    "record_windows",
    "save_alert_state",
    "windows_between",
]
