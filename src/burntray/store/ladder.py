"""How the history's tables are declared and brought up to date: a ``TableSchema`` is a table's
name and its migration ladder; ``migrate`` runs the steps a database has not run yet. The tables
themselves are declared in ``store.schema`` and in each source's ``SourceSpec.history_tables``.
"""

# ruff: noqa: S608 - table names here are constants of the schema, never input

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, NamedTuple

from burntray.model.timefmt import NS_PER_MINUTE

if TYPE_CHECKING:
    import sqlite3

# (connection inside a transaction, cutoff ns, most rows to drop) -> rows dropped
Pruner = Callable[["sqlite3.Connection", int, int], int]


def prune_before_minute(table: str) -> Pruner:
    """A pruner for a table keyed by whole minutes since the epoch (column ``minute``): drops
    the minutes before the history's bound. ``table`` is a constant name, never user input."""

    def prune(conn: sqlite3.Connection, before_ns: int, batch: int) -> int:
        return int(
            conn.execute(
                f"DELETE FROM {table} WHERE minute < ?",
                (before_ns // NS_PER_MINUTE,),
            ).rowcount
        )

    return prune


class HistoryError(Exception):
    """The history database cannot be used; the message says which file and why."""


class TableSchema(NamedTuple):
    """One table of the history database and how to build it (a plain tuple)."""

    name: str
    # The migration ladder: step N takes the table from version N-1 to N. A step may hold
    # several statements separated by ";" (no ";" inside a statement), or be a tuple of
    # statements (a trigger's body holds ";").
    steps: tuple[str | tuple[str, ...], ...]
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
            for statement in step.split(";") if isinstance(step, str) else step:
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
