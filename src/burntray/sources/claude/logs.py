"""Claude Code's own logs: every request's usage, read straight from ``projects/**/*.jsonl``.

Where: each Claude config folder (``$CLAUDE_CONFIG_DIR``, else ``~/.config/claude`` and
``~/.claude``; see ``.paths``) has ``projects/<project>/<session>.jsonl`` and
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
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import msgspec

from burntray.io.log_tail import LogTailer
from burntray.model.pricing import Price, PriceTable
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.files import JsonlFinder
from burntray.sources.agent_logs.scan import UsageScan
from burntray.sources.claude.dedup import Dedup

PROVIDER = "anthropic"
USAGE_MARKER = b'"usage":{'
MAX_BRANCH = 256  # a git branch name longer than this is cut (it is only a label)
SYNTHETIC_MODEL = "<synthetic>"

_Count = Annotated[int, msgspec.Meta(ge=0)]
_SEMVER_PREFIX = re.compile(r"[0-9]+\.[0-9]+\.[0-9]")
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_ONE_US = _dt.timedelta(microseconds=1)
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


def parse_line(line: bytes) -> ClaudeEntry | None:
    """The usage in one log line, or None when the line is not a usable assistant line.

    Raises ``ValueError`` for a line that is not valid JSON of the expected shape (the caller
    counts those as malformed); returns None for lines that are fine but carry no usage.
    """
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
        or (isinstance(raw.version, str) and not _SEMVER_PREFIX.match(raw.version))
    ):
        return None
    ts_ns = (raw.timestamp - _EPOCH) // _ONE_US * 1000
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
    return ClaudeEntry(
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


# Groups are kept for this long before the reader compacts them (when there are many).
KEEP_GROUPS_NS = 48 * 3600 * 10**9
COMPACT_AT_GROUPS = 50_000


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
        self.tailer = LogTailer([USAGE_MARKER], overlong=UsageScan)
        self.dedup = Dedup()
        self._finders = [JsonlFinder(d / "projects") for d in self.config_dirs]
        self.missing = ""
        self.files_seen = 0
        self._compact_at = COMPACT_AT_GROUPS
        self._newest_ns = -(2**63)
        self._price_cache: dict[str, Price | None] = {}

    def folders(self) -> list[str]:
        return [f for finder in self._finders for f in finder.folders()]

    @property
    def malformed_lines(self) -> int:
        """Lines skipped in the files as they are now (kept with the offsets)."""
        return self.tailer.skipped()[0]

    @property
    def first_malformed(self) -> str:
        return self.tailer.skipped()[1]

    def unreadable(self) -> dict[str, str]:
        """Folders and files that could not be read on the last pass (path -> why): their
        requests are missing from the figures."""
        found = {p: why for finder in self._finders for p, why in finder.unreadable.items()}
        return {**found, **self.tailer.stats.unreadable}

    def read_new(self, active_since_ns: int | None = None) -> list[UsageRecord]:
        """Records for the requests that are new or changed since the last call.

        ``active_since_ns``: look only at new files and files written since then (a cheap
        polling pass; a full pass, without it, looks at every file)."""
        out: dict[str, UsageRecord] = {}
        present: set[str] = set()
        missing = []
        for finder in self._finders:
            files = finder.find()
            if finder.problem:
                missing.append(finder.problem)
            present.update(files)
            projects_dir = finder.root
            quiet, unchanged = self.tailer.quiet_since, self.tailer.unchanged
            for name in files:
                if active_since_ns is not None and quiet(name, active_since_ns):
                    continue
                if unchanged(name):
                    continue  # the common case on every pass: one stat, nothing else
                self._read_file(projects_dir, Path(name), out)
        self.tailer.forget_missing(present)
        self.files_seen = len(present)
        if len(self.dedup) > self._compact_at:
            newest = max((r.ts_ns for r in out.values()), default=self._newest_ns)
            self._newest_ns = max(self._newest_ns, newest)
            self.dedup.compact(self._newest_ns - KEEP_GROUPS_NS)
            self._compact_at = max(COMPACT_AT_GROUPS, 2 * len(self.dedup))
        # Nothing to read yet is not an error: Claude Code may simply never have run here.
        self.missing = (
            "no Claude Code projects folder: " + "; ".join(missing)
            if missing and len(missing) == len(self._finders)
            else ""
        )
        return list(out.values())

    def _read_file(self, projects_dir: Path, path: Path, out: dict[str, UsageRecord]) -> None:
        project, session = session_parts(projects_dir, path)
        rel = (
            str(path.relative_to(projects_dir)) if path.is_relative_to(projects_dir) else str(path)
        )
        dedup = self.dedup
        cache = self._price_cache
        prices = self.prices

        def on_line(line: bytes, offset: int) -> None:
            try:
                entry = parse_line(line)
            except ValueError as exc:
                self.tailer.skip(str(path), f"{path}@{offset}: {exc}")
                return
            if entry is None:
                return
            kept = dedup.add(entry, f"l:{rel}:{offset}")
            if kept is None:
                return
            key = kept[0]
            model = entry.model
            if model and model not in cache:
                cache[model] = prices.lookup(PROVIDER, model)
            cost, upstream = entry_cost(entry, cache)
            # The record, not the entry, is kept: a pass over a GB holds ~100k of them.
            out[key] = UsageRecord(
                entry.ts_ns,
                PROVIDER,
                model,
                entry.input_tokens,
                entry.output_tokens,
                entry.cache_read_tokens,
                entry.cache_write_tokens,
                cost,
                key,
                session,
                project,
                upstream,
                entry.branch,
            )

        self.tailer.read(path, on_line)

    def reset(self) -> None:
        """Read every file from the start again, as if never read (the history was cleared):
        offsets, duplicate groups and counts go; the history lookup stays wired."""
        lookup = self.dedup.lookup
        self.tailer = LogTailer([USAGE_MARKER], overlong=UsageScan)
        self.dedup = Dedup()
        self.dedup.lookup = lookup
        self._compact_at = COMPACT_AT_GROUPS
        self._newest_ns = -(2**63)

    def save_state(self) -> str:
        """The per-file offsets, so a restart reads only what is new."""
        return self.tailer.save_state()

    def load_state(self, text: str) -> None:
        self.tailer.load_state(text)
