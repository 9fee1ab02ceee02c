"""From decoded OTLP usage to per-request records, counting every request once.

The rules (each one is a way the same usage could otherwise be counted twice):

- **Delta** points add. Each becomes records keyed by its series and interval, so an exporter
  that retries the same export replaces what it sent instead of adding it again.
- **Cumulative** points become increases per series *and start time*: the first point of a
  (series, start) counts whole (it is everything since the sender started), later ones count
  what they add. A new start time is a sender restart: its values start again from zero, so
  they count whole and nothing from before is added twice. A point older than the last one
  seen (a retry, or out of order) adds nothing. This state is saved with the source's resume
  state, so a restart of burntray does not count a running sender's totals again.
- **Event and metric of the same request**: a tool's log events are per request and exact, its
  metrics are sums over an export interval. A session whose tool sent usage events is counted
  from those events; its metric points are dropped (counted as "covered"). A metric point is
  held for ``grace_ns`` before it is counted, because events of the same interval may still be
  on their way (tools batch logs every few seconds, metrics every minute).
- The GenAI convention's metric (``gen_ai.client.token.usage``) repeats what a tool already
  reports in its own names: it is used only for senders that send neither usage events nor their
  own usage metrics.

Metrics carry no per-request split, so usage known only from metrics becomes one record per
export interval (per model and session); the GenAI histogram's count gives the real number of
requests, within a ceiling: a point's count is a number of requests, and rows are made of it,
so a point that adds more than ``MAX_REQUESTS_PER_POINT`` (or an export more than
``MAX_REQUESTS_PER_EXPORT``) is rejected rather than turned into rows. Everything here is
bounded: pending points, cumulative series and remembered sessions are capped (oldest dropped
first, and counted), and so are the model names a tool's records carry (``otel.names``: past the
bound a request counts under model "other", priced under its own name first). Values arrive
checked (``otel.mapping``); turning a group into records is still done one group at a time, so a
group that cannot be counted is dropped and said, never the rest.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from typing import Final

from google.protobuf.message import Message
from msgspec import Struct
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from burntray.model.pricing import PriceTable
from burntray.model.usage import UsageRecord
from burntray.sources.otel.decode import Rejected
from burntray.sources.otel.mapping import (
    CUMULATIVE,
    DELTA,
    Decoded,
    MetricPoint,
    UsageEvent,
    decode_logs,
)
from burntray.sources.otel.metric_mapping import decode_metrics
from burntray.sources.otel.names import DEFAULT_MAX_MODELS, NameBound

NS: Final = 1_000_000_000
DEFAULT_GRACE_NS: Final = 15 * NS
MAX_READY: Final = 200_000  # records not yet taken by the monitor
MAX_PENDING: Final = 50_000  # metric groups waiting out their grace
MAX_SERIES: Final = 20_000  # cumulative series remembered
MAX_SESSIONS: Final = 20_000  # sessions remembered as "counted from events"
FUTURE_SLACK_NS: Final = 300 * NS  # a sender clock this far ahead is not believed
MAX_NAMES: Final = 64  # distinct names kept in the seen/ignored tallies
# The resume state is written with the records when what counting depends on changed (a new
# session, tool, series point or model name), else at most this often: it holds up to 20,000
# sessions and 20,000 series (about 2 MB of JSON, a quarter of a second to write), and writing it
# on every poll, every 5 ms under a stream of exports, made each one slow.
STATE_EVERY_NS: Final = 10 * NS
# A histogram's count becomes that many request rows: no real sender makes 1,000 requests of
# one model in one session in one export interval, nor 2,000 in one export.
MAX_REQUESTS_PER_POINT: Final = 1_000
MAX_REQUESTS_PER_EXPORT: Final = 2_000


class _Group(Struct):
    """Increments of one tool/model/session at one point time, from one export."""

    tool: str
    provider: str
    model: str
    session: str
    time_ns: int
    tool_specific: bool
    due_ns: int
    key: str
    ts_ns: int = 0  # when it counts: the point's time, or the arrival for a clock far off
    input: float = 0.0
    output: float = 0.0
    cache_read: float = 0.0
    cache_write: float = 0.0
    cost: float | None = None
    reqs: int = 0


class OtelLedger:
    """Thread-safe: receiver threads ``add``, the monitor thread ``take``s."""

    def __init__(
        self,
        prices: PriceTable,
        grace_ns: int = DEFAULT_GRACE_NS,
        max_models: int = DEFAULT_MAX_MODELS,
    ) -> None:
        self._prices = prices
        self.grace_ns = grace_ns
        self.names = NameBound(max_models)  # model names kept per tool; the rest are "other"
        self.lock = threading.Lock()
        self._ready: list[UsageRecord] = []
        self._pending: list[_Group] = []
        self._series: OrderedDict[str, tuple[int, int, float, int]] = OrderedDict()
        self._event_sessions: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._event_tools: set[str] = set()
        self._metric_tools: set[str] = set()
        self.seen: dict[str, int] = {}
        self.ignored: dict[str, int] = {}
        self.covered_points = 0  # metric groups dropped because events counted them
        self.dropped = 0  # records or points dropped by a bound
        self.traces = 0  # trace exports acknowledged and dropped
        self.rejected = 0  # records/points refused at the boundary (partial success)
        self.failed = 0  # metric groups that could not be made into records
        self.last_error = ""  # why the last group failed ("" while none has)
        self._material = True  # what counting depends on changed since the state was taken
        self._touched = True  # anything in the state changed (tallies, last uses)
        self._state_at: int | None = None  # when the state was last taken (epoch ns)

    # --- receiver side ---------------------------------------------------------------------
    def on_export(self, path: str, message: Message, received_ns: int) -> Rejected | None:
        """The receiver's callback: logs and metrics are read, traces are dropped. Returns
        what was refused, for the answer's partial success (None when nothing was)."""
        if isinstance(message, ExportLogsServiceRequest):
            decoded = decode_logs(message, received_ns)
        elif isinstance(message, ExportMetricsServiceRequest):
            decoded = decode_metrics(message)
        else:
            with self.lock:
                self.traces += 1
            return None
        self.add(decoded, received_ns)
        return Rejected(decoded.rejected, decoded.message()) if decoded.rejected else None

    def add(self, decoded: Decoded, received_ns: int) -> int:
        """Take in one export's usage; returns how many events and points it held. Points the
        ledger refuses are added to ``decoded``'s rejects."""
        with self.lock:
            self._touched = True
            _tally(self.seen, decoded.seen)
            _tally(self.ignored, decoded.ignored)
            for event in decoded.events:
                self._add_event(event, received_ns)
            if decoded.points:
                self._add_points(decoded, received_ns)
            self.rejected += decoded.rejected
            return len(decoded.events) + len(decoded.points)

    def _add_event(self, e: UsageEvent, received_ns: int) -> None:
        if e.tool not in self._event_tools or (e.tool, e.session) not in self._event_sessions:
            self._material = True
        self._event_tools.add(e.tool)
        self._remember_session((e.tool, e.session))
        cost, upstream = e.cost_usd, e.cost_usd is not None
        if cost is None:
            cost = self._price(
                e.provider,
                e.model,
                (e.input_tokens, e.output_tokens, e.cache_read_tokens, e.cache_write_tokens),
            )
        provider, model = self.names.fold(e.tool, e.provider, e.model, received_ns)
        self._push(
            UsageRecord(
                ts_ns=e.ts_ns,
                provider=provider,
                model=model,
                input_tokens=e.input_tokens,
                output_tokens=e.output_tokens,
                cache_read_tokens=e.cache_read_tokens,
                cache_write_tokens=e.cache_write_tokens,
                cost_usd=cost,
                key=e.key,
                session=e.session,
                cost_from_upstream=upstream,
            )
        )

    def _remember_session(self, key: tuple[str, str]) -> None:
        self._event_sessions[key] = None
        self._event_sessions.move_to_end(key)
        while len(self._event_sessions) > MAX_SESSIONS:
            self._event_sessions.popitem(last=False)

    def _push(self, record: UsageRecord) -> None:
        self._ready.append(record)
        if len(self._ready) > MAX_READY:  # the monitor stopped taking: keep the newest
            excess = len(self._ready) - MAX_READY
            del self._ready[:excess]
            self.dropped += excess

    def _add_points(self, decoded: Decoded, received_ns: int) -> None:
        groups: dict[tuple[str, str, str, str, int, bool], _Group] = {}
        series_of: dict[tuple[str, str, str, str, int, bool], list[str]] = {}
        budget = MAX_REQUESTS_PER_EXPORT
        for p in decoded.points:
            if p.tool_specific:
                self._metric_tools.add(p.tool)
            inc, count_inc = self._increase(p)  # a cumulative baseline moves on, kept or not
            if count_inc > MAX_REQUESTS_PER_POINT:
                decoded.reject(
                    f"a histogram point adds {count_inc:,} requests, over "
                    f"{MAX_REQUESTS_PER_POINT:,}"
                )
                continue
            if count_inc > budget:
                decoded.reject(f"over {MAX_REQUESTS_PER_EXPORT:,} requests in one export")
                continue
            budget -= count_inc
            if inc == 0 and count_inc == 0:
                continue
            gid = (p.tool, p.provider, p.model, p.session, p.time_ns, p.tool_specific)
            group = groups.get(gid)
            if group is None:
                group = groups[gid] = _Group(
                    p.tool,
                    p.provider,
                    p.model,
                    p.session,
                    p.time_ns,
                    p.tool_specific,
                    received_ns + self.grace_ns,
                    "",
                    p.time_ns if 0 < p.time_ns <= received_ns + FUTURE_SLACK_NS else received_ns,
                )
                series_of[gid] = []
            series_of[gid].append(p.series)
            sign = -1.0 if p.negate else 1.0
            if p.part == "cost":
                group.cost = (group.cost or 0.0) + inc
            else:
                attr = p.part
                setattr(group, attr, getattr(group, attr) + sign * inc)
            group.reqs = max(group.reqs, count_inc)
        for gid, group in groups.items():
            ident = "|".join(sorted(series_of[gid]))
            group.key = f"{group.tool}:m:{hash_text(ident)}:{group.time_ns}"
            self._pending.append(group)
        if len(self._pending) > MAX_PENDING:
            self.dropped += len(self._pending) - MAX_PENDING
            del self._pending[: len(self._pending) - MAX_PENDING]

    def _increase(self, p: MetricPoint) -> tuple[float, int]:
        """What this point adds: (value, histogram count)."""
        if p.temporality == DELTA:
            return max(p.value, 0.0), max(p.observations, 0)
        if p.temporality != CUMULATIVE:
            return 0.0, 0
        self._material = True
        prev = self._series.get(p.series)
        self._series[p.series] = (p.start_ns, p.time_ns, p.value, p.observations)
        self._series.move_to_end(p.series)
        if len(self._series) > MAX_SERIES:
            self._series.popitem(last=False)
        if prev is None or p.start_ns > prev[0]:
            return max(p.value, 0.0), max(p.observations, 0)  # new series, or the sender restarted
        start, time_ns, value, count = prev
        if p.start_ns < start or p.time_ns <= time_ns:
            self._series[p.series] = prev  # stale or repeated: keep the newer state
            return 0.0, 0
        if p.value < value or p.observations < count:  # reset without a new start time
            return max(p.value, 0.0), max(p.observations, 0)
        return p.value - value, p.observations - count

    # --- monitor side ----------------------------------------------------------------------
    def take(self, now_ns: int) -> list[UsageRecord]:
        """Records ready to count: every event so far, and metric groups past their grace."""
        with self.lock:
            out, self._ready = self._ready, []
            if not self._pending:
                return out
            keep: list[_Group] = []
            for group in self._pending:
                if group.due_ns > now_ns:
                    keep.append(group)
                elif self._covered(group):
                    self.covered_points += 1
                else:
                    try:
                        out.extend(self._records(group, now_ns))
                    except (ValueError, OverflowError, TypeError) as exc:
                        # never expected (values are checked on arrival): this group is lost
                        # and said, the others count
                        self.failed += 1
                        self.last_error = f"a metric group could not be counted: {exc}"
            self._pending = keep
            return out

    def pending(self) -> int:
        with self.lock:
            return len(self._pending) + len(self._ready)

    def _covered(self, g: _Group) -> bool:
        if not g.tool_specific:
            return g.tool in self._event_tools or g.tool in self._metric_tools
        if g.session:
            return (g.tool, g.session) in self._event_sessions
        return g.tool in self._event_tools

    def _records(self, g: _Group, now_ns: int) -> list[UsageRecord]:
        i, o, cr, cw = (max(round(v), 0) for v in (g.input, g.output, g.cache_read, g.cache_write))
        tokens = (i, o, cr, cw)
        upstream = g.cost is not None
        cost = g.cost if g.cost is not None else self._price(g.provider, g.model, tokens)
        provider, model = self.names.fold(g.tool, g.provider, g.model, now_ns)  # priced first
        first = UsageRecord(
            g.ts_ns, provider, model, *tokens, cost, g.key + ":0", g.session, "", upstream
        )
        zero_cost = None if cost is None else 0.0
        rest = [
            UsageRecord(g.ts_ns, provider, model, 0, 0, 0, 0, zero_cost, f"{g.key}:{i}", g.session)
            for i in range(1, min(g.reqs, MAX_REQUESTS_PER_EXPORT))
        ]
        return [first, *rest]

    def _price(self, provider: str, model: str, tokens: tuple[int, int, int, int]) -> float | None:
        """burntray's price for one request's (input, output, cache read, cache write)."""
        price = self._prices.lookup(provider, model) if model else None
        if price is None:
            return None
        return price.cost_tokens(*tokens)

    # --- resume state ------------------------------------------------------------------------
    def save_state(self, now_ns: int | None = None) -> str | None:
        """The resume state as JSON; with ``now_ns``, None when nothing counting depends on
        changed since the last state taken and that one is under ``STATE_EVERY_NS`` old (the
        tallies and last uses may then lag by that much)."""
        with self.lock:
            if now_ns is not None and not (self._material or self.names.changed):
                recent = self._state_at is not None and now_ns - self._state_at < STATE_EVERY_NS
                if not self._touched or recent:
                    return None
            self._material = self._touched = self.names.changed = False
            self._state_at = now_ns
            return json.dumps(
                {
                    "series": {k: list(v) for k, v in self._series.items()},
                    # sessions counted from events: their metric points stay dropped after a
                    # restart of burntray, as before it
                    "event_sessions": [list(k) for k in self._event_sessions],
                    "event_tools": sorted(self._event_tools),
                    "seen": self.seen,
                    "ignored": self.ignored,
                    "names": self.names.state(),
                }
            )

    def load_state(self, state: str) -> None:
        data = json.loads(state)
        series = data.get("series", {}) if isinstance(data, dict) else {}
        with self.lock:
            for name in ("seen", "ignored"):
                tally = data.get(name) if isinstance(data, dict) else None
                if isinstance(tally, dict):
                    _tally(getattr(self, name), {str(k): int(v) for k, v in tally.items()})
            for key, value in list(series.items())[-MAX_SERIES:]:
                start, time_ns, total, count = value
                self._series[str(key)] = (int(start), int(time_ns), float(total), int(count))
            sessions = data.get("event_sessions", []) if isinstance(data, dict) else []
            for tool, session in sessions[-MAX_SESSIONS:]:
                self._remember_session((str(tool), str(session)))
            tools = data.get("event_tools", []) if isinstance(data, dict) else []
            self._event_tools.update(str(t) for t in tools)
            self.names.load(data.get("names") if isinstance(data, dict) else None)


def hash_text(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


def _tally(into: dict[str, int], new: dict[str, int]) -> None:
    for name, n in new.items():
        key = name if name in into or len(into) < MAX_NAMES else "(other names)"
        into[key] = into.get(key, 0) + n
