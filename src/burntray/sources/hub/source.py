"""The ``hub`` source: what a team's machines reported to this burntray (``serve --otlp``).

The OTLP receiver writes the machines' records into the history as they arrive
(``hub.ingest``); this source reads them from there, so ``status``, the views (``--by host``),
``/metrics`` (``host`` series) and a tray on the hub (a line per host in the menu) show the
team's figures. Asked to listen (``serve --source hub --otlp``, or ``otel.enabled``), it runs
the OTLP receiver itself: the tools' own OTLP exports are counted as the ``otel`` source's,
the team's records as this one's.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from burntray.model.snapshot import UpstreamFact
from burntray.model.usage import UsageRecord
from burntray.sources.hub.ingest import SOURCE
from burntray.sources.record_source import RecordSource
from burntray.store.history import HistoryStore
from burntray.store.team import HostTotals, by_host

MAX_HOST_LINES = 12  # per-host lines in the menu; the rest summed as "other hosts"
# The per-host sums read every record of the window (a GROUP BY over the records, not the
# per-minute rollup): at a busy hub they are worked out at most this often, not on every wake.
HOSTS_EVERY_S = 5.0
_DAY_NS = 86_400 * 10**9


class HubSource(RecordSource):
    name = SOURCE
    label = "Team hub"

    def __init__(
        self,
        history: HistoryStore | None,
        clock_ns: Callable[[], int] | None = None,
        receiver: RecordSource | None = None,
    ) -> None:
        self.receiver_source = receiver  # the OTLP receiver's source, when asked to listen
        self._hosts: dict[int, tuple[float, list[HostTotals]]] = {}  # window length -> sums
        if clock_ns is None:
            super().__init__(history)
        else:
            super().__init__(history, clock_ns)

    def start(self, wake: Callable[[], None]) -> None:
        super().start(wake)
        if self.receiver_source is not None:
            self.receiver_source.start(wake)

    def close(self) -> None:
        if self.receiver_source is not None:
            self.receiver_source.close()
        super().close()

    def poll(self) -> bool:
        changed = False
        if self.receiver_source is not None:
            changed = self.receiver_source.poll()
        return super().poll() or changed

    def listening_health(self) -> tuple[bool, str]:
        inner = self.receiver_source
        if inner is None or not hasattr(inner, "listening_health"):
            return False, "not listening: run burntray serve --source hub --otlp HOST:PORT"
        ok, why = inner.listening_health()
        return bool(ok), str(why)

    def read_new(self) -> list[UsageRecord]:
        if self._events is not None and not self._events.has_records(SOURCE):
            self.empty_reason = "no machine has reported to this hub yet"
        return []  # the receiver writes what arrives straight into the history

    def records(self, start_ns: int, end_ns: int) -> list[UsageRecord]:
        """The team's requests in ``[start, end)`` (every view can group them, by host too)."""
        return [] if self._events is None else self._events.records(SOURCE, start_ns, end_ns)

    def host_totals(self, start_ns: int, end_ns: int) -> list[HostTotals]:
        """Per (host, user) sums, the busiest first; those of a window of the same length
        worked out less than ``HOSTS_EVERY_S`` ago are reused."""
        if self._events is None:
            return []
        now = time.monotonic()
        span = end_ns - start_ns
        kept = self._hosts.get(span)
        if kept is not None and now - kept[0] < HOSTS_EVERY_S:
            return kept[1]
        hosts = by_host(self._events.history, SOURCE, start_ns, end_ns)
        hosts.sort(key=lambda h: (-h.reqs, h.host, h.user))
        if len(self._hosts) > 8:  # a few window lengths (menu, /metrics) at most
            self._hosts.clear()
        self._hosts[span] = (now, hosts)
        return hosts

    def facts(self) -> tuple[UpstreamFact, ...]:
        now = self._clock_ns()
        hosts = self.host_totals(now - _DAY_NS, now + 1)
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
