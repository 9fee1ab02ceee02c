"""The cburn daemon (``cburn daemon``): a live client of its HTTP API (spec section 2).

Two modes:

- **Streaming** (the tray and terminal monitor call ``start``): one worker thread fetches
  ``/v1/status`` (seed, poll interval, period, ``last_error``) and ``/v1/events`` (the ring
  buffer, backfilled idempotently), then follows ``/v1/stream`` with httpx + httpx-sse, calling
  ``wake()`` on every new snapshot. The stream has no heartbeats and may be silent for hours, so
  after ``probe_interval_s`` of silence the worker probes ``/healthz`` (and refreshes the
  status): alive means reconnect quietly, dead means offline. A refused connection, a broken
  stream, a failed probe or garbage marks the source offline with the reason and retries with
  exponential backoff and jitter (0.5 s doubling to 30 s).
- **One-shot** (``burntray status``: ``poll`` without ``start``): status + events, no stream,
  finished within ``ONE_SHOT_BUDGET_S`` whatever the daemon does.

The snapshot inside each event is the truth; deltas are never summed (they can be negative or
lost to the daemon's 16-slot subscriber buffer). Windowed figures come from the samples in
``sources/cburn/history.py`` (positive increases only; see there).

Threads: the worker only parses and queues samples under a lock; ``poll`` and ``snapshot`` run
on the monitor thread and are the only code touching the store.

Long, but one job: the client of one cburn daemon (status, events, stream, probes).
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import httpx_sse
import msgspec

from burntray.lazylog import get_logger
from burntray.model.aggregate import rpm
from burntray.model.format import human_count, usd
from burntray.model.snapshot import (
    Capabilities,
    Snapshot,
    SourceStatus,
    Totals,
    UpstreamFact,
)
from burntray.model.timefmt import NS_PER_DAY, NS_PER_HOUR
from burntray.sources.cburn import history as cburn_history
from burntray.sources.cburn import wire
from burntray.sources.cburn.client import (
    BoundedLines,
    CburnError,
    QuietStream,
    Timing,
    check_response,
    describe_error,
    fetch_status_and_events,
    get,
    new_client,
)
from burntray.sources.cburn.discovery import Discovery
from burntray.sources.cburn.history import Sample
from burntray.sources.cburn.period import DaemonPeriod
from burntray.sources.cburn.team import CburnTeam
from burntray.store.history import HistoryStore

log = get_logger(__name__)

SOURCE_NAME = "cburn"
ONE_SHOT_BUDGET_S = 4.5  # `burntray status` answers within 5 s even when the daemon hangs
PRUNE_EVERY_S = 60.0
LIVE_SPAN_NS = 25 * NS_PER_HOUR  # 24 h windows (and alert baselines) from memory
SAVE_AFTER_S = 1.0  # samples wait this long in memory before they are written to the history


# The daemon reports totals of API calls, tokens and its own cost estimate, not per model.
CBURN_CAPABILITIES = Capabilities(real_tokens=True, per_model=False, upstream_cost=True)


def period_facts(period: DaemonPeriod) -> tuple[UpstreamFact, ...]:
    """The daemon's own figures for its --days period (not the chosen window)."""
    facts = [
        UpstreamFact(
            f"daemon, last {period.days} d",
            f"{usd(period.estimated_cost_usd)} est. · {usd(period.cost_per_day_usd)}/active day",
        ),
        UpstreamFact(
            "",
            f"{human_count(period.tokens)} tokens · {period.sessions} sessions · "
            f"cache hits {period.cache_hit_rate:.0%}",
        ),
    ]
    if period.last_error:
        facts.append(UpstreamFact("daemon's last poll failed", period.last_error))
    return tuple(facts)


class CburnSource:
    """See the module docstring. ``poll``/``snapshot`` on one thread; ``close`` from any."""

    name = SOURCE_NAME
    label = "cburn daemon"

    def __init__(
        self,
        discovery: Discovery,
        history: HistoryStore | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
        *,
        timing: Timing | None = None,
        retention_days: int = 90,
        rng: random.Random | None = None,
        team: bool = False,
    ) -> None:
        self.discovery = discovery
        self.url = discovery.url
        self.timing = timing or Timing()
        self._clock_ns = clock_ns
        self._retention_days = retention_days
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        # Samples live in memory (a private SQLite) so publishing never waits on the disk;
        # the history file gets them in batches and answers windows older than memory holds.
        self._live = HistoryStore(Path(":memory:"))
        cburn_history.ensure_schema(self._live)
        self._history: HistoryStore | None = None
        self._team_wanted = team  # [team] hub set: its minutes go to the hub (``cburn.team``)
        self._team: CburnTeam | None = None
        self._unsaved: list[Sample] = []
        self._unsaved_since = 0.0
        self._live_from_ns: int | None = None  # windows from here on are exact in memory
        self._session_first_ns: int | None = None  # first sample this process got from the daemon
        self._lock = threading.Lock()
        self._pending: list[Sample] = []
        self._status = SourceStatus("starting", f"connecting to {self.url}")
        self._wire_status: wire.WireStatus | None = None
        self._latest: wire.WireSnapshot | None = None
        self._latest_at_ns: int | None = None
        self._shown: tuple[SourceStatus, DaemonPeriod | None, int | None]
        self._last_ok_ns: int | None = None
        self._changed = True
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._wake: Callable[[], None] = lambda: None
        self._live_socket: socket.socket | None = None
        self._next_prune = 0.0
        self._run_ns = 0  # the connected daemon's started_at, and its period key
        self._period_key = ""
        self._last_id = 0  # last stream event id: gaps are events the daemon dropped
        self._stream_opened = False  # the last connection reached the stream
        self.stats = {"connects": 0, "events": 0, "dropped": 0, "probes": 0}
        if discovery.error:
            self._status = SourceStatus("error", discovery.error)
        self._shown = (self._status, None, None)
        if history is not None:
            self._use_history(history)

    # --- Source protocol --------------------------------------------------------------
    @property
    def status(self) -> SourceStatus:
        with self._lock:
            return self._status

    def start(self, wake: Callable[[], None]) -> None:
        if self._thread is not None or self.discovery.error:
            return
        self._wake = wake
        self._thread = threading.Thread(target=self._run, name="burntray-cburn", daemon=True)
        self._thread.start()

    def poll(self) -> bool:
        """Streaming: record what the worker received. One-shot: fetch status + events."""
        if self._thread is None and not self.discovery.error:
            self._fetch_once()
        with self._lock:
            pending, self._pending = self._pending, []
            changed, self._changed = self._changed, False
            # snapshot() shows the status and figures of this moment, matching the samples
            # stored now (not whatever arrives before it is called)
            self._shown = (self._status, self._period_locked(), self._latest_at_ns)
        if pending:
            cburn_history.ingest(self._live, pending)
            first = min(sample.at_ns for sample in pending)
            if self._session_first_ns is None or first < self._session_first_ns:
                self._session_first_ns = first
            if self._history is not None:
                if not self._unsaved:
                    self._unsaved_since = time.monotonic()
                self._unsaved.extend(pending)
        # Fresh samples are saved on a later tick, so a burst is published before any write
        if self._unsaved and time.monotonic() - self._unsaved_since >= SAVE_AFTER_S:
            self._save()
        if self._team is not None and self._thread is not None:
            try:
                self._team.catch_up()
            except Exception:  # the hub's copy waits; the figures here are unaffected
                log.exception("cburn: writing the minutes for the team's hub failed")
        self._maybe_prune()
        return changed or bool(pending)

    def needs_history(self, window_ns: int, now_ns: int) -> bool:
        if self._history is not None:
            return False
        first = cburn_history.first_sample_ns(self._live)
        return first is not None and now_ns - window_ns < first

    def attach_history(self, history: HistoryStore) -> None:
        if self._history is None:
            self._use_history(history)

    def _use_history(self, history: HistoryStore) -> None:
        """Record into ``history`` from now on and load what memory lacks of the last day."""
        cburn_history.ensure_schema(history)
        cburn_history.ingest(history, cburn_history.all_samples(self._live))
        since = self._clock_ns() - LIVE_SPAN_NS
        recent = cburn_history.samples_since(history, since)
        cburn_history.ingest(self._live, recent)
        self._history = history
        if self._team_wanted:
            self._team = CburnTeam(history)
        first = cburn_history.first_sample_ns(self._live)
        older = first is not None and cburn_history.has_samples_before(history, first)
        # nothing older in the history: memory holds everything, every window is exact
        self._live_from_ns = first if older else None

    def _save(self) -> None:
        if self._history is not None and self._unsaved:
            batch, self._unsaved = self._unsaved, []
            cburn_history.ingest(self._history, batch)
            if self._team is not None:
                try:
                    self._team.saved(min(s.at_ns for s in batch), self._thread is not None)
                except Exception:  # the hub's copy waits; the figures here are unaffected
                    log.exception("cburn: writing the minutes for the team's hub failed")

    def _covered_by_memory(self, cutoff_ns: int) -> bool:
        return (
            self._history is None or self._live_from_ns is None or cutoff_ns >= self._live_from_ns
        )

    def snapshot(self, window_ns: int, now_ns: int | None = None) -> Snapshot:
        now = self._clock_ns() if now_ns is None else now_ns
        cutoff = now - window_ns
        from_disk = not self._covered_by_memory(cutoff)
        if from_disk:
            self._save()  # the history must hold everything memory has for this window
            assert self._history is not None
            figures = cburn_history.window(self._history, cutoff, now)
        else:
            figures = cburn_history.window(self._live, cutoff, now)
        with self._lock:
            status, period, data_updated = self._shown
        # part of the window is what an earlier run recorded (loaded or read from the file)
        history_used = self._history is not None and (
            self._session_first_ns is None or cutoff < self._session_first_ns
        )
        return Snapshot(
            source=SOURCE_NAME,
            window_ns=window_ns,
            as_of_ns=now,
            status=status,
            totals=Totals(
                reqs=figures.api_calls,
                rpm=rpm(figures.api_calls, window_ns),
                tokens=figures.tokens,
                cost_usd=figures.cost_usd,
            ),
            tokens_estimated=False,
            cost_estimated=True,  # cburn's own estimate (its price table; unknown models $0)
            history_used=history_used,
            data_updated_ns=data_updated,
            upstream=period,
            capabilities=CBURN_CAPABILITIES,
            facts=period_facts(period) if period is not None else (),
        )

    def close(self) -> None:
        self._stop.set()
        self._interrupt_stream()
        thread = self._thread
        if thread is not None:
            thread.join(self.timing.connect_timeout_s + self.timing.request_timeout_s + 1.0)
        try:
            self._save()
        except Exception:  # e.g. the history was closed first: log, never raise from close
            log.exception("saving cburn samples to the history failed")
        self._live.close()

    # --- shared state -------------------------------------------------------------------
    def _period_locked(self) -> DaemonPeriod | None:
        if self._wire_status is None:
            return None
        try:
            return wire.daemon_period(self._wire_status, self._latest)
        except wire.WireFormatError:
            return None

    def _publish(self) -> None:
        self._changed = True
        self._wake()

    def _set_status(self, status: SourceStatus) -> None:
        with self._lock:
            if status == self._status:
                return
            self._status = status
        self._publish()

    def _set_failed(self, reason: str, retry_in: float | None = None) -> None:
        detail = reason + (f"; retrying in {retry_in:.1f} s" if retry_in is not None else "")
        with self._lock:
            stale = self._latest is not None
            last_ok = self._last_ok_ns
        self._set_status(SourceStatus("offline", detail, stale=stale, last_ok_ns=last_ok))

    def _healthy_status(self) -> SourceStatus:
        # called with the lock held
        now = self._clock_ns()
        self._last_ok_ns = now
        status = self._wire_status
        assert status is not None
        if status.last_error:
            return SourceStatus(
                "error",
                f"the daemon's last poll failed: {status.last_error}",
                stale=True,
                last_ok_ns=now,
            )
        if self._latest_at_ns is None:
            return SourceStatus("empty", f"the daemon at {self.url} has not polled yet", False, now)
        mode = "live" if self._thread is not None else "read"
        return SourceStatus(
            "ok",
            f"{mode} from {self.url}, daemon polls every {status.poll_interval_sec} s",
            False,
            now,
        )

    def _accept_status(self, status: wire.WireStatus, events: list[wire.WireEvent]) -> None:
        run_ns = wire.go_time_ns(status.started_at, "/v1/status started_at") or 0
        period = wire.period_key(status)
        samples: list[Sample] = []
        latest, latest_at = None, None
        for what, snap in [
            *((f"/v1/events[{i}].snapshot", ev.snapshot) for i, ev in enumerate(events)),
            ("/v1/status summary", status.summary),
        ]:
            sample = wire.sample_of(snap, run_ns, period, what)
            if sample is None:
                continue
            samples.append(sample)
            if latest_at is None or sample.at_ns >= latest_at:
                latest, latest_at = snap, sample.at_ns
        with self._lock:
            self._run_ns, self._period_key = run_ns, period
            self._wire_status = status
            if latest_at is not None and (
                self._latest_at_ns is None or latest_at >= self._latest_at_ns
            ):
                self._latest, self._latest_at_ns = latest, latest_at
            self._pending.extend(samples)
            self._status = self._healthy_status()
            self._last_id = 0
        self._publish()

    def _accept_event(self, event: wire.WireEvent) -> None:
        sample = wire.sample_of(event.snapshot, self._run_ns, self._period_key, "event.snapshot")
        with self._lock:
            if event.id > 0:
                if self._last_id and event.id > self._last_id + 1:
                    self.stats["dropped"] += event.id - self._last_id - 1
                self._last_id = event.id
            self.stats["events"] += 1
            if sample is not None:
                self._pending.append(sample)
                if self._latest_at_ns is None or sample.at_ns >= self._latest_at_ns:
                    self._latest, self._latest_at_ns = event.snapshot, sample.at_ns
                if self._wire_status is not None:
                    # a published event (id > 0, not a greeting) means a poll succeeded, and
                    # cburn clears last_error then
                    if event.id > 0 and self._wire_status.last_error:
                        self._wire_status = msgspec.structs.replace(
                            self._wire_status, last_error=""
                        )
                    if self._status.state != "ok":
                        self._status = self._healthy_status()
        self._publish()

    def _maybe_prune(self) -> None:
        if time.monotonic() < self._next_prune:
            return
        self._next_prune = time.monotonic() + PRUNE_EVERY_S
        now = self._clock_ns()
        try:
            if self._history is None:
                cburn_history.prune(self._live, now - self._retention_days * NS_PER_DAY)
            else:
                cburn_history.prune(self._history, now - self._retention_days * NS_PER_DAY)
                if cburn_history.prune_keeping_baseline(self._live, now - LIVE_SPAN_NS):
                    self._live_from_ns = cburn_history.first_sample_ns(self._live)
        except Exception:
            log.exception("pruning cburn history failed")

    # --- HTTP -------------------------------------------------------------------------------
    def _client(self) -> httpx.Client:
        return new_client(self.timing)

    def _fetch_status_and_events(
        self, client: httpx.Client, deadline: float | None = None
    ) -> tuple[wire.WireStatus, list[wire.WireEvent]]:
        return fetch_status_and_events(client, self.url, self.timing, deadline)

    def _fetch_once(self) -> None:
        deadline = time.monotonic() + ONE_SHOT_BUDGET_S
        try:
            with self._client() as client:
                status, events = self._fetch_status_and_events(client, deadline)
                self._accept_status(status, events)
        except CburnError as exc:
            self._set_failed(str(exc))
        except wire.WireFormatError as exc:
            self._set_failed(str(exc))

    # --- the worker -------------------------------------------------------------------------
    def _run(self) -> None:
        delay = self.timing.backoff_initial_s
        client = self._client()
        try:
            while not self._stop.is_set():
                try:
                    streamed = self._connect_and_stream(client)
                except QuietStream:
                    continue
                except CburnError as exc:
                    streamed = False
                    if self._stop.is_set():
                        break
                    if self._stream_opened:  # it was working: start the backoff afresh
                        self._stream_opened = False
                        delay = self.timing.backoff_initial_s
                    wait = min(self.timing.backoff_cap_s, delay) * self._rng.uniform(0.75, 1.25)
                    wait = min(wait, self.timing.backoff_cap_s)
                    self._set_failed(str(exc), retry_in=wait)
                    log.info("cburn: %s; retrying in %.1f s", exc, wait)
                    self._stop.wait(wait)
                    delay = min(self.timing.backoff_cap_s, delay * 2)
                    continue
                if streamed:
                    delay = self.timing.backoff_initial_s
        except Exception as exc:  # never die silently: the user must see why numbers stop
            log.exception("cburn worker crashed")
            self._set_failed(f"internal error: {exc!r}")
        finally:
            client.close()

    def _connect_and_stream(self, client: httpx.Client) -> bool:
        status, events = self._fetch_status_and_events(client)
        if self._stop.is_set():
            return False
        try:
            self._accept_status(status, events)
        except wire.WireFormatError as exc:
            raise CburnError(str(exc)) from None
        with self._lock:
            self.stats["connects"] += 1
        url = self.url + "/v1/stream"
        timeout = httpx.Timeout(self.timing.probe_interval_s, connect=self.timing.connect_timeout_s)
        try:
            with httpx_sse.connect_sse(client, "GET", url, timeout=timeout) as source:
                response = source.response
                check_response(response, "/v1/stream", "text/event-stream")
                response.stream = BoundedLines(response.stream, self.timing.max_line_bytes)
                self._hold_socket(response)
                self._stream_opened = True
                try:
                    for sse in source.iter_sse():
                        if self._stop.is_set():
                            return True
                        try:
                            self._accept_event(wire.decode_event(sse.data.encode()))
                        except wire.WireFormatError as exc:
                            raise CburnError(str(exc)) from None
                finally:
                    self._hold_socket(None)
            if self._stop.is_set():
                return True
            raise CburnError(f"the daemon at {self.url} closed the stream")
        except httpx.ReadTimeout:
            if self._stop.is_set():
                return True
            self._probe(client)
            raise QuietStream from None
        except (httpx.RemoteProtocolError, httpx.ReadError):
            if self._stop.is_set():
                return True
            raise CburnError(f"the daemon at {self.url} closed the stream") from None
        except httpx.HTTPError as exc:
            if self._stop.is_set():
                return True
            raise CburnError(describe_error(exc, url, self.timing)) from None
        except httpx_sse.SSEError as exc:
            raise CburnError(f"/v1/stream: {exc}") from None

    def _probe(self, client: httpx.Client) -> None:
        """After a silent probe interval: is the daemon alive? Raises ``CburnError`` if not."""
        with self._lock:
            self.stats["probes"] += 1
        body = get(client, self.url, "/healthz", want="text/plain", limit=4096, timing=self.timing)
        if body.strip() != b"ok":
            raise CburnError(f"/healthz answered {body[:40]!r}, not ok")

    def _hold_socket(self, response: httpx.Response | None) -> None:
        sock = None
        if response is not None:
            stream = response.extensions.get("network_stream")
            if stream is not None:
                sock = stream.get_extra_info("socket")
        with self._lock:
            self._live_socket = sock
        if response is not None and self._stop.is_set():
            self._interrupt_stream()

    def _interrupt_stream(self) -> None:
        """Wake the worker out of a blocking stream read (close alone does not, on Linux)."""
        with self._lock:
            sock = self._live_socket
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
