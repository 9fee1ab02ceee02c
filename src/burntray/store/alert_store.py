"""Alert state and the alert log, kept in the history database beside the usage it describes.

``alert_state`` holds the detector's memory per source (so a restart never re-fires an alert);
``alert_log`` records every alert that fired. Neither is usage history: "clear history" keeps
both (``store.schema`` declares them as state, not usage). The HTML report reads ``alert_log``
with exactly this shape: ``alert_log(ts_ns INTEGER, source TEXT, kind TEXT, level TEXT,
message TEXT)``; ``kind`` is ``spike``, ``rpm`` or ``budget``; ``level`` is ``spike`` or a budget
step such as ``80%``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import msgspec

from burntray.lazylog import get_logger
from burntray.model.alerts import Alert, AlertState, KindState
from burntray.store.history import HistoryStore
from burntray.store.schema import ALERT_LOG, ALERT_STATE

log = get_logger(__name__)


class LoggedAlert(NamedTuple):
    ts_ns: int
    source: str
    kind: str
    level: str
    message: str


def ensure_alert_tables(store: HistoryStore) -> None:
    """The alert tables at their declared version (the store builds them at open already)."""
    store.require((ALERT_STATE, ALERT_LOG))


def _kind(raw: Any) -> KindState:
    if not isinstance(raw, dict):
        return KindState()
    since, fired = raw.get("active_since_ns"), raw.get("last_fired_ns")
    told = raw.get("told_usd_per_hour")
    return KindState(
        since if isinstance(since, int) else None,
        fired if isinstance(fired, int) else None,
        float(told) if isinstance(told, int | float) and not isinstance(told, bool) else None,
        raw.get("followed_up") is True,
    )


def state_from_json(text: str) -> AlertState:
    """Decode a stored state; anything unreadable becomes a fresh state (logged), never a crash."""
    try:
        raw = msgspec.json.decode(text)
    except msgspec.DecodeError:
        log.warning("alert state unreadable, starting fresh: %r", text[:200])
        return AlertState()
    if not isinstance(raw, dict):
        return AlertState()
    pct = raw.get("budget_pct_fired")
    budget = raw.get("budget_usd")
    checked = raw.get("checked_ns")
    return AlertState(
        spike=_kind(raw.get("spike")),
        rpm=_kind(raw.get("rpm")),
        budget_day=str(raw.get("budget_day") or ""),
        budget_usd=float(budget) if isinstance(budget, int | float) else 0.0,
        budget_pct_fired=pct if isinstance(pct, int) else 0,
        checked_ns=checked if isinstance(checked, int) else None,
    )


def state_to_json(state: AlertState) -> str:
    return msgspec.json.encode(state).decode()


class AlertStore:
    """Reads and writes alert state and the alert log in one ``HistoryStore``."""

    def __init__(self, store: HistoryStore) -> None:
        self.store = store
        ensure_alert_tables(store)

    def load_state(self, source: str) -> AlertState:
        rows = self.store.execute("SELECT state FROM alert_state WHERE source = ?", (source,))
        return state_from_json(str(rows[0][0])) if rows else AlertState()

    def save(self, source: str, state: AlertState, fired: tuple[Alert, ...] = ()) -> None:
        """Persist the state and log ``fired`` in one transaction: both or neither."""
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO alert_state VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET "
                "state = excluded.state",
                (source, state_to_json(state)),
            )
            conn.executemany(
                "INSERT INTO alert_log VALUES (?, ?, ?, ?, ?)",
                [(a.ts_ns, source, a.kind, a.level, a.message) for a in fired],
            )

    def recent(self, since_ns: int = 0, source: str | None = None) -> list[LoggedAlert]:
        sql = "SELECT ts_ns, source, kind, level, message FROM alert_log WHERE ts_ns >= ?"
        params: list[object] = [since_ns]
        if source is not None:
            sql += " AND source = ?"
            params.append(source)
        rows = self.store.execute(sql + " ORDER BY ts_ns", params)
        return [LoggedAlert(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in rows]  # type: ignore[call-overload]

    def last_fired(self, source: str) -> LoggedAlert | None:
        rows = self.store.execute(
            "SELECT ts_ns, source, kind, level, message FROM alert_log WHERE source = ? "
            "ORDER BY ts_ns DESC LIMIT 1",
            (source,),
        )
        if not rows:
            return None
        r = rows[0]
        return LoggedAlert(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]))  # type: ignore[call-overload]

    def prune(self, before_ns: int) -> None:
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM alert_log WHERE ts_ns < ?", (before_ns,))
