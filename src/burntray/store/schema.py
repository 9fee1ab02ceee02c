"""The history database's schema, owned in one place: every table's migration ladder.

Each table is declared once as a ``TableSchema``: its name and the ordered steps that build it
(step 1 creates it; a later step alters it). burntray's own tables are listed here
(``GENERIC_TABLES``); a source declares its tables in its ``SourceSpec.history_tables``. At open
the store brings every table up to its last step in one transaction and records each table's
version in ``schema_versions``, so no code ever guesses a table's columns.

Step 1 of every table is ``CREATE ... IF NOT EXISTS`` exactly as burntray created the table
before versions were recorded (``PRAGMA user_version`` 1): such a database adopts its tables
unchanged and keeps every row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, NamedTuple

from burntray.model.timefmt import NS_PER_MINUTE

if TYPE_CHECKING:
    import sqlite3

# PRAGMA user_version: 1 = tables without recorded versions, 2 = ``schema_versions`` holds them.
SCHEMA_VERSION = 2

# (connection inside a transaction, cutoff ns, most rows to drop) -> rows dropped
Pruner = Callable[["sqlite3.Connection", int, int], int]


class HistoryError(Exception):
    """The history database cannot be used; the message says which file and why."""


class TableSchema(NamedTuple):
    """One table of the history database and how to build it (a tuple: no dataclasses to load
    for a quick ``status``)."""

    name: str
    # The migration ladder: step N takes the table from version N-1 to N. A step may hold
    # several statements separated by ";" (no ";" inside a statement).
    steps: tuple[str, ...]
    # usage history: "clear history" empties it (state such as alert memory is kept)
    usage: bool = True
    # drops rows older than the retention cutoff, a batch at a time (None: kept until cleared)
    prune: Pruner | None = None

    @property
    def version(self) -> int:
        return len(self.steps)


_VERSIONS = (
    "CREATE TABLE IF NOT EXISTS schema_versions ("
    "name TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID"
)

META = TableSchema(
    "meta",
    ("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",),
    usage=False,
)


def _prune_usage(conn: sqlite3.Connection, before_ns: int, batch: int) -> int:
    """Records (and whole rollup minutes) older than ``before_ns``, in whole minutes so the
    rollup and the records always cover the same minutes (``batch`` unused: one range delete)."""
    minute = before_ns // NS_PER_MINUTE
    removed = conn.execute(
        "DELETE FROM usage_events WHERE ts_ns < ?", (minute * NS_PER_MINUTE,)
    ).rowcount
    conn.execute("DELETE FROM usage_minutes WHERE minute < ?", (minute,))
    return int(removed)


# Per-request records of every record-yielding source, keyed by (source, key).
USAGE_EVENTS = TableSchema(
    "usage_events",
    (
        """CREATE TABLE IF NOT EXISTS usage_events (
            source TEXT NOT NULL,
            key TEXT NOT NULL,
            ts_ns INTEGER NOT NULL,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            input INTEGER NOT NULL,
            output INTEGER NOT NULL,
            cache_read INTEGER NOT NULL,
            cache_write INTEGER NOT NULL,
            cost REAL,
            session TEXT NOT NULL,
            project TEXT NOT NULL,
            upstream_cost INTEGER NOT NULL,
            PRIMARY KEY (source, key)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS usage_events_by_time ON usage_events (source, ts_ns)""",
    ),
    prune=_prune_usage,  # prunes the rollup with the records
)

# Their per-minute rollup, kept in step at ingest.
USAGE_MINUTES = TableSchema(
    "usage_minutes",
    (
        """CREATE TABLE IF NOT EXISTS usage_minutes (
            source TEXT NOT NULL,
            minute INTEGER NOT NULL,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            reqs INTEGER NOT NULL,
            input INTEGER NOT NULL,
            output INTEGER NOT NULL,
            cache_read INTEGER NOT NULL,
            cache_write INTEGER NOT NULL,
            cost REAL NOT NULL,
            unpriced INTEGER NOT NULL,
            PRIMARY KEY (source, minute, provider, model)
        ) WITHOUT ROWID""",
    ),
)

# The alert detector's memory per source and every alert that fired: not usage history.
ALERT_STATE = TableSchema(
    "alert_state",
    ("CREATE TABLE IF NOT EXISTS alert_state (source TEXT PRIMARY KEY, state TEXT NOT NULL)",),
    usage=False,
)
ALERT_LOG = TableSchema(
    "alert_log",
    (
        "CREATE TABLE IF NOT EXISTS alert_log (ts_ns INTEGER NOT NULL, source TEXT NOT NULL, "
        "kind TEXT NOT NULL, level TEXT NOT NULL, message TEXT NOT NULL);"
        "CREATE INDEX IF NOT EXISTS alert_log_ts ON alert_log (ts_ns)",
    ),
    usage=False,
)


def _prune_plan_limits(conn: sqlite3.Connection, before_ns: int, batch: int) -> int:
    return int(
        conn.execute(
            "DELETE FROM plan_limits WHERE rowid IN (SELECT rowid FROM plan_limits "
            "WHERE observed_ns < ? LIMIT ?)",
            (before_ns, batch),
        ).rowcount
    )


# Every plan-window observation (5-hour, weekly) a tool reported, as it changed: what the tray
# shows after a restart before the tool reports again, and the report's limits timeline.
PLAN_LIMITS = TableSchema(
    "plan_limits",
    (
        """CREATE TABLE IF NOT EXISTS plan_limits (
            tool TEXT NOT NULL,
            window_minutes INTEGER NOT NULL,
            observed_ns INTEGER NOT NULL,
            used_percent REAL NOT NULL,
            resets_at_ns INTEGER,
            origin TEXT NOT NULL,
            source TEXT NOT NULL,
            limit_reached INTEGER NOT NULL,
            rise_from_ns INTEGER,
            rise_from_percent REAL,
            UNIQUE (tool, window_minutes, observed_ns)
        );
        CREATE INDEX IF NOT EXISTS plan_limits_by_time ON plan_limits (observed_ns)""",
    ),
    prune=_prune_plan_limits,
)

GENERIC_TABLES = (META, USAGE_EVENTS, USAGE_MINUTES, ALERT_STATE, ALERT_LOG, PLAN_LIMITS)


def migrate(conn: sqlite3.Connection, tables: Iterable[TableSchema]) -> None:
    """Bring every table in ``tables`` up to its last step, inside the caller's transaction.

    Raises ``HistoryError`` when a table was written by a newer burntray (a version past its
    ladder): nothing is changed then, as the transaction is rolled back.
    """
    conn.execute(_VERSIONS)
    for table in tables:
        row = conn.execute(
            "SELECT version FROM schema_versions WHERE name = ?", (table.name,)
        ).fetchone()
        have = int(row[0]) if row else 0
        if have > table.version:
            raise HistoryError(
                f"table {table.name} was written by a newer burntray (version {have}, this "
                f"one knows {table.version}); upgrade burntray or clear the history"
            )
        if have == table.version:
            continue
        for step in table.steps[have:]:
            for statement in step.split(";"):
                if statement.strip():
                    conn.execute(statement)
        conn.execute(
            "INSERT INTO schema_versions VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET "
            "version = excluded.version",
            (table.name, table.version),
        )


def versions(conn: sqlite3.Connection) -> dict[str, int]:
    """Each table's recorded version."""
    return {str(n): int(v) for n, v in conn.execute("SELECT name, version FROM schema_versions")}
