"""Claude Code's own logs: every request's usage, read straight from ``projects/**/*.jsonl``.

Where: each Claude config folder (``$CLAUDE_CONFIG_DIR``, else ``~/.config/claude`` and
``~/.claude``; see ``paths.claude_config_dirs``) has ``projects/<project>/<session>.jsonl`` and
subagent files below ``<project>/<session>/``. Every ``*.jsonl`` below ``projects`` counts.

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

A request whose surviving line changes (a larger streaming duplicate arrives later) is emitted
again with the same record key, so an idempotent store keeps only its last word.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import msgspec

from burntray.model.pricing import Price, PriceTable
from burntray.model.usage import UsageRecord
from burntray.sources.agent_files import JsonlFinder
from burntray.sources.log_tail import FileState, LogTailer

PROVIDER = "anthropic"
USAGE_MARKER = b'"usage":{'
SYNTHETIC_MODEL = "<synthetic>"

_Count = Annotated[int, msgspec.Meta(ge=0)]
# Fields the reference reader refuses to see as null: such a line is skipped, not defaulted.
_NULL_FIELD = re.compile(
    rb'"(?:id|cwd|model|speed|costUSD|version|sessionId|requestId|isApiErrorMessage|'
    rb'cache_read_input_tokens|cache_creation_input_tokens)":null'
)
_SEMVER_PREFIX = re.compile(r"[0-9]+\.[0-9]+\.[0-9]")
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_ONE_US = _dt.timedelta(microseconds=1)


class _CacheCreation(msgspec.Struct, gc=False):
    ephemeral_5m_input_tokens: _Count = 0
    ephemeral_1h_input_tokens: _Count = 0


class _Usage(msgspec.Struct, gc=False):
    input_tokens: _Count
    output_tokens: _Count
    cache_creation_input_tokens: _Count = 0
    cache_read_input_tokens: _Count = 0
    cache_creation: _CacheCreation | None = None
    speed: str | None = None


class _Message(msgspec.Struct, gc=False):
    usage: _Usage
    id: str | None = None
    model: str | None = None


class _Line(msgspec.Struct, gc=False, rename={"session_id": "sessionId", "request_id": "requestId", "cost_usd": "costUSD", "is_sidechain": "isSidechain"}):  # fmt: skip
    timestamp: _dt.datetime
    message: _Message
    session_id: str | None = None
    request_id: str | None = None
    cost_usd: float | None = None
    is_sidechain: bool | None = None
    version: str | None = None


_DECODER = msgspec.json.Decoder(_Line)


@dataclass(frozen=True, slots=True)
class ClaudeEntry:
    """One usable assistant line."""

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

    @property
    def total(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_write_tokens
            + self.cache_read_tokens
        )


def parse_line(line: bytes) -> ClaudeEntry | None:
    """The usage in one log line, or None when the line is not a usable assistant line.

    Raises ``ValueError`` for a line that is not valid JSON of the expected shape (the caller
    counts those as malformed); returns None for lines that are fine but carry no usage.
    """
    if USAGE_MARKER not in line:
        return None
    if b":null" in line and _NULL_FIELD.search(line):
        return None
    try:
        raw = _DECODER.decode(line)
    except msgspec.DecodeError as exc:
        raise ValueError(str(exc)) from None
    if raw.timestamp.tzinfo is None:
        return None  # RFC 3339 requires an offset
    ts_ns = (raw.timestamp - _EPOCH) // _ONE_US * 1000
    msg = raw.message
    if (
        (raw.version is not None and not _SEMVER_PREFIX.match(raw.version))
        or raw.session_id == ""
        or raw.request_id == ""
        or msg.id == ""
        or msg.model == ""
    ):
        return None
    usage = msg.usage
    if usage.cache_creation is not None:
        write_5m = usage.cache_creation.ephemeral_5m_input_tokens
        write_1h = usage.cache_creation.ephemeral_1h_input_tokens
    else:
        write_5m, write_1h = usage.cache_creation_input_tokens, 0
    model = msg.model or ""
    return ClaudeEntry(
        ts_ns=ts_ns,
        message_id=msg.id,
        request_id=raw.request_id,
        model="" if model == SYNTHETIC_MODEL else model,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_write_tokens=usage.cache_creation_input_tokens,
        cache_write_5m=write_5m,
        cache_write_1h=write_1h,
        cache_read_tokens=usage.cache_read_input_tokens,
        cost_usd=raw.cost_usd,
        sidechain=raw.is_sidechain is True,
        fast=usage.speed == "fast",
        has_speed=usage.speed is not None,
    )


def entry_cost(
    entry: ClaudeEntry, prices: PriceTable | dict[str, Price | None]
) -> tuple[float | None, bool]:
    """(cost, from upstream): ``costUSD`` when present, else priced; None when unpriced.

    ``prices`` may be a per-model cache filled from the table (looking a model up is far
    dearer than pricing a request, and a scan prices the same few models a million times)."""
    if entry.cost_usd is not None:
        return entry.cost_usd, True
    if not entry.model:
        price = None
    elif isinstance(prices, dict):
        price = prices[entry.model]
    else:
        price = prices.lookup(PROVIDER, entry.model)
    if price is None:
        return (0.0 if entry.total == 0 else None), False
    cost = price.tiered_cost(
        entry.input_tokens,
        entry.output_tokens,
        entry.cache_read_tokens,
        entry.cache_write_5m,
        entry.cache_write_1h,
        fast=entry.fast,
    )
    return cost, False


def _should_replace(candidate: ClaudeEntry, existing: ClaudeEntry) -> bool:
    if candidate.sidechain != existing.sidechain:
        return existing.sidechain
    if candidate.total != existing.total:
        return candidate.total > existing.total
    return candidate.has_speed and not existing.has_speed


@dataclass(slots=True)
class _Group:
    key: str  # the record key: stays the same when a better duplicate replaces the entry
    entry: ClaudeEntry


@dataclass(slots=True)
class Dedup:
    """Incremental duplicate removal across all files (see the module docstring).

    ``add`` returns the group key and the entry now standing for it when the entry is new or
    replaces the group's previous one, else None (a smaller or replayed duplicate).
    """

    _groups: list[_Group] = field(default_factory=list)
    _exact: dict[tuple[str, str | None], list[int]] = field(default_factory=dict)
    _by_message: dict[str, list[int]] = field(default_factory=dict)

    def add(self, entry: ClaudeEntry, fallback_key: str) -> tuple[str, ClaudeEntry] | None:
        mid = entry.message_id
        if mid is None:
            return fallback_key, entry
        rid = entry.request_id
        found = None
        for index in self._exact.get((mid, rid), ()):
            current = self._groups[index].entry
            if current.message_id == mid and current.request_id == rid:
                found = index
                break
        if found is None:
            for index in self._by_message.get(mid, ()):
                current = self._groups[index].entry
                if current.message_id == mid and (entry.sidechain or current.sidechain):
                    found = index
                    break
        if found is not None:
            group = self._groups[found]
            if not _should_replace(entry, group.entry):
                return None
            group.entry = entry
            self._index(found, mid, rid)
            return group.key, entry
        index = len(self._groups)
        self._groups.append(_Group(f"m:{mid}:{rid or ''}", entry))
        self._index(index, mid, rid)
        return self._groups[index].key, entry

    def _index(self, index: int, mid: str, rid: str | None) -> None:
        exact = self._exact.setdefault((mid, rid), [])
        if index not in exact:
            exact.append(index)
        by_message = self._by_message.setdefault(mid, [])
        if index not in by_message:
            by_message.append(index)


def session_parts(projects_dir: Path, path: Path) -> tuple[str, str]:
    """(project, session) of a log file: ``<project>/<session>.jsonl`` or, for subagents and
    other nested files, ``<project>/<session>/...``."""
    try:
        parts = path.relative_to(projects_dir).parts
    except ValueError:
        return "", path.stem
    if len(parts) == 1:
        return "", path.stem
    if len(parts) == 2:
        return parts[0], Path(parts[1]).stem
    return parts[0], parts[1]


class ClaudeLogReader:
    """Reads what is new in every Claude config folder's ``projects`` tree."""

    def __init__(self, config_dirs: Iterable[Path], prices: PriceTable) -> None:
        self.config_dirs = [Path(d) for d in config_dirs]
        self.prices = prices
        self.tailer = LogTailer([USAGE_MARKER])
        self.dedup = Dedup()
        self.malformed_lines = 0
        self.first_malformed = ""
        self._finders = [JsonlFinder(d / "projects") for d in self.config_dirs]
        self.missing = ""
        self.files_seen = 0
        self._price_cache: dict[str, Price | None] = {}

    def folders(self) -> list[str]:
        return [f for finder in self._finders for f in finder.folders()]

    def read_new(self) -> list[UsageRecord]:
        """Records for the requests that are new or changed since the last call."""
        out: dict[str, tuple[ClaudeEntry, str, str]] = {}
        present: set[str] = set()
        missing = []
        for finder in self._finders:
            files = finder.find()
            if finder.problem:
                missing.append(finder.problem)
            present.update(files)
            projects_dir = finder.root
            for name in files:
                self._read_file(projects_dir, Path(name), out)
        self.tailer.forget_missing(present)
        self.files_seen = len(present)
        # Nothing to read yet is not an error: Claude Code may simply never have run here.
        self.missing = (
            "no Claude Code projects folder: " + "; ".join(missing)
            if missing and len(missing) == len(self._finders)
            else ""
        )
        return self._records(out)

    def _records(self, out: dict[str, tuple[ClaudeEntry, str, str]]) -> list[UsageRecord]:
        """Price only what survived this pass's dedup (each model looked up once)."""
        cache = self._price_cache
        records = []
        for key, (entry, session, project) in out.items():
            if entry.model and entry.model not in cache:
                cache[entry.model] = self.prices.lookup(PROVIDER, entry.model)
            cost, upstream = entry_cost(entry, cache)
            records.append(
                UsageRecord(
                    entry.ts_ns,
                    PROVIDER,
                    entry.model,
                    entry.input_tokens,
                    entry.output_tokens,
                    entry.cache_read_tokens,
                    entry.cache_write_tokens,
                    cost,
                    key,
                    session,
                    project,
                    upstream,
                )
            )
        return records

    def _read_file(
        self, projects_dir: Path, path: Path, out: dict[str, tuple[ClaudeEntry, str, str]]
    ) -> None:
        project, session = session_parts(projects_dir, path)
        rel = (
            str(path.relative_to(projects_dir)) if path.is_relative_to(projects_dir) else str(path)
        )
        dedup = self.dedup

        def on_line(line: bytes, offset: int) -> None:
            try:
                entry = parse_line(line)
            except ValueError as exc:
                self.malformed_lines += 1
                if not self.first_malformed:
                    self.first_malformed = f"{path}@{offset}: {exc}"
                return
            if entry is None:
                return
            kept = dedup.add(entry, f"l:{rel}:{offset}")
            if kept is None:
                return
            out[kept[0]] = (kept[1], session, project)

        self.tailer.read(path, on_line)

    def save_state(self) -> str:
        """The per-file offsets, so a restart reads only what is new."""
        return json.dumps({p: s.to_json() for p, s in self.tailer.files.items()})

    def load_state(self, text: str) -> None:
        try:
            raw = json.loads(text)
        except ValueError:
            return
        if not isinstance(raw, dict):
            return
        for path, value in raw.items():
            state = FileState.from_json(value)
            if state is not None:
                self.tailer.files[str(path)] = state
