"""A hub taking its team's records: written to the history before the export is acknowledged.

Called by the OTLP receiver for the resources a burntray machine sent (``wire.is_burntray``).
Each machine's records are stored under the ``hub`` source, keyed by their record id, with the
machine's host and user beside them: a resend changes nothing, a changed record replaces the
one stored. The per-minute rollups of byte-counting sources go to ``hub.minutes``, those of
running-totals sources to ``hub.counters``, one row per host, source, minute, provider and
model, replaced the same way. The write is in the history
before the 200 goes out, so a hub that stops right after acknowledging has lost nothing. Hosts
are bounded (``MAX_HOSTS``): records of a host past the bound are refused, with a reason the
machine logs.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from opentelemetry.proto.logs.v1.logs_pb2 import ResourceLogs

from burntray.lazylog import get_logger
from burntray.model.pricing import PriceTable
from burntray.runtime import team_wire as wire
from burntray.sources.hub import counters as hub_counters
from burntray.sources.hub import minutes as hub_minutes
from burntray.store.usage_events import UsageEvents

log = get_logger(__name__)

SOURCE = "hub"
MAX_HOSTS = 1000  # distinct (host, user) a hub keeps: label cardinality stays bounded


class HubIngest:
    """``own_host``: this hub's own name (as its own sender would give it). Records from it are
    taken and not stored: they are this machine's own sources' records, counted there, and
    ``all`` here would count them twice."""

    def __init__(
        self, events: UsageEvents, own_host: str = "", prices: PriceTable | None = None
    ) -> None:
        self.events = events
        self.prices = prices  # prices the byte-counting minutes for the views (None: unpriced)
        self.own_host = own_host
        self._lock = threading.Lock()
        self._origins: set[tuple[str, str]] | None = None

    def _known(self) -> set[tuple[str, str]]:
        if self._origins is None:
            rows = self.events.history.execute(
                "SELECT DISTINCT host, user FROM usage_events WHERE source = ?", (SOURCE,)
            )
            self._origins = {(str(h), str(u)) for h, u in rows}
            self._origins |= hub_minutes.hosts(self.events.history)
            self._origins |= hub_counters.hosts(self.events.history)
        return self._origins

    def take(self, resources: Sequence[ResourceLogs]) -> tuple[int, str]:
        """Store every valid record of ``resources``; returns (records refused, why). Raises
        when the history cannot take them (the receiver answers 500: the machine sends again)."""
        refused, why = 0, ""
        for rl in resources:
            batch = wire.decode(rl)
            refused += batch.rejected
            why = batch.reason or why
            if not (batch.records or batch.minutes) or batch.host == self.own_host:
                continue
            origin = (batch.host, batch.user)
            with self._lock:
                known = self._known()
                if origin not in known and len(known) >= MAX_HOSTS:
                    refused += len(batch.records) + len(batch.minutes)
                    why = f"host {batch.host!r} refused: this hub keeps at most {MAX_HOSTS} hosts"
                    continue
                self.events.ingest(SOURCE, batch.records, origin=origin)
                # a byte-counting source's minutes (hexai): one row per minute, replaced; a
                # running-totals source's (cburn, ctm) likewise, in a table of their own
                history = self.events.history
                hub_minutes.store(
                    history, origin, [m for m in batch.minutes if not m.counters], self.prices
                )
                hub_counters.store(history, origin, [m for m in batch.minutes if m.counters])
                known.add(origin)
        if refused:
            log.warning("hub: %d record(s) refused: %s", refused, why)
        return refused, why
