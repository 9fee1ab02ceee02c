"""The ``otel`` source: usage that Claude Code, Codex and Gemini CLI push over OTLP/HTTP.

The receiver (``otel.receiver``) listens on loopback; each export is decoded (``otel.decode``),
read per tool (``otel.mapping``) and turned into per-request records counted once (``otel.ledger``).
The record-source base keeps them in burntray's history like any other source's, so the source
joins ``all``, history, alerts and reports. The receiver runs only while the app or
``burntray serve`` runs (``start``); a one-shot ``burntray status`` reads what was received
before, from the history.

A port already in use is a status ("cannot listen on ...: in use"), not a dead app: the source
retries every ``RETRY_S`` and the rest of burntray goes on.

Records already acknowledged to a sender are never dropped because the history could not take
them: records whose write failed are kept and written again on the next poll (with whatever
arrived since), and the error shows until a write succeeds. Should the same records fail
``ISOLATE_AFTER`` times in a row, they are written one by one, so one record the database
refuses cannot hold back the others. ``health()`` says whether the source is counting.
"""

from __future__ import annotations

import errno
import threading
import time
from collections.abc import Callable
from typing import Any

from google.protobuf.message import Message

from burntray.io.hostport import split_host_port
from burntray.io.http_admission import is_loopback
from burntray.lazylog import get_logger
from burntray.model.own_cost import OTLP, OwnCost
from burntray.model.pricing import PriceTable
from burntray.model.snapshot import Capabilities, UpstreamFact
from burntray.model.usage import UsageRecord
from burntray.sources.otel.decode import OtlpError, Rejected
from burntray.sources.otel.ledger import DEFAULT_GRACE_NS, MAX_READY, OtelLedger
from burntray.sources.otel.names import DEFAULT_MAX_MODELS
from burntray.sources.otel.receiver import OtlpReceiver
from burntray.sources.record_source import RecordSource
from burntray.store.history import HistoryStore

log = get_logger(__name__)

RETRY_S = 30.0
ISOLATE_AFTER = 3  # failed writes of the same records before they are written one by one
_WRITE_FAILED = "history write failed: "  # the record-source base's prefix for a failed write
# The monitor is woken at most this often: a burst of exports is counted in one poll (one
# history transaction, one snapshot) instead of one each, which is what lets one client send
# 2,000 exports a second; the first export after a quiet spell still wakes it at once.
WAKE_GAP_S = 0.005


class OtelSource(RecordSource):
    name = "otel"
    label = "OpenTelemetry (OTLP)"
    capabilities = Capabilities(real_tokens=True, per_model=True, upstream_cost=True)

    def __init__(
        self,
        listen: str,
        prices: PriceTable,
        history: HistoryStore | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
        *,
        token: str = "",
        grace_ns: int = DEFAULT_GRACE_NS,
        retry_s: float = RETRY_S,
        receiver_options: dict[str, Any] | None = None,
        max_models: int = DEFAULT_MAX_MODELS,
        team_host: str = "",
    ) -> None:
        # before the base: it may load our state
        self.ledger = OtelLedger(prices, grace_ns, max_models)
        self._prices = prices  # a hub prices its machines' hexai minutes with them
        self.listen = listen
        self._token = token
        self._receiver_options = receiver_options or {}
        self.receiver: OtlpReceiver | None = None
        self._wake: Callable[[], None] | None = None
        self._waker: CoalescingWaker | None = None
        self._next_try = 0.0
        self._retry_s = retry_s
        self._failed_writes = 0  # consecutive polls whose history write failed
        self._force_state = False  # the next save_state is whole (a write failed)
        self._hub: Any = None  # the team records' store, made on the first one received
        self._team_host = team_host  # this machine's own name at a hub: its records not kept
        super().__init__(history, clock_ns)
        self.empty_reason = (
            "not listening in this process: figures are what a running burntray received"
        )

    # --- lifecycle --------------------------------------------------------------------------
    def start(self, wake: Callable[[], None]) -> None:
        self._wake = wake
        if self._waker is not None:
            self._waker.close()
        self._waker = CoalescingWaker(wake, WAKE_GAP_S)
        self._listen()

    def _listen(self) -> None:
        self._next_try = time.monotonic() + self._retry_s
        try:
            host, port = split_host_port(self.listen)
            receiver = OtlpReceiver(
                host, port, self._on_export, token=self._token, **self._receiver_options
            )
            receiver.start()
        except ValueError as exc:
            self.problem = f"otel.listen: {exc}"
            log.error("otel: not listening: %s", exc)  # said, not only shown in the menu
            return
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                why = "the port is in use (another burntray or an OpenTelemetry Collector?)"
            else:
                why = exc.strerror or str(exc)
            self.problem = (
                f"cannot listen on {self.listen}: {why}; set otel.listen or --otlp, "
                f"retrying every {self._retry_s:.0f} s"
            )
            log.warning("otel: %s", self.problem)
            return
        self.receiver = receiver
        self.problem = ""
        self.empty_reason = f"listening on {receiver.address}; nothing received yet"
        log.info("otel: OTLP/HTTP receiver on %s", receiver.address)

    def _on_export(self, path: str, message: Message, received_ns: int) -> Rejected | None:
        if path == "/v1/logs":
            team = self._team_records(message)
            if team is not None:
                return team
        rejected = self.ledger.on_export(path, message, received_ns)
        waker = self._waker
        if waker is not None:
            waker.nudge()
        return rejected

    def _team_records(self, message: Message) -> Rejected | None:
        """A team machine's records (``service.name`` burntray) go to the hub's store before the
        export is acknowledged; the tools' own logs in the same export go on to the ledger.
        None: the export held none (or only those), else what was refused."""
        from burntray.runtime import team_wire as wire  # noqa: PLC0415 - only on a logs export

        ours, others = wire.split(message.resource_logs)  # type: ignore[attr-defined]
        if not ours:
            return None
        receiver = self.receiver
        if receiver is not None and not is_loopback(receiver.host) and receiver.tls is None:
            # the machines' usage and the hub's token would cross the network readable
            raise OtlpError(
                403,
                "this hub takes team records beyond loopback only over TLS: start it with "
                "--tls-cert and --tls-key",
            )
        if self._events is None:  # nothing durable to write to: refuse, the machine keeps them
            raise OtlpError(503, "the hub has no history to store team records in")
        if self._hub is None:
            from burntray.sources.hub.ingest import HubIngest  # noqa: PLC0415

            self._hub = HubIngest(self._events, self._team_host, self._prices)
        refused, why = self._hub.take(ours)
        if self._waker is not None:  # the team's figures are new: the next snapshot shows them
            self._waker.nudge()
        if others:
            del message.resource_logs[:]  # type: ignore[attr-defined]
            message.resource_logs.extend(others)  # type: ignore[attr-defined]
            rest = self.ledger.on_export("/v1/logs", message, self._clock_ns())
            if self._waker is not None:
                self._waker.nudge()
            if rest is not None:
                return Rejected(refused + rest.n, rest.message or why)
        return Rejected(refused, why) if refused else Rejected(0, "")

    def close(self) -> None:
        started = self._wake is not None
        if self.receiver is not None:
            self.receiver.close()
            self.receiver = None
        if self._waker is not None:
            self._waker.close()
            self._waker = None
        self._wake = None
        if started:
            self._save_final_state()

    def _save_final_state(self) -> None:
        """What lags in the saved state (tallies, fold counts, last uses: ``STATE_EVERY_NS``),
        written on the way out; only when every record it covers is in the history, so the
        state never runs ahead of the records it describes."""
        if self._events is None or self._memory or self.ledger.pending():
            return
        self._force_state = True
        try:
            self._save_state()
        except Exception:  # the history is going away with us: said, never raised
            log.exception("otel: resume state not saved on close")

    # --- the record source ------------------------------------------------------------------
    def read_new(self) -> list[UsageRecord]:
        if self._wake is not None and self.receiver is None and time.monotonic() >= self._next_try:
            self._listen()
        carried = self._unsaved()
        return carried + self.ledger.take(self._clock_ns())

    def _unsaved(self) -> list[UsageRecord]:
        """Records whose history write failed last poll (the base keeps them in ``_memory``),
        to be written again now; the failure stops being the status until a write fails."""
        if self.problem.startswith(_WRITE_FAILED):
            self.problem = ""
        if self._events is None or not self._memory:
            self._failed_writes = 0
            return []
        carried, self._memory = self._memory, []
        self._force_state = True
        self._failed_writes += 1
        if len(carried) > MAX_READY:  # the history has been failing for long: keep the newest
            self.ledger.dropped += len(carried) - MAX_READY
            carried = carried[-MAX_READY:]
        if self._failed_writes >= ISOLATE_AFTER:
            carried = self._one_by_one(carried)
        return carried

    def _one_by_one(self, records: list[UsageRecord]) -> list[UsageRecord]:
        """Write each record alone: the ones refused while others are taken are dropped and
        counted; when none is taken it is the database, and all are kept."""
        events = self._events
        assert events is not None
        refused: list[tuple[UsageRecord, Exception]] = []
        for record in records:
            try:
                events.ingest(self.name, [record])
            except Exception as exc:
                refused.append((record, exc))
        if len(refused) == len(records):
            return records
        self._failed_writes = 0
        for record, why in refused:
            log.error("otel: record %s refused by the history, dropped: %s", record.key, why)
        if refused:
            self.ledger.failed += len(refused)
            self.ledger.last_error = (
                f"{len(refused)} record(s) refused by the history: {refused[-1][1]}"
            )
        return []

    def health(self) -> tuple[bool, str]:
        """Whether the receiver is counting what it acknowledges, and if not why (for a
        readiness check such as ``/healthz``)."""
        if self._wake is not None and (self.receiver is None or not self.receiver.running):
            return False, self.problem or f"not listening on {self.listen}"
        if self.problem:
            return False, self.problem
        if self._memory and self._events is not None:
            return False, f"{len(self._memory)} records not yet written to the history"
        text = "ok"
        if self.ledger.rejected:
            text += f"; {self.ledger.rejected} records/points rejected"
        if self.ledger.failed:
            text += f"; {self.ledger.failed} lost ({self.ledger.last_error})"
        return True, text

    def listening_health(self) -> tuple[bool, str]:
        """Ready while the receiver listens and its counting (the ledger and the history writes
        behind it) is not in an error state; the why names the receiver for ``/healthz``."""
        if self.receiver is None or not self.receiver.running:
            return False, f"OTLP receiver not listening: {self.problem or 'stopped'}"
        ok, why = self.health()
        if not ok:
            return False, f"OTLP receiver not counting: {why}"
        return True, why

    def folded_since_start(self) -> dict[str, int]:
        with self.ledger.lock:
            return self.ledger.names.folded_since_start()

    def save_state(self) -> str | None:
        """The ledger's state when counting depends on it (see ``OtelLedger.save_state``);
        always the whole of it beside records carried over from a failed write, since the
        state taken for them then was never written."""
        force, self._force_state = self._force_state, False
        return self.ledger.save_state(None if force else self._clock_ns())

    def load_state(self, state: str) -> None:
        self.ledger.load_state(state)

    def facts(self) -> tuple[UpstreamFact, ...]:
        facts = [
            UpstreamFact(
                "OTLP receiver",
                f"http://{self.receiver.address}" if self.receiver else "not listening",
            )
        ]
        if self.receiver is not None:
            stats = self.receiver.stats
            refused = sum(stats.rejected.values())
            text = f"{stats.accepted} exports"
            if refused:
                text += f", {refused} refused (last: {stats.last_error})"
            facts.append(UpstreamFact("Received", text))
        for label, tally in (("Understood", self.ledger.seen), ("Ignored", self.ledger.ignored)):
            if tally:
                top = sorted(tally.items(), key=lambda kv: -kv[1])[:6]
                facts.append(UpstreamFact(label, ", ".join(f"{k} ({n})" for k, n in top)))
        with self.ledger.lock:
            names = self.ledger.names
            folded = sorted(names.folded.items(), key=lambda kv: -kv[1])[:6]
        if folded:
            facts.append(
                UpstreamFact(
                    "Folded",
                    ", ".join(f"{tool} ({n:,} requests)" for tool, n in folded)
                    + f' counted as model "other": over {names.limit} model names per tool '
                    "(otel.max_models)",
                )
            )
        return tuple(facts)

    def own_costs(self, start_ns: int, end_ns: int) -> list[OwnCost]:
        """The tools' own cost of each request they sent with one (Claude Code's ``cost_usd``
        or ``cost.usage``) in ``[start, end)``, from the history; priced ones are burntray's."""
        if self._events is None:
            return []
        return [
            OwnCost(r.session, r.ts_ns, r.cost_usd, OTLP, per_request=True)
            for r in self._events.records(self.name, start_ns, end_ns)
            if r.cost_from_upstream and r.cost_usd is not None and r.session
        ]


class CoalescingWaker:
    """Calls ``wake`` after every ``nudge``, but at most once per ``gap_s``.

    A nudge after a quiet spell wakes at once; nudges within ``gap_s`` of the last wake are
    folded into one wake at the end of the gap. Nothing is lost: a nudge always comes after its
    export is in the ledger, and every nudge is followed by a wake no later than ``gap_s``.
    """

    def __init__(self, wake: Callable[[], None], gap_s: float) -> None:
        self._wake = wake
        self._gap_s = gap_s
        self._nudged = threading.Event()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="burntray-otlp-wake", daemon=True)
        self._thread.start()

    def nudge(self) -> None:
        self._nudged.set()

    def close(self) -> None:
        self._closed.set()
        self._nudged.set()
        self._thread.join(2.0)

    def _run(self) -> None:
        last = -self._gap_s
        while True:
            self._nudged.wait()
            if self._closed.is_set():
                return
            self._nudged.clear()  # a nudge from here on gets a wake of its own
            delay = last + self._gap_s - time.monotonic()
            if delay > 0 and self._closed.wait(delay):
                return
            last = time.monotonic()
            try:
                self._wake()
            except Exception:  # the monitor's wake is an Event.set; never end this thread
                log.exception("otel: waking the monitor failed")
