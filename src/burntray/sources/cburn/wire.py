"""The cburn daemon's wire format (spec section 2.2/2.3), decoded strictly.

Every payload is checked for shape: a field of the wrong type, a missing key field or a payload
that is not JSON raises ``WireFormatError`` naming the endpoint and the problem, so the source
can report it instead of showing zeros. Times are Go ``time.Time`` values with the daemon's
local offset; the Go zero time (``0001-01-01T00:00:00Z``) means "not yet" and becomes ``None``.
Floats may come in Go's exponent form (``1e-7``; older encoders wrote ``1e-07``): both decode.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from burntray.model.timefmt import NS_PER_SECOND, TimeFormatError, parse_rfc3339_ns
from burntray.sources.cburn.history import Sample
from burntray.sources.cburn.period import DaemonPeriod

GO_ZERO_TIME_NS = -62135596800 * NS_PER_SECOND

_Int64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]


class WireSnapshot(msgspec.Struct):
    # The counters are what burntray uses; a payload without them is the wrong shape.
    at: str
    sessions: _Int64
    prompts: _Int64
    api_calls: _Int64
    tokens: _Int64
    estimated_cost_usd: float
    cache_hit_rate: float = 0.0
    cost_per_day_usd: float = 0.0
    tokens_per_day: _Int64 = 0
    sessions_per_day: float = 0.0


class WireEvent(msgspec.Struct):
    id: _Int64
    type: str
    timestamp: str
    snapshot: WireSnapshot
    # The delta is never used: deltas can be negative or lost (dropped events), the snapshot is
    # the truth. It is accepted in any shape.
    delta: msgspec.Raw = msgspec.Raw(b"null")


class WireStatus(msgspec.Struct):
    started_at: str
    poll_interval_sec: _Int64
    days: _Int64
    summary: WireSnapshot
    last_poll_at: str = ""
    poll_count: _Int64 = 0
    data_dir: str = ""
    project_filter: str = ""  # omitted by the daemon when empty
    model_filter: str = ""
    last_error: str = ""
    event_count: _Int64 = 0
    subscriber_count: _Int64 = 0


_STATUS = msgspec.json.Decoder(WireStatus)
_EVENTS = msgspec.json.Decoder(list[WireEvent])
_EVENT = msgspec.json.Decoder(WireEvent)


class WireFormatError(ValueError):
    """A daemon payload that is not what cburn sends; the message says where and why."""


def go_time_ns(text: str, what: str) -> int | None:
    """A Go time as epoch ns; ``None`` for Go's zero time (or an absent value)."""
    if not text:
        return None
    try:
        ns = parse_rfc3339_ns(text)
    except TimeFormatError as exc:
        raise WireFormatError(f"{what}: {exc}") from None
    return None if ns == GO_ZERO_TIME_NS else ns


def _snippet(data: bytes) -> str:
    text = data[:80].decode("utf-8", "replace").strip()
    return repr(text) + ("..." if len(data) > 80 else "")


def _decode(decoder: msgspec.json.Decoder[Any], data: bytes, what: str) -> Any:
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise WireFormatError(f"{what} has the wrong shape: {exc}") from None
    except msgspec.DecodeError:
        raise WireFormatError(f"{what} is not JSON: {_snippet(data)}") from None


def decode_status(data: bytes) -> WireStatus:
    status: WireStatus = _decode(_STATUS, data, "/v1/status")
    return status


def decode_events(data: bytes) -> list[WireEvent]:
    events: list[WireEvent] = _decode(_EVENTS, data, "/v1/events")
    return events


def decode_event(data: bytes) -> WireEvent:
    event: WireEvent = _decode(_EVENT, data, "/v1/stream event")
    return event


def period_key(status: WireStatus) -> str:
    """What makes two samples comparable: the same days window, filters and data dir."""
    return (
        f"days={status.days};project={status.project_filter};model={status.model_filter};"
        f"data={status.data_dir}"
    )


def sample_of(snap: WireSnapshot, run_ns: int, period: str, what: str) -> Sample | None:
    """The snapshot as a sample; ``None`` before the daemon's first poll (zero ``at``)."""
    at_ns = go_time_ns(snap.at, f"{what}.at")
    if at_ns is None:
        return None
    return Sample(
        at_ns,
        run_ns,
        period,
        snap.sessions,
        snap.prompts,
        snap.api_calls,
        snap.tokens,
        snap.estimated_cost_usd,
    )


def daemon_period(status: WireStatus, latest: WireSnapshot | None = None) -> DaemonPeriod:
    """The daemon's own period figures, from its status and (if newer) the latest event."""
    snap = latest if latest is not None else status.summary
    return DaemonPeriod(
        days=status.days,
        sessions=snap.sessions,
        prompts=snap.prompts,
        api_calls=snap.api_calls,
        tokens=snap.tokens,
        estimated_cost_usd=snap.estimated_cost_usd,
        cache_hit_rate=snap.cache_hit_rate,
        cost_per_day_usd=snap.cost_per_day_usd,
        tokens_per_day=snap.tokens_per_day,
        sessions_per_day=snap.sessions_per_day,
        poll_interval_sec=status.poll_interval_sec,
        at_ns=go_time_ns(snap.at, "summary.at"),
        started_at_ns=go_time_ns(status.started_at, "started_at"),
        last_poll_at_ns=go_time_ns(status.last_poll_at, "last_poll_at"),
        last_error=status.last_error,
        data_dir=status.data_dir,
    )
