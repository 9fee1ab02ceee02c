"""The shared half of every source that yields per-request records (agent logs, OTLP, yoi).

A subclass reads its upstream and returns the records that are new since its last read
(``read_new``); this base keeps them in burntray's history (or in memory when no history can be
had), remembers the subclass's resume state (file offsets) next to them, and builds Snapshots.
Nothing here raises into the monitor: a failed read becomes the status, the last good figures
stay visible, marked stale.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from msgspec.structs import replace

from burntray.lazylog import get_logger
from burntray.model.pricing import PriceTable
from burntray.model.snapshot import (
    Capabilities,
    Snapshot,
    SourceStatus,
    Totals,
    UpstreamFact,
    UsageRow,
)
from burntray.model.usage import UsageRecord, group_records, summarise_records, summarise_usage
from burntray.store.history import CLEARED_KEY, RESUME_STATE_PREFIX, HistoryStore
from burntray.store.usage_events import UsageEvents

log = get_logger(__name__)

RECORD_CAPABILITIES = Capabilities(real_tokens=True, per_model=True)
# Records kept in memory when there is no history (a broken history database): the last 31
# days at most, the longest window burntray shows.
MEMORY_SPAN_NS = 31 * 86_400 * 1_000_000_000


class RecordSource:
    """Base of record-yielding sources. Subclasses set ``name``/``label`` and implement
    ``read_new``; ``start``, ``close``, ``facts``, ``save_state`` and
    ``load_state`` are optional."""

    name = "records"
    label = "records"
    capabilities = RECORD_CAPABILITIES

    def __init__(
        self, history: HistoryStore | None = None, clock_ns: Callable[[], int] = time.time_ns
    ) -> None:
        self._clock_ns = clock_ns
        self._events: UsageEvents | None = None
        self._memory: list[UsageRecord] = []
        self._status = SourceStatus("starting", "first read pending", stale=True)
        self._last_ok_ns: int | None = None
        self._data_updated_ns: int | None = None
        self.problem = ""  # set by read_new when the upstream cannot be read; "" when fine
        self.empty_reason = ""  # set by read_new when there is nothing to read yet
        # set by read_new when part of the upstream could not be read (the rest is counted):
        # the figures are partial, and this says what is missing
        self.partial_reason = ""
        self._cleared_seen: str | None = None  # the history's clear count when last looked
        self._rewake: Callable[[], None] | None = None  # asks the monitor for the next poll now
        if history is not None:
            self.attach_history(history)

    # --- for subclasses ---------------------------------------------------------------------
    def read_new(self) -> list[UsageRecord]:
        """Records new since the last call. Never raises: set ``self.problem`` instead."""
        raise NotImplementedError

    def save_state(self) -> str | None:
        """Resume state (e.g. JSON of file offsets) to keep beside the records, or None."""
        return None

    def load_state(self, state: str) -> None:
        """Resume from what ``save_state`` returned in an earlier run."""

    def reset_reading(self) -> bool:
        """Forget every read position (and what was learnt reading), so the next ``read_new``
        reads the upstream from the start: burntray's history was cleared under a running
        source. False when there is nothing to re-read (pushed data: the default)."""
        return False

    def facts(self) -> tuple[UpstreamFact, ...]:
        return ()

    @property
    def price_table(self) -> PriceTable | None:
        """The table this source prices its records with (None: it prices nothing itself).

        A record keeps only its cost, not the row of the table that gave it; the snapshot names
        that row again from the same table, so every view can say what priced a model."""
        return None

    def start(self, wake: Callable[[], None]) -> None:
        """Begin watching (worker threads only; call ``wake`` when data arrives)."""
        self._rewake = wake

    def close(self) -> None:
        """Release what ``start`` took."""

    # --- the Source protocol ---------------------------------------------------------------
    @property
    def status(self) -> SourceStatus:
        return self._status

    def needs_history(self, window_ns: int, now_ns: int) -> bool:
        return self._events is None

    def attach_history(self, history: HistoryStore) -> None:
        if self._events is not None:
            return
        self._events = UsageEvents(history)
        self._cleared_seen = history.get_meta(CLEARED_KEY)
        state = history.get_meta(self._state_key)
        if state is not None and not self._memory:
            try:
                self.load_state(state)
            except Exception:  # a state from another version: read from the start again
                log.warning("%s: resume state unusable, reading from the start", self.name)
        if self._memory:
            self._events.ingest(self.name, self._memory)
            self._memory = []
            self._save_state()

    @property
    def _state_key(self) -> str:
        return f"{RESUME_STATE_PREFIX}{self.name}"

    def _save_state(self) -> None:
        if self._events is None:
            return
        state = self.save_state()
        if state is not None:
            self._events.history.set_meta(self._state_key, state)

    def _history_was_cleared(self) -> bool:
        """True (once) when burntray's history was cleared since this source last looked: by
        another process (``clear-cache --history``) or the tray's menu. One indexed read."""
        if self._events is None:
            return False
        try:
            cleared = self._events.history.get_meta(CLEARED_KEY)
        except Exception:  # an unreadable history shows where it is written; reading goes on
            log.exception("%s: history unreadable", self.name)
            return False
        if cleared == self._cleared_seen:
            return False
        self._cleared_seen = cleared
        return True

    def poll(self) -> bool:
        now = self._clock_ns()
        if self._history_was_cleared() and self.reset_reading():
            # The records are gone and so are the saved read positions: read everything again.
            # This poll only says so (a re-read of a GB of logs takes a while, and the tray
            # shows this state meanwhile); the next one, asked for at once, reads.
            self._data_updated_ns = None
            if self._rewake is not None:
                self._rewake()
            self._status = SourceStatus(
                "starting",
                f"re-reading {self.label} (burntray's history was cleared)",
                stale=True,
                last_ok_ns=self._last_ok_ns,
            )
            return True
        try:
            records = self.read_new()
        except Exception as exc:  # a bug in a reader must show, not kill the monitor
            log.exception("%s: read failed", self.name)
            records = []
            self.problem = f"internal error: {exc!r}"
        changed = bool(records)
        if records:
            self._data_updated_ns = max(r.ts_ns for r in records)
            if self._events is not None:
                state = self.save_state()
                meta = None if state is None else (self._state_key, state)
                try:
                    # the records and the resume state past them, in one transaction
                    self._events.ingest(self.name, records, meta)
                except Exception as exc:
                    log.exception("%s: history write failed", self.name)
                    self.problem = f"history write failed: {exc}"
                    self._memory.extend(records)
            else:
                self._memory.extend(records)
                cutoff = now - MEMORY_SPAN_NS
                if self._memory and self._memory[0].ts_ns < cutoff:
                    self._memory = [r for r in self._memory if r.ts_ns >= cutoff]
        elif self._events is not None and self.problem == "":
            self._save_state()  # offsets can move on lines that held no usage
        old = self._status
        if self.problem:
            self._status = SourceStatus(
                "error", self.problem, stale=True, last_ok_ns=self._last_ok_ns
            )
        elif self.partial_reason:
            # what could be read is counted and current; the status says what is missing, as
            # ``all`` does for a broken member ("partly stale", exit 1 from ``status``)
            self._status = SourceStatus(
                "ok", self.partial_reason, stale=True, last_ok_ns=now, partial=True
            )
            self._last_ok_ns = now
        elif self.empty_reason and not self._has_data():
            self._status = SourceStatus("empty", self.empty_reason, last_ok_ns=now)
            self._last_ok_ns = now
        else:
            self._status = SourceStatus("ok", last_ok_ns=now)
            self._last_ok_ns = now
        return changed or old.state != self._status.state or old.detail != self._status.detail

    def _has_data(self) -> bool:
        if self._events is not None:
            return self._events.has_records(self.name)
        return bool(self._memory)

    def split_snapshot(
        self, window_ns: int, now_ns: int, upstreams: Iterable[str]
    ) -> tuple[Snapshot, dict[str, tuple[Totals, tuple[UsageRow, ...]]]]:
        """The window's Snapshot less the requests of ``upstreams``, and those requests' figures
        per upstream. For a source whose record keys start with ``<upstream>:`` (OTLP from
        several tools): ``all`` leaves out only the tools another source reports."""
        wanted = tuple(dict.fromkeys(upstreams))
        start = now_ns - window_ns
        prefixes = [f"{u}:" for u in wanted]
        parts: dict[str, tuple[Totals, tuple[UsageRow, ...]]] = {}
        if self._events is not None:
            for upstream, prefix in zip(wanted, prefixes, strict=True):
                groups = self._events.prefix_rows(self.name, prefix, start, now_ns + 1)
                parts[upstream] = summarise_usage(groups, window_ns)
        else:
            for upstream, prefix in zip(wanted, prefixes, strict=True):
                mine = [r for r in self._memory if start <= r.ts_ns <= now_ns]
                ups = (r for r in mine if r.key.startswith(prefix))
                parts[upstream] = summarise_usage(group_records(ups), window_ns)
        return self._snapshot(window_ns, now_ns, tuple(prefixes)), parts

    def snapshot(self, window_ns: int, now_ns: int | None = None) -> Snapshot:
        return self._snapshot(window_ns, self._clock_ns() if now_ns is None else now_ns, ())

    def _snapshot(self, window_ns: int, now: int, prefixes: tuple[str, ...]) -> Snapshot:
        """The window's figures, less the records whose keys start with ``prefixes``."""
        start = now - window_ns
        totals: Totals
        rows: tuple[UsageRow, ...]
        if self._events is not None:
            # the window includes records stamped at ``now`` (ts >= now - window, as hexai)
            totals, rows = self._events.summarise(
                self.name, start, now + 1, window_ns, without=prefixes
            )
        else:
            totals, rows = summarise_records(
                (
                    r
                    for r in self._memory
                    if start <= r.ts_ns <= now and not (prefixes and r.key.startswith(prefixes))
                ),
                window_ns,
            )
        return Snapshot(
            source=self.name,
            window_ns=window_ns,
            as_of_ns=now,
            status=self._status,
            totals=totals,
            by_model=self._with_price_keys(rows),
            tokens_estimated=False,
            cost_estimated=not self.capabilities.upstream_cost,
            history_used=self._events is not None,
            data_updated_ns=self._data_updated_ns,
            capabilities=self.capabilities,
            facts=self.facts(),
        )

    def _with_price_keys(self, rows: tuple[UsageRow, ...]) -> tuple[UsageRow, ...]:
        """Each priced row with the key of the price that priced it. A source whose upstream
        states the cost (OTLP) names none: burntray's table did not price those requests."""
        prices = self.price_table
        if prices is None or self.capabilities.upstream_cost:
            return rows
        out = []
        for row in rows:
            price = None
            if row.cost_usd is not None and not row.price_key and row.model:
                price = prices.lookup(row.provider, row.model)
            out.append(row if price is None else replace(row, price_key=price.key))
        return tuple(out)
