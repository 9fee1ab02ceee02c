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

from msgspec.structs import replace

from burntray.io.http_admission import is_loopback
from burntray.model.aggregate import rpm
from burntray.model.pricing import PriceTable
from burntray.model.snapshot import Snapshot, UpstreamFact, UsageRow
from burntray.model.timefmt import NS_PER_MINUTE
from burntray.model.usage import UsageRecord
from burntray.sources.hub import counters as hub_counters
from burntray.sources.hub import minutes as hub_minutes
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
        prices: PriceTable | None = None,
    ) -> None:
        self.receiver_source = receiver  # the OTLP receiver's source, when asked to listen
        self.prices = prices  # prices the machines' byte-counting minutes (as they do)
        self._bytes_kept: tuple[tuple[int, ...], list[hub_minutes.HostBytes]] | None = None
        self._counters_kept: tuple[tuple[int, ...], list[hub_counters.ModelSums]] | None = None
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
        receiver = getattr(inner, "receiver", None)
        if ok and receiver is not None and receiver.tls is None and not is_loopback(receiver.host):
            # it listens, but refuses every machine's records (403): not a working hub
            return False, (
                f"OTLP receiver on {receiver.host} takes no team records: a hub beyond loopback "
                "takes them only over TLS (start it with --tls-cert and --tls-key)"
            )
        return bool(ok), str(why)

    def read_new(self) -> list[UsageRecord]:
        events = self._events
        # neither records nor a byte-counting source's minutes
        if (
            events is not None
            and not events.has_records(SOURCE)
            and not hub_minutes.hosts(events.history)
            and not hub_counters.hosts(events.history)
        ):
            self.empty_reason = "no machine has reported to this hub yet"
        return []  # the receiver writes what arrives straight into the history

    def records(self, start_ns: int, end_ns: int) -> list[UsageRecord]:
        """The team's requests in ``[start, end)`` (every view can group them, by host too)."""
        return [] if self._events is None else self._events.records(SOURCE, start_ns, end_ns)

    def _bytes(self, start_ns: int, end_ns: int, window_ns: int) -> list[hub_minutes.HostBytes]:
        """The machines' byte-counting sources (hexai) in the window, per host."""
        if self._events is None or self.prices is None:
            return []
        history = self._events.history
        # the same whole minutes of an unchanged history give the same sums: every poll of an
        # idle hub (and the per-host lines beside its snapshot) reuse them
        first, end = start_ns // NS_PER_MINUTE, -(-end_ns // NS_PER_MINUTE)
        key = (first, end, window_ns, history.generation)
        kept = self._bytes_kept
        if kept is None or kept[0] != key:
            parts = hub_minutes.per_host(history, start_ns, end_ns, window_ns, self.prices)
            kept = self._bytes_kept = (key, parts)
        return kept[1]

    def _counters(self, start_ns: int, end_ns: int) -> list[hub_counters.ModelSums]:
        """The machines' running-totals sources (cburn, ctm) in the window, per host and
        model (the same whole minutes of an unchanged history: the sums kept)."""
        if self._events is None:
            return []
        history = self._events.history
        key = (start_ns // NS_PER_MINUTE, -(-end_ns // NS_PER_MINUTE), history.generation)
        kept = self._counters_kept
        if kept is None or kept[0] != key:
            kept = self._counters_kept = (key, hub_counters.per_model(history, start_ns, end_ns))
        return kept[1]

    def _snapshot(self, window_ns: int, now: int, prefixes: tuple[str, ...]) -> Snapshot:
        """The records' figures plus the minutes': a byte-counting source's with each host's
        tokens and cost as its machine works them out, then summed, and a running-totals
        source's increases as sent (a row per provider and model)."""
        snap = _with_counters(
            super()._snapshot(window_ns, now, prefixes), self._counters(now - window_ns, now + 1)
        )
        parts = self._bytes(now - window_ns, now + 1, window_ns)
        if not parts:
            return snap
        t = snap.totals
        reqs = t.reqs + sum(p.totals.reqs for p in parts)
        totals = replace(
            t,
            reqs=reqs,
            rpm=rpm(reqs, window_ns),
            sent=t.sent + sum(p.totals.sent for p in parts),
            recv=t.recv + sum(p.totals.recv for p in parts),
            tokens=t.tokens + sum(p.totals.tokens for p in parts),
            cost_usd=t.cost_usd + sum(p.totals.cost_usd for p in parts),
            unpriced_reqs=t.unpriced_reqs + sum(p.totals.unpriced_reqs for p in parts),
            tokens_estimated=True,
        )
        rows: dict[tuple[str, str], UsageRow] = {}
        for row in (r for p in parts for r in p.rows):
            have = rows.get((row.provider, row.model))
            rows[(row.provider, row.model)] = row if have is None else _added(have, row)
        by_model = sorted(
            (*snap.by_model, *rows.values()),
            key=lambda r: (-(r.cost_usd or 0.0), -r.reqs, r.provider, r.model),
        )
        return replace(snap, totals=totals, by_model=tuple(by_model), tokens_estimated=True)

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
        hosts = _with_bytes(hosts, self._bytes(start_ns, end_ns, span))
        hosts = _with_host_counters(hosts, self._counters(start_ns, end_ns))
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


def _added(a: UsageRow, b: UsageRow) -> UsageRow:
    """One provider and model's byte-counting figures from two hosts, summed."""
    cost = None
    if a.cost_usd is not None or b.cost_usd is not None:
        cost = (a.cost_usd or 0.0) + (b.cost_usd or 0.0)
    return replace(
        a,
        reqs=a.reqs + b.reqs,
        sent=a.sent + b.sent,
        recv=a.recv + b.recv,
        tokens=a.tokens + b.tokens,
        cost_usd=cost,
        unpriced_reqs=a.unpriced_reqs + b.unpriced_reqs,
    )


def _with_bytes(hosts: list[HostTotals], parts: list[hub_minutes.HostBytes]) -> list[HostTotals]:
    """Each host's record sums with its byte-counting minutes added (a host may have only
    those)."""
    if not parts:
        return hosts
    out = {(h.host, h.user): h for h in hosts}
    for p in parts:
        h = out.get((p.host, p.user), HostTotals(p.host, p.user, 0, 0, 0, 0, 0, 0.0, 0))
        out[(p.host, p.user)] = h._replace(
            reqs=h.reqs + p.totals.reqs,
            cost=h.cost + p.totals.cost_usd,
            unpriced=h.unpriced + p.totals.unpriced_reqs,
            estimated=h.estimated + p.totals.tokens,
            sent=h.sent + p.totals.sent,
            recv=h.recv + p.totals.recv,
        )
    return list(out.values())


def _with_counters(snap: Snapshot, parts: list[hub_counters.ModelSums]) -> Snapshot:
    """The records' figures plus the running-totals sources' increases (their cost is the
    upstream's own: never unpriced)."""
    if not parts:
        return snap
    t = snap.totals
    reqs = t.reqs + sum(p.sums.reqs for p in parts)
    totals = replace(
        t,
        reqs=reqs,
        rpm=rpm(reqs, snap.window_ns),
        tokens=t.tokens + sum(p.sums.tokens for p in parts),
        cost_usd=t.cost_usd + sum(p.sums.cost for p in parts),
        input_tokens=(t.input_tokens or 0) + sum(p.sums.input for p in parts),
        output_tokens=(t.output_tokens or 0) + sum(p.sums.output for p in parts),
    )
    rows: dict[tuple[str, str], list[float]] = {}
    for p in parts:
        acc = rows.setdefault((p.provider, p.model), [0, 0, 0, 0, 0.0])
        for i, v in enumerate(p.sums):
            acc[i] += v
    extra = [
        UsageRow(provider, model, int(reqs), 0, 0, int(tokens), cost, 0, "", int(inp), int(out))
        for (provider, model), (reqs, inp, out, tokens, cost) in rows.items()
        if reqs or tokens or cost
    ]
    by_model = sorted(
        (*snap.by_model, *extra),
        key=lambda r: (-(r.cost_usd or 0.0), -r.reqs, r.provider, r.model),
    )
    return replace(snap, totals=totals, by_model=tuple(by_model))


def _with_host_counters(
    hosts: list[HostTotals], parts: list[hub_counters.ModelSums]
) -> list[HostTotals]:
    """Each host's sums with its running-totals sources' increases added (a host may have
    only those); tokens not split into input and output (cburn's) go with the estimated ones,
    the tokens no kind is known of."""
    if not parts:
        return hosts
    out = {(h.host, h.user): h for h in hosts}
    for p in parts:
        h = out.get((p.host, p.user), HostTotals(p.host, p.user, 0, 0, 0, 0, 0, 0.0, 0))
        s = p.sums
        out[(p.host, p.user)] = h._replace(
            reqs=h.reqs + s.reqs,
            input=h.input + s.input,
            output=h.output + s.output,
            cost=h.cost + s.cost,
            estimated=h.estimated + s.tokens - s.input - s.output,
        )
    return list(out.values())
