"""The history database's schema, owned in one place: every table's migration ladder.

Each table is declared once as a ``TableSchema``: its name and the ordered steps that build it
(step 1 creates it; a later step alters it; ``store.ladder``). burntray's own tables are listed here
(``GENERIC_TABLES``); a source declares its tables in its ``SourceSpec.history_tables``. At open
the store brings every table up to its last step in one transaction and records each table's
version in ``schema_versions``, so no code ever guesses a table's columns.

Step 1 of every table is ``CREATE ... IF NOT EXISTS`` exactly as burntray created the table
before versions were recorded (``PRAGMA user_version`` 1): such a database adopts its tables
unchanged and keeps every row.
"""

# ruff: noqa: S608 - the SQL here is built from this module's constant names, never from input

from __future__ import annotations

from typing import TYPE_CHECKING

from burntray.model.timefmt import NS_PER_MINUTE, NS_PER_QUARTER_HOUR
from burntray.store.ladder import (
    HistoryError,
    Pruner,
    TableSchema,
    migrate,
    prune_before_minute,
    versions,
)

if TYPE_CHECKING:
    import sqlite3

# PRAGMA user_version: 1 = tables without recorded versions, 2 = ``schema_versions`` holds them.
SCHEMA_VERSION = 2

__all__ = ["HistoryError", "Pruner", "TableSchema", "migrate", "prune_before_minute", "versions"]

META = TableSchema(
    "meta",
    ("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",),
    usage=False,
)


# The quarter-hour rollup's step, in minutes (the rollup's SQL and its readers use this one).
MINUTES_PER_QUARTER = NS_PER_QUARTER_HOUR // NS_PER_MINUTE
# The minutes summed per quarter hour (a WHERE clause and GROUP BY 1, 2, 3, 4 to follow).
_QUARTER_FROM_MINUTES = (
    f"INSERT INTO usage_quarters SELECT source, minute / {MINUTES_PER_QUARTER}, provider, "
    "model, sum(reqs), sum(input), sum(output), sum(cache_read), sum(cache_write), "
    "total(cost), sum(unpriced) FROM usage_minutes WHERE true"
)


def _prune_usage(conn: sqlite3.Connection, before_ns: int, batch: int) -> int:
    """Records (and whole rollup minutes) older than ``before_ns``, in whole minutes so the
    rollup and the records always cover the same minutes (``batch`` unused: one range delete)."""
    minute = before_ns // NS_PER_MINUTE
    removed = conn.execute(
        "DELETE FROM usage_events WHERE ts_ns < ?", (minute * NS_PER_MINUTE,)
    ).rowcount
    if removed:  # a long read's own sums may hold what went (``store.pending``)
        conn.execute("UPDATE rollup_pending SET writer = ''")
    if conn.execute("DELETE FROM usage_minutes WHERE minute < ?", (minute,)).rowcount:
        # the quarters before the cutoff's go; the cutoff's own is summed again from the
        # minutes it keeps (the rollups are kept by their writers: no trigger does it)
        quarter = minute // MINUTES_PER_QUARTER
        conn.execute("DELETE FROM usage_quarters WHERE quarter <= ?", (quarter,))
        conn.execute(
            _QUARTER_FROM_MINUTES + " AND minute >= ? AND minute < ? GROUP BY 1, 2, 3, 4",
            (quarter * MINUTES_PER_QUARTER, (quarter + 1) * MINUTES_PER_QUARTER),
        )
    return int(removed)


# The records' columns as steps 1-3 left them, in that order (step 4 keeps it).
_EVENT_COLUMNS = (
    "source TEXT NOT NULL, key TEXT NOT NULL, ts_ns INTEGER NOT NULL, provider TEXT NOT NULL, "
    "model TEXT NOT NULL, input INTEGER NOT NULL, output INTEGER NOT NULL, "
    "cache_read INTEGER NOT NULL, cache_write INTEGER NOT NULL, cost REAL, "
    "session TEXT NOT NULL, project TEXT NOT NULL, upstream_cost INTEGER NOT NULL, "
    "branch TEXT NOT NULL DEFAULT '', host TEXT NOT NULL DEFAULT '', "
    "user TEXT NOT NULL DEFAULT ''"
)
_EVENT_NAMES = ", ".join(c.split()[0] for c in _EVENT_COLUMNS.split(", "))

# Per-request records of every record-yielding source, unique by (source, key).
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
        # 2: the git branch of each request (Claude Code's gitBranch); older rows: '' (unknown)
        "ALTER TABLE usage_events ADD COLUMN branch TEXT NOT NULL DEFAULT ''",
        # 3: the machine and person a record came from, on a hub (records received from team
        # members); '' for this machine's own records
        "ALTER TABLE usage_events ADD COLUMN host TEXT NOT NULL DEFAULT '';"
        "ALTER TABLE usage_events ADD COLUMN user TEXT NOT NULL DEFAULT ''",
        # 4: records in a rowid table, in the order written, found by a unique index on
        # (source, key). Clustered on the text key, every new record (its key is random: a
        # message id) went into a random page of a tree of whole rows, and each batch's commit
        # wrote nearly every page of it to the WAL again; the index's entries are a fifth of a
        # row (issue 22). The records are copied in time order (the queue's trigger goes with
        # the old table: ``TEAM_OUTBOX``'s step 3 drops it anyway).
        (
            f"CREATE TABLE usage_events_v4 ({_EVENT_COLUMNS})",
            f"INSERT INTO usage_events_v4 SELECT {_EVENT_NAMES} FROM usage_events "
            "ORDER BY source, ts_ns",
            "DROP TABLE usage_events",
            "ALTER TABLE usage_events_v4 RENAME TO usage_events",
            "CREATE UNIQUE INDEX usage_events_keys ON usage_events (source, key)",
            "CREATE INDEX usage_events_by_time ON usage_events (source, ts_ns)",
        ),
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

_SUMS = ("reqs", "input", "output", "cache_read", "cache_write", "cost", "unpriced")
_QUARTER_KEY = (
    "source = {r}.source AND quarter = {r}.minute / "
    + str(MINUTES_PER_QUARTER)
    + " AND provider = {r}.provider "
    "AND model = {r}.model"
)


def _quarters_update(key: str, plus: str = "", minus: str = "") -> str:
    """Adds row ``plus``'s sums (and takes row ``minus``'s) to the quarter hour of row ``key``:
    the UPDATE of a rollup trigger (rows are NEW or OLD)."""

    def change(c: str) -> str:
        if plus and minus:
            return f"{c} = {c} + ({plus}.{c} - {minus}.{c})"
        return f"{c} = {c} + {plus}.{c}" if plus else f"{c} = {c} - {minus}.{c}"

    sets = ", ".join(change(c) for c in _SUMS)
    return f"UPDATE usage_quarters SET {sets} WHERE {_QUARTER_KEY.format(r=key)}"


# Version 2 of the rollup and the team's queue: the writers keep them, and marked their
# transactions with a row in this table; the version-1 triggers were kept for a writer that did
# not mark itself (a burntray of the version before, still running after an upgrade). Version 3
# drops those triggers, which still ran once per record written (the queue's: a tenth of a first
# scan's write) and per minute row: no release ever wrote without the mark - only development
# builds of the unreleased 0.1.0 from before 2026-12-07 15:00 UTC did, and one of those still
# running after the upgrade must be restarted. The mark's table stays (step 2 made it), unused.
WRITER_MARK = "history_writer"
_WRITER_MARK_TABLE = f"CREATE TABLE IF NOT EXISTS {WRITER_MARK} (mark INTEGER NOT NULL)"
_UNMARKED = f"NOT EXISTS (SELECT 1 FROM {WRITER_MARK})"


def _QUARTER_TRIGGERS(when: str) -> tuple[str, str, str]:
    """The triggers that keep the quarter hours in step with the minutes (``when``: a condition
    for them to act, "" for always)."""
    only = f"WHEN {when} " if when else ""
    return (
        f"CREATE TRIGGER IF NOT EXISTS usage_quarters_add AFTER INSERT ON usage_minutes {only}"
        "BEGIN INSERT INTO usage_quarters VALUES (NEW.source, "
        f"NEW.minute / {MINUTES_PER_QUARTER}, NEW.provider, "
        "NEW.model, NEW.reqs, NEW.input, NEW.output, NEW.cache_read, NEW.cache_write, "
        "NEW.cost, NEW.unpriced) ON CONFLICT (source, quarter, provider, model) DO UPDATE SET "
        + ", ".join(f"{c} = {c} + excluded.{c}" for c in _SUMS)
        + "; END",
        f"CREATE TRIGGER IF NOT EXISTS usage_quarters_change AFTER UPDATE ON usage_minutes {only}"
        f"BEGIN {_quarters_update('NEW', plus='NEW', minus='OLD')}; END",
        f"CREATE TRIGGER IF NOT EXISTS usage_quarters_drop AFTER DELETE ON usage_minutes {only}"
        f"BEGIN {_quarters_update('OLD', minus='OLD')}; "
        f"DELETE FROM usage_quarters WHERE {_QUARTER_KEY.format(r='OLD')} AND reqs = 0; END",
    )


# The per-minute rollup summed per quarter hour (UTC), for the views: every zone's offset and
# daylight-saving change falls on a quarter hour, so days, weeks and months in any zone are
# whole quarters, and 90 days read 8,640 of them instead of 129,600 minutes. Whatever writes,
# prunes or clears the minutes changes the quarters in the same transaction (``store.rollup``,
# ``_prune_usage``, ``UsageEvents.clear``; "clear history" empties both). Until version 2
# triggers on usage_minutes did it; version 3 drops them (``WRITER_MARK``).
USAGE_QUARTERS = TableSchema(
    "usage_quarters",
    (
        (
            """CREATE TABLE IF NOT EXISTS usage_quarters (
                source TEXT NOT NULL,
                quarter INTEGER NOT NULL,
                provider TEXT NOT NULL,
                model TEXT NOT NULL,
                reqs INTEGER NOT NULL,
                input INTEGER NOT NULL,
                output INTEGER NOT NULL,
                cache_read INTEGER NOT NULL,
                cache_write INTEGER NOT NULL,
                cost REAL NOT NULL,
                unpriced INTEGER NOT NULL,
                PRIMARY KEY (source, quarter, provider, model)
            ) WITHOUT ROWID""",
            # an existing history: its minutes summed once
            _QUARTER_FROM_MINUTES + " GROUP BY 1, 2, 3, 4",
            *_QUARTER_TRIGGERS(""),
        ),
        # 2: the writers keep the quarters (``store.rollup``): the triggers ran their bodies once
        # per minute row, a third of a first scan's write (issue 22). They stay for a burntray
        # of version 1 still running (a tray started before the upgrade), which writes minutes
        # and relies on them: they do their part only for a writer that does not mark itself.
        (
            _WRITER_MARK_TABLE,
            "DROP TRIGGER IF EXISTS usage_quarters_add",
            "DROP TRIGGER IF EXISTS usage_quarters_change",
            "DROP TRIGGER IF EXISTS usage_quarters_drop",
            *_QUARTER_TRIGGERS(_UNMARKED),
        ),
        # 3: no trigger (``WRITER_MARK``)
        (
            "DROP TRIGGER IF EXISTS usage_quarters_add",
            "DROP TRIGGER IF EXISTS usage_quarters_change",
            "DROP TRIGGER IF EXISTS usage_quarters_drop",
        ),
    ),
)
EVENTS, MINUTES, QUARTERS = USAGE_EVENTS.name, USAGE_MINUTES.name, USAGE_QUARTERS.name  # in SQL

# A long read's rollups, summed at its end (``store.pending``): a source's minutes and quarter
# hours from ``minute`` on are not kept per write while it has a row here; ``writer``: the one
# writer that made every such write since, '' when several did.
ROLLUP_PENDING = TableSchema(
    "rollup_pending",
    (
        "CREATE TABLE IF NOT EXISTS rollup_pending (source TEXT PRIMARY KEY, "
        "minute INTEGER NOT NULL, writer TEXT NOT NULL) WITHOUT ROWID",
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

_OUTBOX_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS team_outbox_add AFTER INSERT ON usage_events "
    "WHEN NEW.host = '' AND EXISTS (SELECT 1 FROM team_cursor){when} "
    "BEGIN INSERT INTO team_outbox (source, key) VALUES (NEW.source, NEW.key); END"
)

# What this machine still has to send to its team's hub (``[team] hub``): every record written
# (a changed record is written again) after the sender started is queued by its writer
# (``store.rollup.queue_new``), in order; the sender deletes what the hub acknowledged.
# ``team_cursor`` holds the last acknowledged sequence number and, by existing at all, turns the
# queue on: a machine that reports to no hub pays one empty lookup per write. Until version 2 a
# trigger queued each record (and cost every machine a trigger run per record written); version 3
# drops it (``WRITER_MARK``).
TEAM_OUTBOX = TableSchema(
    "team_outbox",
    (
        (
            "CREATE TABLE IF NOT EXISTS team_cursor (name TEXT PRIMARY KEY, "
            "seq INTEGER NOT NULL) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS team_outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
            "source TEXT NOT NULL, key TEXT NOT NULL)",
            _OUTBOX_TRIGGER.format(when=""),
        ),
        # 2: the writer queues (see above); the trigger stays for an unmarked writer
        (
            _WRITER_MARK_TABLE,
            "DROP TRIGGER IF EXISTS team_outbox_add",
            _OUTBOX_TRIGGER.format(when=f" AND {_UNMARKED}"),
        ),
        # 3: no trigger (``WRITER_MARK``; the records' step 4 dropped it with their old table)
        "DROP TRIGGER IF EXISTS team_outbox_add",
    ),
    usage=False,
)

GENERIC_TABLES = (
    META,
    USAGE_EVENTS,
    USAGE_MINUTES,
    USAGE_QUARTERS,
    ROLLUP_PENDING,
    ALERT_STATE,
    ALERT_LOG,
    PLAN_LIMITS,
    TEAM_OUTBOX,
)
