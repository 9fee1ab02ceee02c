"""A running-totals source's usage for a team's hub (cburn, ctm): per-minute increases.

cburn reports running totals over its period and ctm running totals per session: neither has
per-request records. While reporting to a hub is on (``[team] hub``), the source writes here
each minute's increases of its totals, counted with its own rule (decreases, restarts and
reused session names as its own windows count them): requests, input, output and all tokens,
and the upstream's own cost. Summed over a window's minutes they are what the machine's own
``status`` says for that window, and the hub keeps one row per host, source, minute, provider
and model, replaced when a minute is sent again.

``team_counter_owed`` marks the minutes written or changed while reporting is on (triggers,
as for hexai's minutes); the sender (``CounterRollups``) sends each as it is now and unmarks it
once the hub acknowledged it unchanged. A minute whose increase went back to nothing (a
sample that arrived late moved it) is kept as zeros, so the hub's copy is replaced too.
"""

# ruff: noqa: S608 - SQL here names only constant tables and columns; values are bound

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from burntray.store.schema import TableSchema, prune_before_minute

if TYPE_CHECKING:
    from burntray.runtime.team_wire import MinuteRollup
    from burntray.store.history import HistoryStore

# (minute, provider, model) -> (requests, input, output, all tokens, cost USD)
Increases = Mapping[tuple[int, str, str], tuple[int, int, int, int, float]]


MINUTES = TableSchema(
    "team_counter_minutes",
    (
        """CREATE TABLE IF NOT EXISTS team_counter_minutes (
            source TEXT NOT NULL,
            minute INTEGER NOT NULL,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            reqs INTEGER NOT NULL,
            input INTEGER NOT NULL,
            output INTEGER NOT NULL,
            tokens INTEGER NOT NULL,
            cost REAL NOT NULL,
            PRIMARY KEY (source, minute, provider, model)
        ) WITHOUT ROWID""",
    ),
    prune=prune_before_minute("team_counter_minutes"),
)

# a WHEN, not INSERT OR IGNORE: the statement that fires a trigger imposes its conflict policy
_OWE = (
    "EXISTS (SELECT 1 FROM team_cursor) AND NOT EXISTS (SELECT 1 FROM team_counter_owed o "
    "WHERE o.source = NEW.source AND o.minute = NEW.minute AND o.provider = NEW.provider "
    "AND o.model = NEW.model)"
)
_MARK = "INSERT INTO team_counter_owed VALUES (NEW.source, NEW.minute, NEW.provider, NEW.model)"
OWED = TableSchema(
    "team_counter_owed",
    (
        (
            "CREATE TABLE IF NOT EXISTS team_counter_owed (source TEXT NOT NULL, "
            "minute INTEGER NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL, "
            "PRIMARY KEY (source, minute, provider, model)) WITHOUT ROWID",
            "CREATE TRIGGER IF NOT EXISTS team_counter_owed_add AFTER INSERT ON "
            f"team_counter_minutes WHEN {_OWE} BEGIN {_MARK}; END",
            "CREATE TRIGGER IF NOT EXISTS team_counter_owed_change AFTER UPDATE ON "
            f"team_counter_minutes WHEN {_OWE} BEGIN {_MARK}; END",
        ),
    ),
    prune=prune_before_minute("team_counter_owed"),
)
TABLES = (MINUTES, OWED)


def reporting(history: HistoryStore) -> bool:
    """Whether this machine reports to a hub (its sender turned the queue on)."""
    return bool(history.execute("SELECT 1 FROM team_cursor LIMIT 1"))


def write(history: HistoryStore, source: str, from_minute: int, increases: Increases) -> int:
    """The minutes from ``from_minute`` on as ``increases`` says they are now: new and changed
    ones written (and so owed to the hub), those no longer there set to zeros. Returns how many
    rows changed."""
    history.require(TABLES)
    rows = [(source, m, p, mo, *v) for (m, p, mo), v in increases.items() if m >= from_minute]
    with history.transaction() as conn:
        changed = 0
        for (m, p, mo), (reqs, inp, out, tokens, cost) in (
            ((r[1], r[2], r[3]), r[4:]) for r in rows
        ):
            changed += conn.execute(
                "INSERT INTO team_counter_minutes VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT "
                "(source, minute, provider, model) DO UPDATE SET reqs = excluded.reqs, "
                "input = excluded.input, output = excluded.output, tokens = excluded.tokens, "
                "cost = excluded.cost WHERE (reqs, input, output, tokens, cost) IS NOT "
                "(excluded.reqs, excluded.input, excluded.output, excluded.tokens, excluded.cost)",
                (source, m, p, mo, reqs, inp, out, tokens, cost),
            ).rowcount
        gone = [
            (source, m, p, mo)
            for m, p, mo in conn.execute(
                "SELECT minute, provider, model FROM team_counter_minutes WHERE source = ? AND "
                "minute >= ? AND (reqs, input, output, tokens, cost) IS NOT (0, 0, 0, 0, 0.0)",
                (source, from_minute),
            ).fetchall()
            if (m, p, mo) not in increases
        ]
        changed += len(gone)
        conn.executemany(
            "UPDATE team_counter_minutes SET reqs = 0, input = 0, output = 0, tokens = 0, "
            "cost = 0.0 WHERE source = ? AND minute = ? AND provider = ? AND model = ?",
            gone,
        )
    return changed


_KEY = (
    "o.source = m.source AND o.minute = m.minute AND o.provider = m.provider AND o.model = m.model"
)


class CounterRollups:
    """The minutes of one running-totals source this machine still owes its hub (thread
    safety from HistoryStore)."""

    def __init__(self, history: HistoryStore, source: str) -> None:
        self.history = history
        self.source = source
        history.require(TABLES)

    def pending(self, limit: int) -> list[MinuteRollup]:
        """Up to ``limit`` minutes owed, oldest first, as they are now."""
        from burntray.runtime.team_wire import MinuteRollup  # noqa: PLC0415 - protobuf

        rows: list[Any] = self.history.execute(
            "SELECT m.minute, m.provider, m.model, m.reqs, m.input, m.output, m.tokens, m.cost "
            f"FROM team_counter_owed o JOIN team_counter_minutes m ON {_KEY} "
            "WHERE o.source = ? ORDER BY o.minute LIMIT ?",
            (self.source, limit),
        )
        return [
            MinuteRollup(self.source, int(r[0]), str(r[1]), str(r[2]), int(r[3]), 0, 0, *r[4:8])
            for r in rows
        ]

    def acknowledge(self, minutes: list[MinuteRollup]) -> None:
        """The hub holds ``minutes`` as sent: no longer owed, unless one changed meanwhile
        (then it is sent again as it is now). Marks of minutes no longer kept go too."""
        if not minutes:
            return
        with self.history.transaction() as conn:
            conn.executemany(
                "DELETE FROM team_counter_owed WHERE source = ? AND minute = ? AND provider = ? "
                "AND model = ? AND NOT EXISTS (SELECT 1 FROM team_counter_minutes m WHERE "
                "m.source = ? AND m.minute = ? AND m.provider = ? AND m.model = ? AND "
                "(m.reqs, m.input, m.output, m.tokens, m.cost) IS NOT (?, ?, ?, ?, ?))",
                [
                    (self.source, m.minute, m.provider, m.model) * 2
                    + (m.reqs, m.input, m.output, m.tokens, m.cost)
                    for m in minutes
                ],
            )
            conn.execute(
                "DELETE FROM team_counter_owed AS o WHERE source = ? AND minute <= ? AND NOT "
                f"EXISTS (SELECT 1 FROM team_counter_minutes m WHERE {_KEY})",
                (self.source, max(m.minute for m in minutes)),
            )

    def owed(self) -> int:
        rows = self.history.execute(
            "SELECT count(*) FROM team_counter_owed WHERE source = ?", (self.source,)
        )
        return int(str(rows[0][0]))

    def owe_all(self) -> None:
        """Reporting (re)starts, perhaps to another hub: every minute kept is owed."""
        with self.history.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO team_counter_owed SELECT source, minute, provider, model "
                "FROM team_counter_minutes WHERE source = ?",
                (self.source,),
            )
