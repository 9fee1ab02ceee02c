"""The hub's own table in the history (declared here, cheap to import with the registry)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from burntray.model.timefmt import NS_PER_MINUTE
from burntray.store.schema import TableSchema

if TYPE_CHECKING:
    import sqlite3


def _prune(conn: sqlite3.Connection, before_ns: int, batch: int) -> int:
    return int(
        conn.execute(
            "DELETE FROM hub_minutes WHERE minute < ?", (before_ns // NS_PER_MINUTE,)
        ).rowcount
    )


# The machines' byte-counting minutes (``hub.minutes``): one row per host, source, minute,
# provider and model, replaced when the machine sends that minute again; ``cost`` as the hub
# priced the bytes when they arrived (NULL: no price), for the views.
HUB_MINUTES = TableSchema(
    "hub_minutes",
    (
        """CREATE TABLE IF NOT EXISTS hub_minutes (
            host TEXT NOT NULL,
            user TEXT NOT NULL,
            source TEXT NOT NULL,
            minute INTEGER NOT NULL,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            reqs INTEGER NOT NULL,
            sent INTEGER NOT NULL,
            recv INTEGER NOT NULL,
            cost REAL,
            PRIMARY KEY (host, source, minute, provider, model)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS hub_minutes_by_time ON hub_minutes (minute)""",
    ),
    prune=_prune,
)
