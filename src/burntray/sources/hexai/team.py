"""hexai's usage for a team's hub: per-minute rollups, not events.

hexai records bytes, not requests with ids, so a machine sends its ``hexai_minutes`` rows
(requests and bytes per minute, provider and model) and the hub works out tokens and cost from
the bytes with the same rules (``summarise_bytes``). ``hexai_team_owed`` marks the minutes
written or grown since the hub last acknowledged them (a trigger, while reporting is on): each
is sent as it is now, and the hub replaces the minute it holds, so nothing adds twice.
"""

# ruff: noqa: S608 - SQL here names only constant tables and columns; values are bound

from __future__ import annotations

from typing import TYPE_CHECKING

from burntray.runtime.team_wire import MinuteRollup
from burntray.sources.hexai.history import TABLES, TEAM_OWED

if TYPE_CHECKING:
    from burntray.store.history import HistoryStore

SOURCE = "hexai"
_KEY = "o.minute = m.minute AND o.provider = m.provider AND o.model = m.model"


class HexaiRollups:
    """The minutes this machine still owes its hub (thread safety from HistoryStore)."""

    source = SOURCE

    def __init__(self, history: HistoryStore) -> None:
        self.history = history
        history.require((*TABLES, TEAM_OWED))

    def pending(self, limit: int) -> list[MinuteRollup]:
        """Up to ``limit`` minutes owed, oldest first, as they are now."""
        rows = self.history.execute(
            "SELECT m.minute, m.provider, m.model, m.reqs, m.sent, m.recv FROM hexai_team_owed o "
            f"JOIN hexai_minutes m ON {_KEY} ORDER BY o.minute LIMIT ?",
            (limit,),
        )
        return [
            MinuteRollup(SOURCE, int(r[0]), str(r[1]), str(r[2]), int(r[3]), int(r[4]), int(r[5]))  # type: ignore[call-overload]
            for r in rows
        ]

    def acknowledge(self, minutes: list[MinuteRollup]) -> None:
        """The hub holds ``minutes`` as sent: no longer owed, unless one grew meanwhile (then
        it is sent again as it is now). Marks of minutes the history no longer has go too."""
        if not minutes:
            return
        with self.history.transaction() as conn:
            conn.executemany(
                "DELETE FROM hexai_team_owed WHERE minute = ? AND provider = ? AND model = ? "
                "AND NOT EXISTS (SELECT 1 FROM hexai_minutes m WHERE m.minute = ? AND "
                "m.provider = ? AND m.model = ? AND (m.reqs, m.sent, m.recv) != (?, ?, ?))",
                [(m.minute, m.provider, m.model) * 2 + (m.reqs, m.sent, m.recv) for m in minutes],
            )
            last = max(m.minute for m in minutes)
            conn.execute(
                "DELETE FROM hexai_team_owed AS o WHERE minute <= ? AND NOT EXISTS "
                f"(SELECT 1 FROM hexai_minutes m WHERE {_KEY})",
                (last,),
            )

    def owed(self) -> int:
        """How many minutes the hub has not acknowledged as they are now."""
        rows = self.history.execute("SELECT count(*) FROM hexai_team_owed")
        return int(str(rows[0][0]))

    def owe_all(self) -> None:
        """Reporting (re)starts, perhaps to another hub: every minute kept is owed (the hub
        replaces what it holds already)."""
        with self.history.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO hexai_team_owed SELECT minute, provider, model "
                "FROM hexai_minutes WHERE true"
            )
