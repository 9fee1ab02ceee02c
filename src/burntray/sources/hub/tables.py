"""The hub's own table in the history (declared here, cheap to import with the registry)."""

from __future__ import annotations

from burntray.store.schema import TableSchema, prune_before_minute

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
    prune=prune_before_minute("hub_minutes"),
)
