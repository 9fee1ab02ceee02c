"""Copilot CLI's telemetry lines: the fields read, the usage records they hold and which of
them count (the rules are in ``.reader``'s docstring)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
from msgspec import Struct

from burntray.sources.agent_logs.values import text
from burntray.sources.copilot.tail import NONE

if TYPE_CHECKING:
    from burntray.sources.copilot.tail import Tail

SETTLE_NS = 60 * 10**9
CHAT, INFERENCE, TURN, SUMMARY = 0, 1, 2, 3


def _attr(name: str) -> object:
    return msgspec.field(default=None, name=name)


class _Attrs(msgspec.Struct, gc=False):
    """The attributes read (the GenAI conventions' names and Copilot's own), nothing else."""

    input: object = _attr("gen_ai.usage.input_tokens")
    output: object = _attr("gen_ai.usage.output_tokens")
    cache_read: object = _attr("gen_ai.usage.cache_read.input_tokens")
    cache_write: object = _attr("gen_ai.usage.cache_write.input_tokens")
    cache_creation: object = _attr("gen_ai.usage.cache_creation.input_tokens")
    total: object = _attr("gen_ai.usage.total_tokens")
    total_count: object = _attr("gen_ai.usage.total.token_count")
    reasoning: object = _attr("gen_ai.usage.reasoning.output_tokens")
    reasoning_tokens: object = _attr("gen_ai.usage.reasoning_tokens")
    response_model: object = _attr("gen_ai.response.model")
    request_model: object = _attr("gen_ai.request.model")
    conversation: object = _attr("gen_ai.conversation.id")
    chat_session: object = _attr("copilot_chat.session_id")
    chat_session_id: object = _attr("copilot_chat.chat_session_id")
    session_id: object = _attr("session.id")
    interaction: object = _attr("github.copilot.interaction_id")
    response_id: object = _attr("gen_ai.response.id")
    operation: object = _attr("gen_ai.operation.name")
    event: object = _attr("event.name")
    turn_index: object = _attr("turn.index")
    chat_turn_index: object = _attr("copilot_chat.turn.index")


class _Line(msgspec.Struct, gc=False):
    """One exported span or log record: the fields read. ``attributes`` of another type than
    an object is kept (the line still counts in the file's order) but carries nothing."""

    attributes: _Attrs | list[object] | str | int | float | bool | None = None
    type: object = None
    name: object = None
    body: object = None
    body_: object = _attr("_body")
    traceId: object = None
    spanId: object = None
    spanContext: object = None
    startTime: object = None
    endTime: object = None
    duration: object = None
    kind: object = None
    hrTime: object = None
    hrTime_: object = _attr("_hrTime")
    time: object = None
    timestamp: object = None
    observedTimestamp: object = None
    timeUnixNano: object = None


DECODER = msgspec.json.Decoder(_Line)


def _number(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _count(*values: object) -> int:
    """The first of ``values`` that is a count above 0 (0 when none)."""
    for value in values:
        if value is None:  # the attribute is not there (most of them, on most records)
            continue
        if type(value) is int:  # the common case, at once
            if value > 0:
                return value
            continue
        n = _number(value)
        if n:
            return n
    return 0


_NO_SESSION = ("", 0)


def _session(attrs: _Attrs) -> tuple[str, int]:
    """The record's own session name and how sure it is (3: a session id, 2: an interaction,
    1: a response id, 0: none): the first of the surest kind named."""
    # ``type(...) is str``: what msgspec decodes is never a subclass (a first scan asks this
    # of 40,000 lines, and a tuple of pairs built per line cost more than the answer)
    for value in (attrs.conversation, attrs.chat_session, attrs.chat_session_id, attrs.session_id):
        if type(value) is str and (named := value.strip()):
            return named, 3
    value = attrs.interaction
    if type(value) is str and (named := value.strip()):
        return named, 2
    value = attrs.response_id
    if type(value) is str and (named := value.strip()):
        return named, 1
    return _NO_SESSION


def _model(attrs: _Attrs) -> str:
    value = attrs.response_model
    if type(value) is str and (model := value.strip()):
        return model
    value = attrs.request_model
    return value.strip() if type(value) is str else ""


def _ts_parts(value: object) -> int | None:
    """An OpenTelemetry JS ``[seconds, nanos]`` time, in ms."""
    if type(value) is list and len(value) >= 2:
        secs, nanos = value[0], value[1]
        if type(secs) is int and type(nanos) is int and secs >= 0 and nanos >= 0:
            return secs * 1000 + nanos // 1_000_000  # the usual form, at once
    if not isinstance(value, list) or len(value) < 2:
        return None
    secs, nanos = _number(value[0]), _number(value[1])
    if secs is None or nanos is None:
        return None
    return secs * 1000 + nanos // 1_000_000


def _ts_scalar(value: object) -> int | None:
    """A number of s, ms, us or ns (told apart by size), in ms."""
    raw = _number(value)
    if raw is None:
        return None
    if raw >= 10**17:
        return raw // 10**6
    if raw >= 10**14:
        return raw // 1000
    if raw >= 10**11:
        return raw
    return raw * 1000


def _timestamp_ms(rec: _Line) -> int | None:
    for parts in (rec.endTime, rec.startTime, rec.hrTime, rec.hrTime_, rec.time):
        if parts is not None and (ms := _ts_parts(parts)) is not None:  # most are not there
            return ms
    for scalar in (rec.timestamp, rec.observedTimestamp):
        if (ms := _ts_scalar(scalar)) is not None:
            return ms
    nanos = _number(rec.timeUnixNano)
    return nanos // 10**6 if nanos else None


def _nested(direct: object, ctx: object, key: str) -> str:
    if type(direct) is str and (found := direct.strip()):
        return found
    return text(ctx.get(key)) if isinstance(ctx, dict) else ""


def _is_span(rec: _Line) -> bool:
    kind = rec.type
    if isinstance(kind, str):
        return kind == "span"
    return bool(text(rec.name)) and (
        bool(text(rec.spanId))
        or bool(text(rec.traceId))
        or any(v is not None for v in (rec.startTime, rec.endTime, rec.duration, rec.kind))
    )


def _kind(rec: _Line, attrs: _Attrs) -> int | None:
    """CHAT or SUMMARY for a span, INFERENCE or TURN for a log record, None for the rest."""
    kind = rec.type  # a ``type`` given says it (``_is_span``'s first rule), at once
    is_span = kind == "span" if type(kind) is str else _is_span(rec)
    if is_span:
        name, operation = text(rec.name), text(attrs.operation)
        if operation == "chat" or name.startswith("chat "):
            return CHAT
        if operation == "invoke_agent" or name.startswith("invoke_agent "):
            return SUMMARY
        return None
    event = text(attrs.event)
    if event == "gen_ai.client.inference.operation.details":
        return INFERENCE
    if event == "copilot_chat.agent.turn":
        return TURN
    body = text(rec.body) or text(rec.body_)
    if body.startswith("GenAI inference:"):
        return INFERENCE
    if body.startswith("copilot_chat.agent.turn"):
        return TURN
    return None


class Candidate(Struct):
    kind: int
    trace: str
    response: str
    key: str
    ts_ms: int
    model: str
    session: str
    input: int
    output: int
    cache_read: int
    cache_write: int


def candidates(
    lines: list[_Line],
    fallback_ms: int,
    models: dict[str, str],
    sessions: dict[str, tuple[str, int]],
    base: int = 0,
) -> tuple[list[Candidate], bool]:
    """Every usage record of the lines, with the model and session its trace gives it, and
    whether one took ``fallback_ms`` for lack of a time of its own. ``models`` and ``sessions``
    (per trace) hold what the lines before told and take in what these tell; ``base``: how many
    records came before (a record without trace or span is keyed by its place)."""
    # each line with attributes: its place, trace, own session and own model, worked out once
    usable: list[tuple[int, _Line, _Attrs, str, tuple[str, int], str]] = []
    for index, rec in enumerate(lines):
        attrs = rec.attributes
        if type(attrs) is not _Attrs:
            continue  # a line without attributes names no trace's model or session
        trace = _nested(rec.traceId, rec.spanContext, "traceId")
        named = _session(attrs)
        model = _model(attrs)
        usable.append((index, rec, attrs, trace, named, model))
        if not trace:
            continue
        if model and trace not in models:
            models[trace] = model
        if named[1] > sessions.get(trace, _NO_SESSION)[1]:
            sessions[trace] = named
    out, timeless = [], False
    for index, rec, attrs, trace, named, own_model in usable:
        kind = _kind(rec, attrs)
        if kind is None:
            continue
        value = attrs.input  # a count above 0 at once, else ``_count``'s rules
        inp = value if type(value) is int and value > 0 else _count(value)
        value = attrs.output
        out_t = value if type(value) is int and value > 0 else _count(value)
        value = attrs.cache_read
        read = value if type(value) is int and value > 0 else _count(value)
        write = _count(attrs.cache_write, attrs.cache_creation)
        total = _count(attrs.total, attrs.total_count)
        inp -= min(inp, read)
        missing = max(0, total - (inp + out_t + read + write))
        if missing and out_t == 0:
            out_t = missing
        elif missing:
            reasoning = _count(attrs.reasoning, attrs.reasoning_tokens)
            out_t += max(0, missing - reasoning)  # reasoning is inside output already
        if not (inp or out_t or read or write):
            continue
        span = _nested(rec.spanId, rec.spanContext, "spanId")
        model = own_model or models.get(trace, "") or "unknown"
        session = named[0] or sessions.get(trace, _NO_SESSION)[0] or trace
        ts = _timestamp_ms(rec)
        timeless = timeless or not ts
        ts = ts or fallback_ms
        place = base + index
        out.append(
            Candidate(kind, trace, text(attrs.response_id),
                       _key(kind, trace, span, attrs, session or "unknown-session", ts, place),
                       ts, model, session or "unknown-session", inp, out_t, read, write)
        )  # fmt: skip
    return out, timeless


def _key(  # noqa: PLR0917 - the parts ccusage keys a record by
    kind: int, trace: str, span: str, attrs: _Attrs, session: str, ts: int, index: int
) -> str:
    if kind in (CHAT, SUMMARY):
        return f"{trace}:{span}" if trace and span else f"span:{session}:{ts}:{index}"
    if kind == INFERENCE:
        return f"log:{trace}:{span}" if trace and span else f"log:{session}:{ts}:{index}"
    turn = _number(attrs.turn_index)
    if turn is None:
        turn = _number(attrs.chat_turn_index)
    turn_text = f"idx-{index}" if turn is None else str(turn)
    return (
        f"agent-turn:{trace}:{turn_text}" if trace else f"agent-turn:{session}:{turn_text}:{index}"
    )


def select(
    candidates: list[Candidate], now_ms: int, before: Tail | None = None
) -> tuple[list[Candidate], bool]:
    """The candidates that count (ccusage's rule), and whether any was held back because a
    more detailed record of its trace may still come; ``before``: the records of the lines
    before these (``tail``), which beat these as any other record does."""
    traces: dict[int, set[str]] = {k: set() for k in (CHAT, INFERENCE, TURN)}
    responses: dict[int, set[str]] = {k: set() for k in (CHAT, INFERENCE, TURN)}
    newest: dict[str, int] = {} if before is None else dict(before.newest)
    kinds_before = {} if before is None else before.kinds
    responses_before = {} if before is None else before.responses
    for c in candidates:
        if c.kind in traces:
            if c.trace:
                traces[c.kind].add(c.trace)
            if c.response:
                responses[c.kind].add(c.response)
        if c.trace:
            newest[c.trace] = max(newest.get(c.trace, 0), c.ts_ms)
    chosen, held = [], False
    for c in candidates:
        # the kinds that beat this one (none beats a chat span); a loop, not ``any`` over a
        # generator: one made per log record cost a first scan of 20,000 calls 74 M
        # instructions (1.7 %)
        beaten = False
        for k in range(c.kind):
            if c.trace in traces[k] or c.response in responses[k]:
                beaten = True
                break
        if beaten:
            continue
        if (c.trace and kinds_before.get(c.trace, NONE) < c.kind) or (
            c.response and responses_before.get(c.response, NONE) < c.kind
        ):
            continue  # a record of a better kind came before
        if c.kind != CHAT and now_ms - newest.get(c.trace, c.ts_ms) < SETTLE_NS // 10**6:
            held = True  # its chat span may not be written yet
            continue
        chosen.append(c)
    return chosen, held
