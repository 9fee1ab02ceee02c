"""How a burntray machine's records travel to its hub: plain OTLP logs.

One log record per request (or per minute, for a source that keeps only rollups), with the
OpenTelemetry GenAI semantic conventions where they fit (``gen_ai.provider.name``,
``gen_ai.request.model``, ``gen_ai.usage.input_tokens``/``output_tokens``) and ``burntray.*``
attributes for the rest (cache tokens, cost, source, session, project, branch). The resource
says who sent it: ``service.name`` = ``burntray``, ``host.name``, ``user.name``.

``burntray.record_id`` is derived from host, source and the record's key: the same request sent
twice (a retry, a resend after a crash, a changed record) has the same id, and the hub keeps one
record per id. Because it is plain OTLP, an OpenTelemetry Collector can sit in between.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple, Protocol

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import ResourceLogs

from burntray import __version__
from burntray.model.usage import UsageRecord

SERVICE = "burntray"
EVENT = "burntray.usage"
SCOPE = "burntray.team"
MAX_NAME = 128  # characters of a host, user, source or model name
MAX_ID = 256  # characters of a session, project or branch
MAX_TOKENS = 100_000_000  # per request (or per minute of a rollup)
MAX_COST = 100_000.0  # USD per request


class Sent(NamedTuple):
    source: str
    record: UsageRecord


class MinuteRollup(NamedTuple):
    """One minute of a source that keeps no per-request records, for one provider and model.

    A byte-counting source (hexai) knows requests and bytes, so that is what travels; the hub
    works out tokens and cost from the bytes with the source's own rules, exactly as the
    machine does. A source of running totals (cburn, ctm) sends the minute's increases of its
    totals as the machine counts them (``cost`` not None): requests, tokens and the
    upstream's own cost, taken as they are."""

    source: str
    minute: int  # minutes since the epoch (UTC)
    provider: str
    model: str
    reqs: int
    sent: int
    recv: int
    input: int = 0  # the increases of a running-totals source (0 for a byte-counting one)
    output: int = 0
    tokens: int = 0  # all its tokens (input and output included; cburn's are not split)
    cost: float | None = None  # None: a byte-counting minute, priced by the hub from its bytes

    @property
    def counters(self) -> bool:
        return self.cost is not None


class RollupExport(Protocol):
    """What a byte-counting source owes its hub: the minutes to send, and those acknowledged."""

    source: str

    def pending(self, limit: int) -> list[MinuteRollup]: ...
    def acknowledge(self, minutes: list[MinuteRollup]) -> None: ...
    def owe_all(self) -> None: ...
    def owed(self) -> int: ...


MINUTE_EVENT = "burntray.usage.minute"
MAX_MINUTE_REQS = 10_000_000  # requests of one provider and model in one minute
MAX_BYTES = 1 << 50  # bytes of one provider and model in one minute
MAX_MINUTE_TOKENS = 1 << 50  # a running total's increase in one minute (a daemon back after days)
MAX_MINUTE_COST = 10_000_000.0  # USD, either way: ctm's cache term can make a minute's cost dip


def minute_id(host: str, r: MinuteRollup) -> str:
    """A rollup's id: host + source + minute + provider/model, so a minute resent (or resent
    with more requests in it) replaces the one the hub holds."""
    return record_id(host, r.source, f"minute\0{r.minute}\0{r.provider}\0{r.model}")


def record_id(host: str, source: str, key: str) -> str:
    """The id the hub counts a record by: the same for every resend of the same request."""
    digest = hashlib.blake2b(f"{host}\0{source}\0{key}".encode(), digest_size=16)
    return digest.hexdigest()


def _kv(key: str, value: object) -> KeyValue:
    kv = KeyValue(key=key)
    if isinstance(value, bool):
        kv.value.bool_value = value
    elif isinstance(value, int):
        kv.value.int_value = value
    elif isinstance(value, float):
        kv.value.double_value = value
    else:
        kv.value.string_value = str(value)
    return kv


def encode(
    records: Iterable[Sent], host: str, user: str, minutes: Iterable[MinuteRollup] = ()
) -> bytes:
    """An ``ExportLogsServiceRequest`` (protobuf) holding ``records`` (and ``minutes``, the
    rollups of byte-counting sources) from ``host``/``user``."""
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    rl.resource.attributes.extend(
        [
            _kv("service.name", SERVICE),
            _kv("service.version", __version__),
            _kv("host.name", host),
            _kv("user.name", user),
        ]
    )
    scope = rl.scope_logs.add()
    scope.scope.name = SCOPE
    # Filled in place (``add``), not built and copied: this runs for every record of a
    # catch-up, and copying KeyValues doubled its time.
    for source, r in records:
        log = scope.log_records.add()
        log.time_unix_nano = r.ts_ns
        log.observed_time_unix_nano = r.ts_ns
        log.event_name = EVENT
        log.body.string_value = EVENT
        add = log.attributes.add
        for key, text in (
            ("burntray.record_id", record_id(host, source, r.key)),
            ("burntray.source", source),
            ("gen_ai.provider.name", r.provider),
            ("gen_ai.request.model", r.model),
        ):
            a = add()
            a.key = key
            a.value.string_value = text
        for key, number in (
            ("gen_ai.usage.input_tokens", r.input_tokens),
            ("gen_ai.usage.output_tokens", r.output_tokens),
            ("burntray.usage.cache_read_tokens", r.cache_read_tokens),
            ("burntray.usage.cache_write_tokens", r.cache_write_tokens),
        ):
            a = add()
            a.key = key
            a.value.int_value = number
        if r.cost_from_upstream:
            a = add()
            a.key = "burntray.cost_from_upstream"
            a.value.bool_value = True
        if r.cost_usd is not None:
            a = add()
            a.key = "burntray.cost_usd"
            a.value.double_value = float(r.cost_usd)
        for key, text in (
            ("session.id", r.session),
            ("burntray.project", r.project),
            ("burntray.branch", r.branch),
        ):
            if text:
                a = add()
                a.key = key
                a.value.string_value = text
    for m in minutes:
        log = scope.log_records.add()
        log.time_unix_nano = log.observed_time_unix_nano = m.minute * 60 * 10**9
        log.event_name = MINUTE_EVENT
        log.body.string_value = MINUTE_EVENT
        log.attributes.extend(
            [
                _kv("burntray.record_id", minute_id(host, m)),
                _kv("burntray.source", m.source),
                _kv("gen_ai.provider.name", m.provider),
                _kv("gen_ai.request.model", m.model),
                _kv("burntray.requests", m.reqs),
                _kv("burntray.usage.sent_bytes", m.sent),
                _kv("burntray.usage.recv_bytes", m.recv),
            ]
        )
        if m.cost is not None:  # a running-totals source's increases, its own cost
            log.attributes.extend(
                [
                    _kv("gen_ai.usage.input_tokens", m.input),
                    _kv("gen_ai.usage.output_tokens", m.output),
                    _kv("burntray.usage.tokens", m.tokens),
                    _kv("burntray.cost_usd", float(m.cost)),
                ]
            )
    return req.SerializeToString()


# --- the hub's side -------------------------------------------------------------------------


class Batch(NamedTuple):
    """The records of one resource (one machine) in an export, and what was refused."""

    host: str
    user: str
    records: list[UsageRecord]
    rejected: int
    reason: str  # the last refusal's why ("" when none)
    minutes: list[MinuteRollup] = []  # noqa: RUF012 - a NamedTuple default, never mutated


class _Bad(ValueError):
    pass


def _scalars(kvs: Iterable[KeyValue]) -> dict[str, object]:
    out: dict[str, object] = {}
    for kv in kvs:
        v: AnyValue = kv.value
        kind = v.WhichOneof("value")
        if kind in ("string_value", "int_value", "double_value", "bool_value"):
            out[kv.key] = getattr(v, kind)
    return out


def _name(a: Mapping[str, object], key: str, limit: int = MAX_NAME, need: bool = False) -> str:
    value = a.get(key, "")
    if not isinstance(value, str):
        raise _Bad(f"{key} is not a string")
    if len(value) > limit or any(ord(c) < 32 for c in value):
        raise _Bad(f"{key} {value[:40]!r}... is not a name (over {limit} characters or control)")
    if need and not value:
        raise _Bad(f"{key} is missing")
    return value


def _count(a: Mapping[str, object], key: str) -> int:
    value = a.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_TOKENS:
        raise _Bad(f"{key} {value!r} is not a token count from 0 to {MAX_TOKENS:,}")
    return value


def _cost(a: Mapping[str, object]) -> float | None:
    value = a.get("burntray.cost_usd")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad(f"burntray.cost_usd {value!r} is not a number")
    if not math.isfinite(value) or not 0 <= value <= MAX_COST:
        raise _Bad(f"burntray.cost_usd {value!r} is outside 0..{MAX_COST:,.0f}")
    return float(value)


def is_burntray(rl: ResourceLogs) -> bool:
    """Whether a resource's logs were sent by a burntray machine (the rest is a tool's own)."""
    return any(
        kv.key == "service.name" and kv.value.string_value == SERVICE
        for kv in rl.resource.attributes
    )


def decode(rl: ResourceLogs) -> Batch:
    """A burntray machine's records, each validated on its own: one bad record is refused and
    counted, never the rest. A resource without a valid host refuses them all."""
    res = _scalars(rl.resource.attributes)
    records: list[UsageRecord] = []
    total = sum(len(s.log_records) for s in rl.scope_logs)
    try:
        host = _name(res, "host.name", need=True)
        user = _name(res, "user.name")
    except _Bad as exc:
        return Batch("", "", [], total, f"resource: {exc}")
    rejected, reason = 0, ""
    minutes: list[MinuteRollup] = []
    for scope in rl.scope_logs:
        for log in scope.log_records:
            try:
                if log.event_name == MINUTE_EVENT:
                    minutes.append(_minute(_scalars(log.attributes), log.time_unix_nano))
                else:
                    records.append(_record(_scalars(log.attributes), log.time_unix_nano))
            except _Bad as exc:
                rejected += 1
                reason = str(exc)
    return Batch(host, user, records, rejected, reason, minutes)


def _bounded(a: Mapping[str, object], key: str, most: int) -> int:
    value = a.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= most:
        raise _Bad(f"{key} {value!r} is not a count from 0 to {most:,}")
    return value


def _minute(a: Mapping[str, object], ts_ns: int) -> MinuteRollup:
    """A byte-counting source's minute. The hub keeps one per (host, source, minute, provider,
    model): what its id is made of, so a resent minute replaces, never adds."""
    rid = _name(a, "burntray.record_id", need=True)
    if len(rid) != 32 or any(c not in "0123456789abcdef" for c in rid):
        raise _Bad(f"burntray.record_id {rid[:40]!r} is not a record id")
    if not 0 < ts_ns < 2**62 or ts_ns % (60 * 10**9):
        raise _Bad(f"time_unix_nano {ts_ns} is not the start of a minute")
    minute = MinuteRollup(
        source=_name(a, "burntray.source", need=True),
        minute=ts_ns // (60 * 10**9),
        provider=_name(a, "gen_ai.provider.name"),
        model=_name(a, "gen_ai.request.model"),
        reqs=_bounded(a, "burntray.requests", MAX_MINUTE_REQS),
        sent=_bounded(a, "burntray.usage.sent_bytes", MAX_BYTES),
        recv=_bounded(a, "burntray.usage.recv_bytes", MAX_BYTES),
    )
    if "burntray.cost_usd" not in a:
        return minute
    cost = a["burntray.cost_usd"]
    if isinstance(cost, bool) or not isinstance(cost, int | float) or not math.isfinite(cost):
        raise _Bad(f"burntray.cost_usd {cost!r} is not a number")
    if abs(cost) > MAX_MINUTE_COST:
        raise _Bad(f"burntray.cost_usd {cost!r} is outside +-{MAX_MINUTE_COST:,.0f} a minute")
    inp = _bounded(a, "gen_ai.usage.input_tokens", MAX_MINUTE_TOKENS)
    out = _bounded(a, "gen_ai.usage.output_tokens", MAX_MINUTE_TOKENS)
    tokens = _bounded(a, "burntray.usage.tokens", MAX_MINUTE_TOKENS)
    if tokens < inp + out:
        raise _Bad(f"burntray.usage.tokens {tokens} is less than input + output ({inp + out})")
    return minute._replace(input=inp, output=out, tokens=tokens, cost=float(cost))


def _record(a: Mapping[str, object], ts_ns: int) -> UsageRecord:
    rid = _name(a, "burntray.record_id", need=True)
    if len(rid) != 32 or any(c not in "0123456789abcdef" for c in rid):
        raise _Bad(f"burntray.record_id {rid[:40]!r} is not a record id")
    source = _name(a, "burntray.source", need=True)
    if not 0 < ts_ns < 2**62:
        raise _Bad(f"time_unix_nano {ts_ns} is not a time")
    return UsageRecord(
        ts_ns=ts_ns,
        provider=_name(a, "gen_ai.provider.name"),
        model=_name(a, "gen_ai.request.model"),
        input_tokens=_count(a, "gen_ai.usage.input_tokens"),
        output_tokens=_count(a, "gen_ai.usage.output_tokens"),
        cache_read_tokens=_count(a, "burntray.usage.cache_read_tokens"),
        cache_write_tokens=_count(a, "burntray.usage.cache_write_tokens"),
        cost_usd=_cost(a),
        key=f"{source}:{rid}",
        session=_name(a, "session.id", MAX_ID),
        project=_name(a, "burntray.project", MAX_ID),
        cost_from_upstream=a.get("burntray.cost_from_upstream") is True,
        branch=_name(a, "burntray.branch", MAX_ID),
    )


def split(resources: Sequence[ResourceLogs]) -> tuple[list[ResourceLogs], list[ResourceLogs]]:
    """(burntray machines' resources, the others) of one logs export."""
    ours = [rl for rl in resources if is_burntray(rl)]
    return ours, [rl for rl in resources if not is_burntray(rl)]
