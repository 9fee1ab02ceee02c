"""Claude Code's log lines: the usage one assistant line holds, and what it costs.

Lines (one JSON object each): only assistant lines carry ``message.usage``. The rules, as the
reference reader (ccusage) applies them so the figures agree:

- skipped: malformed lines (counted), lines without a valid ``timestamp``, lines with an empty
  ``sessionId``/``requestId``/``message.id``/``message.model``, a ``version`` that is not
  ``N.N.N...``, or ``null`` where a field must be a value;
- ``<synthetic>`` model lines keep their tokens but no model label;
- duplicates are normal (streaming writes a message several times). Key: ``message.id`` +
  ``requestId``; lines without ``message.id`` are never deduplicated. Among duplicates the
  non-sidechain line wins, else the larger token total, else the one that states ``speed``. A
  sidechain line with the same ``message.id`` but another ``requestId`` is a replay of the
  parent's request: it joins that request instead of counting again;
- cost: ``costUSD`` when the line has it, else computed per line (``Price.tiered_cost``: each
  field above 200k tokens at the tier rate, 1-hour cache writes at twice the input rate,
  ``speed == "fast"`` times the model's fast multiplier). An unknown model is unpriced, never $0.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Annotated, Any, NamedTuple

import msgspec

from burntray.model.pricing import PriceTable
from burntray.model.rates import Rates, priced, rates_of

PROVIDER = "anthropic"
USAGE_MARKER = b'"usage":{'
MAX_BRANCH = 256  # a git branch name longer than this is cut (it is only a label)
SYNTHETIC_MODEL = "<synthetic>"

_Count = Annotated[int, msgspec.Meta(ge=0)]
_SEMVER_PREFIX = re.compile(r"[0-9]+\.[0-9]+\.[0-9]")
EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
ONE_US = _dt.timedelta(microseconds=1)
# Fields the reference reader refuses to see as null: such a line is skipped, not defaulted.
# ``UNSET`` tells "absent" (fine) from ``None`` ("null": skip) without searching the line.
_Opt = msgspec.UnsetType


class _CacheCreation(msgspec.Struct, gc=False):
    ephemeral_5m_input_tokens: _Count = 0
    ephemeral_1h_input_tokens: _Count = 0


class _Usage(msgspec.Struct, gc=False):
    input_tokens: _Count
    output_tokens: _Count
    cache_creation_input_tokens: _Count | _Opt | None = msgspec.UNSET
    cache_read_input_tokens: _Count | _Opt | None = msgspec.UNSET
    cache_creation: _CacheCreation | None = None
    speed: str | _Opt | None = msgspec.UNSET


class _Message(msgspec.Struct, gc=False):
    usage: _Usage
    id: str | _Opt | None = msgspec.UNSET
    model: str | _Opt | None = msgspec.UNSET


_LINE_NAMES = {
    "session_id": "sessionId",
    "request_id": "requestId",
    "cost_usd": "costUSD",
    "is_sidechain": "isSidechain",
    "is_api_error": "isApiErrorMessage",
    "git_branch": "gitBranch",
}


class _Line(msgspec.Struct, gc=False, rename=_LINE_NAMES):
    timestamp: _dt.datetime
    message: _Message
    session_id: str | _Opt | None = msgspec.UNSET
    request_id: str | _Opt | None = msgspec.UNSET
    cost_usd: float | _Opt | None = msgspec.UNSET
    is_sidechain: bool | None = None
    is_api_error: bool | _Opt | None = msgspec.UNSET
    version: str | _Opt | None = msgspec.UNSET
    cwd: str | _Opt | None = msgspec.UNSET
    # any JSON value: a branch of an odd type is unknown, never a reason to drop the request
    git_branch: Any = None


_DECODER = msgspec.json.Decoder(_Line)

# The same line as the common case has it, with the skip rules above as types: no ``null`` where
# a value must be, no empty id or model, a timestamp with its offset (the version is checked
# after, against the few seen: a pattern here runs a regex per line). A line it takes gives
# exactly what ``_Line`` and the checks in ``parse_line_checked`` give (msgspec checks it in C); any
# other line, malformed or to be skipped, fails it and is decoded again by ``_Line``, whose
# checks say which it is. A field's default stands for "absent" (msgspec does not check
# defaults against the type, and never lets a ``null`` through).
_Id = Annotated[str, msgspec.Meta(min_length=1)]
_Stamp = Annotated[_dt.datetime, msgspec.Meta(tz=True)]


class _UsageStrict(msgspec.Struct, gc=False):
    input_tokens: _Count
    output_tokens: _Count
    cache_creation_input_tokens: _Count = 0
    cache_read_input_tokens: _Count = 0
    cache_creation: _CacheCreation | None = None
    speed: str = None  # type: ignore[assignment]


class _MessageStrict(msgspec.Struct, gc=False):
    usage: _UsageStrict
    id: _Id = None  # type: ignore[assignment]
    model: _Id = None  # type: ignore[assignment]


class _LineStrict(msgspec.Struct, gc=False, rename=_LINE_NAMES):
    timestamp: _Stamp
    message: _MessageStrict
    session_id: _Id = None  # type: ignore[assignment]
    request_id: _Id = None  # type: ignore[assignment]
    cost_usd: float = None  # type: ignore[assignment]
    is_sidechain: bool | None = None
    is_api_error: bool = None  # type: ignore[assignment]
    version: str = None  # type: ignore[assignment]
    cwd: str = None  # type: ignore[assignment]
    git_branch: Any = None


STRICT = msgspec.json.Decoder(_LineStrict)


class ClaudeEntry(NamedTuple):
    """One usable assistant line (a tuple: a scan builds a million of these)."""

    ts_ns: int
    message_id: str | None
    request_id: str | None
    model: str  # "" for <synthetic> or no model
    input_tokens: int
    output_tokens: int
    cache_write_tokens: int  # cache_creation_input_tokens (5 m + 1 h)
    cache_write_5m: int
    cache_write_1h: int
    cache_read_tokens: int
    cost_usd: float | None  # the line's own costUSD
    sidechain: bool
    fast: bool
    has_speed: bool
    branch: str = ""  # gitBranch ("" when absent)

    @property
    def total(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_write_tokens
            + self.cache_read_tokens
        )


_new = tuple.__new__
GOOD_VERSIONS: set[str] = set()  # versions seen to be N.N.N...: a log holds a handful


def version_ok(version: str) -> bool:
    if version in GOOD_VERSIONS:
        return True
    if not _SEMVER_PREFIX.match(version):
        return False
    if len(GOOD_VERSIONS) < 1000:  # bounded, whatever a log holds
        GOOD_VERSIONS.add(version)
    return True


def parse_line(line: bytes) -> ClaudeEntry | None:
    """The usage in one log line, or None when the line is not a usable assistant line.

    Raises ``ValueError`` for a line that is not valid JSON of the expected shape (the caller
    counts those as malformed); returns None for lines that are fine but carry no usage.
    """
    try:
        raw = STRICT.decode(line)
    except msgspec.DecodeError:
        return parse_line_checked(line)  # malformed, or a line to skip: the checks say which
    version = raw.version
    if version is not None and version not in GOOD_VERSIONS and not version_ok(version):
        return None
    msg = raw.message
    usage = msg.usage
    model = msg.model
    write = usage.cache_creation_input_tokens
    cache = usage.cache_creation
    branch = raw.git_branch
    speed = usage.speed
    # built as the tuple it is (a named tuple's generated __new__ costs as much again)
    return _new(
        ClaudeEntry,
        (
            (raw.timestamp - EPOCH) // ONE_US * 1000,
            msg.id,
            raw.request_id,
            "" if model is None or model == SYNTHETIC_MODEL else model,
            usage.input_tokens,
            usage.output_tokens,
            write,
            write if cache is None else cache.ephemeral_5m_input_tokens,
            0 if cache is None else cache.ephemeral_1h_input_tokens,
            usage.cache_read_input_tokens,
            raw.cost_usd,
            raw.is_sidechain is True,
            speed == "fast",
            speed is not None,
            branch[:MAX_BRANCH] if isinstance(branch, str) else "",
        ),
    )


def parse_line_checked(line: bytes) -> ClaudeEntry | None:
    """``parse_line`` for a line the strict types refused: each rule checked in turn."""
    try:
        raw = _DECODER.decode(line)
    except msgspec.DecodeError as exc:
        if USAGE_MARKER not in line:
            return None  # not an assistant line: nothing to count
        raise ValueError(str(exc)) from None
    if raw.timestamp.tzinfo is None:
        return None  # RFC 3339 requires an offset
    msg = raw.message
    usage = msg.usage
    if (
        None
        in (
            raw.session_id,
            raw.request_id,
            raw.cost_usd,
            raw.is_api_error,
            raw.version,
            raw.cwd,
            msg.id,
            msg.model,
            usage.speed,
            usage.cache_creation_input_tokens,
            usage.cache_read_input_tokens,
        )
        or raw.session_id == ""
        or raw.request_id == ""
        or msg.id == ""
        or msg.model == ""
        or (isinstance(raw.version, str) and not version_ok(raw.version))
    ):
        return None
    ts_ns = (raw.timestamp - EPOCH) // ONE_US * 1000
    mid = msg.id if isinstance(msg.id, str) else None
    rid = raw.request_id if isinstance(raw.request_id, str) else None
    model = msg.model if isinstance(msg.model, str) else ""
    cost = raw.cost_usd if isinstance(raw.cost_usd, float) else None
    speed = usage.speed if isinstance(usage.speed, str) else None
    write = usage.cache_creation_input_tokens
    write = write if isinstance(write, int) else 0
    read = usage.cache_read_input_tokens
    read = read if isinstance(read, int) else 0
    if usage.cache_creation is not None:
        write_5m = usage.cache_creation.ephemeral_5m_input_tokens
        write_1h = usage.cache_creation.ephemeral_1h_input_tokens
    else:
        write_5m, write_1h = write, 0
    # built as the tuple it is (a named tuple's generated __new__ costs as much again)
    return _new(
        ClaudeEntry,
        (
            ts_ns,
            mid,
            rid,
            "" if model == SYNTHETIC_MODEL else model,
            usage.input_tokens,
            usage.output_tokens,
            write,
            write_5m,
            write_1h,
            read,
            cost,
            raw.is_sidechain is True,
            speed == "fast",
            speed is not None,
            raw.git_branch[:MAX_BRANCH] if isinstance(raw.git_branch, str) else "",
        ),
    )


def entry_cost(
    entry: ClaudeEntry, prices: PriceTable | dict[str, Rates | None]
) -> tuple[float | None, bool]:
    """(cost, from upstream): ``costUSD`` when present, else priced; None when unpriced.

    ``prices`` may be a per-model cache of ``rates_of`` filled from the table (looking a model
    up is far dearer than pricing a request)."""
    if entry.cost_usd is not None:
        return entry.cost_usd, True
    if not entry.model:
        return (0.0 if entry.total == 0 else None), False
    if isinstance(prices, dict):
        rates = prices[entry.model]
    else:
        rates = rates_of(prices.lookup(PROVIDER, entry.model))
    if rates is None:
        return (0.0 if entry.total == 0 else None), False
    cost = priced(
        rates,
        entry.input_tokens,
        entry.output_tokens,
        entry.cache_write_5m,
        entry.cache_write_1h,
        entry.cache_read_tokens,
        entry.fast,
    )
    return cost, False
