"""hexai's usage for a team's hub: per-minute rollups, not events.

hexai records bytes, not requests with ids, so a machine sends its ``hexai_minutes`` rows
(requests and bytes per minute, provider and model) and the hub works out tokens and cost from
the bytes with the same rules (``summarise_bytes``). ``hexai_team_sent`` holds each minute as the
hub acknowledged it: a minute that is new, or grew since (more events read into it), differs
from it and is sent again; the hub replaces the minute it holds, so nothing adds twice.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from burntray.runtime.team_wire import MinuteRollup
from burntray.sources.hexai.history import TABLES, TEAM_SENT

if TYPE_CHECKING:
    from burntray.store.history import HistoryStore

SOURCE = "hexai"
RECHECK_S = 30.0

_DIFFERS = (
    "FROM hexai_minutes m LEFT JOIN hexai_team_sent s ON s.minute = m.minute AND "
    "s.provider = m.provider AND s.model = m.model WHERE s.minute IS NULL OR "
    "s.reqs != m.reqs OR s.sent != m.sent OR s.recv != m.recv"
)


class HexaiRollups:
    """The minutes this machine still owes its hub. Checked again only when the history was
    written since (its ``generation``) or ``RECHECK_S`` passed: an idle sender costs little."""

    source = SOURCE

    def __init__(self, history: HistoryStore) -> None:
        self.history = history
        self._clean_at: tuple[int, float] | None = None  # (generation, when) nothing was owed

    def pending(self, limit: int) -> list[MinuteRollup]:
        """Up to ``limit`` minutes the hub does not hold as they are now, oldest first."""
        generation = self.history.generation
        now = time.monotonic()
        # another process (a `status`) may have read events into the history: looked at again
        # every RECHECK_S even when this one wrote nothing
        clean = self._clean_at
        if clean is not None and clean[0] == generation and now - clean[1] < RECHECK_S:
            return []
        self.history.require((*TABLES, TEAM_SENT))
        rows = self.history.execute(
            f"SELECT m.minute, m.provider, m.model, m.reqs, m.sent, m.recv {_DIFFERS} "
            "ORDER BY m.minute LIMIT ?",
            (limit,),
        )
        self._clean_at = None if rows else (generation, now)
        return [
            MinuteRollup(SOURCE, int(r[0]), str(r[1]), str(r[2]), int(r[3]), int(r[4]), int(r[5]))  # type: ignore[call-overload]
            for r in rows
        ]

    def acknowledge(self, minutes: list[MinuteRollup]) -> None:
        """The hub holds ``minutes`` as sent."""
        if not minutes:
            return
        with self.history.transaction() as conn:
            conn.executemany(
                "INSERT INTO hexai_team_sent VALUES (?,?,?,?,?,?) ON CONFLICT "
                "(minute, provider, model) DO UPDATE SET reqs = excluded.reqs, "
                "sent = excluded.sent, recv = excluded.recv",
                [(m.minute, m.provider, m.model, m.reqs, m.sent, m.recv) for m in minutes],
            )

    def forget(self) -> None:
        """Reporting was turned off: what the hub held is forgotten (turned on again, every
        minute is sent once more and the hub replaces what it has)."""
        self.history.require((TEAM_SENT,))
        with self.history.transaction() as conn:
            conn.execute("DELETE FROM hexai_team_sent")
        self._clean_at = None


def rollups(history: HistoryStore) -> HexaiRollups:
    return HexaiRollups(history)
