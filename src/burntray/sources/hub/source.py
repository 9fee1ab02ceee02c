"""The ``hub`` source: what a team's machines reported to this burntray (``serve --otlp``).

The receiver writes the records into the history as they arrive (``hub.ingest``); this source
reads them from there, so a tray or ``status`` on the hub (or anywhere sharing its history)
shows the team's figures, with a line per host in the menu.
"""

from __future__ import annotations

from burntray.model.snapshot import UpstreamFact
from burntray.model.usage import UsageRecord
from burntray.sources.hub.ingest import SOURCE
from burntray.sources.record_source import RecordSource
from burntray.store.team import by_host

MAX_HOST_LINES = 12  # per-host lines in the menu; the rest summed as "other hosts"
_DAY_NS = 86_400 * 10**9


class HubSource(RecordSource):
    name = SOURCE
    label = "Team hub"

    def read_new(self) -> list[UsageRecord]:
        if self._events is not None and not self._events.has_records(SOURCE):
            self.empty_reason = "no machine has reported to this hub yet"
        return []  # the receiver writes what arrives straight into the history

    def records(self, start_ns: int, end_ns: int) -> list[UsageRecord]:
        """The team's requests in ``[start, end)`` (every view can group them, by host too)."""
        return [] if self._events is None else self._events.records(SOURCE, start_ns, end_ns)

    def facts(self) -> tuple[UpstreamFact, ...]:
        if self._events is None:
            return ()
        now = self._clock_ns()
        hosts = by_host(self._events.history, SOURCE, now - _DAY_NS, now + 1)
        hosts.sort(key=lambda h: (-h.reqs, h.host))  # the busiest first
        facts = []
        for h in hosts[:MAX_HOST_LINES]:
            who = f"{h.host} ({h.user})" if h.user else h.host
            facts.append(UpstreamFact(who, f"{h.reqs} reqs, ${h.cost:.2f} in 24 h"))
        if len(hosts) > MAX_HOST_LINES:
            rest = hosts[MAX_HOST_LINES:]
            facts.append(
                UpstreamFact(
                    f"{len(rest)} other hosts",
                    f"{sum(h.reqs for h in rest)} reqs, ${sum(h.cost for h in rest):.2f} in 24 h",
                )
            )
        return tuple(facts)
