"""Codex CLI's own session logs: every turn's token usage, read from ``sessions/**/*.jsonl``.

Where: each Codex home (``$CODEX_HOME``, comma-separated, else ``~/.codex``; see
``.paths``) has ``sessions/**/*.jsonl`` and ``archived_sessions/**/*.jsonl``. A file
with the same path relative to both counts once (``sessions/`` wins).

Lines: ``{"type":"event_msg","payload":{"type":"token_count","info":{...}}}`` carry usage. The
rules, as the reference reader (ccusage) applies them:

- a turn's usage is ``info.last_token_usage`` when present, else ``info.total_token_usage``
  minus the previous total in that file (never negative); all-zero turns are skipped;
- ``cached_input_tokens`` are part of ``input_tokens`` (clamped to at most input): burntray's
  records carry uncached input = input - cached and cache reads = cached. Reasoning tokens are
  already inside ``output_tokens``;
- the model is the one named by the token_count payload or its ``info``, else by the latest
  ``turn_context`` line, else ``gpt-5`` (Codex's default; the record is then marked in
  ``facts`` as a fallback guess);
- cost: uncached input x input rate + cached x cache-read rate (the input rate when the model
  has none) + output x output rate. No 200k tier. A turn on the priority ("fast") service tier
  - as the session's ``turn_context`` records it, else ``service_tier`` in the home's
  ``config.toml`` - costs the model's fast multiplier, else twice that (OpenAI's priority
  price). An unknown model is unpriced, never $0.

Per file we keep the previous total and the current model beside the byte offset, so an
appended turn is priced right without re-reading the file.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import msgspec
from msgspec import Struct

from burntray.io.bounded_read import UnsafeFileError, read_regular_file
from burntray.io.log_tail import FileState, LogTailer
from burntray.model.pricing import Price, PriceTable
from burntray.model.timefmt import TimeFormatError, parse_rfc3339_ns
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.files import JsonlFinder
from burntray.sources.agent_logs.progress import ScanCounter
from burntray.sources.codex.limits import LIMIT_REACHED_MARKER, CodexLimits

PROVIDER = "openai"
FALLBACK_MODEL = "gpt-5"
TOKEN_COUNT_MARKER = b'"token_count"'
TURN_CONTEXT_MARKER = b'"turn_context"'
MAX_CWD = 4096  # a workspace path longer than this is cut (it is only a label)
SUBDIRS = ("sessions", "archived_sessions")
# token_count lines carry usage and the plan's windows; usage_limit_reached errors say one ran out
_MARKERS = (TOKEN_COUNT_MARKER, TURN_CONTEXT_MARKER, LIMIT_REACHED_MARKER)

_Count = Annotated[int, msgspec.Meta(ge=0)]


class _Usage(msgspec.Struct, gc=False):
    input_tokens: _Count = 0
    cached_input_tokens: _Count = 0
    output_tokens: _Count = 0
    reasoning_output_tokens: _Count = 0
    total_tokens: _Count = 0


class _Info(msgspec.Struct, gc=False):
    total_token_usage: _Usage | None = None
    last_token_usage: _Usage | None = None
    model: str | None = None


class _Payload(msgspec.Struct, gc=False):
    type: str | None = None
    info: _Info | None = None
    model: str | None = None
    service_tier: str | None = None
    cwd: Any = None  # turn_context: the workspace (any JSON: an odd one is unknown, not fatal)


class _Line(msgspec.Struct, gc=False):
    type: str | None = None
    timestamp: str | None = None
    payload: _Payload | None = None


_DECODER = msgspec.json.Decoder(_Line)

UsageTuple = tuple[int, int, int, int, int]  # input, cached, output, reasoning, total


def _as_tuple(u: _Usage) -> UsageTuple:
    return (
        u.input_tokens,
        u.cached_input_tokens,
        u.output_tokens,
        u.reasoning_output_tokens,
        u.total_tokens,
    )


FAST_TIERS = frozenset({"priority", "fast"})


def codex_cost(
    price: Price, uncached: int, cached: int, output: int, *, fast: bool = False
) -> float:
    """USD for one turn. ``fast``: the priority service tier, billed at the model's fast
    multiplier where the price table has one, else at twice the standard rates (OpenAI's
    priority processing)."""
    read_rate = price.cache_read if price.cache_read is not None else price.input
    cost = (uncached * price.input + cached * read_rate + output * price.output) / 1_000_000
    if fast:
        cost *= price.fast_multiplier if price.fast_multiplier != 1.0 else 2.0
    return cost


def configured_tier(home: Path) -> str | None:
    """``service_tier`` in the Codex home's ``config.toml`` (what a session without a recorded
    tier ran with), or None. Read as a regular file under a cap; a bad file counts as unset."""

    try:
        data = tomllib.loads(read_regular_file(home / "config.toml", 1024 * 1024).decode())
    except (UnsafeFileError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    tier = data.get("service_tier")
    return tier.strip() if isinstance(tier, str) else None


class CodexTurn(Struct, frozen=True):
    ts_ns: int
    model: str
    model_is_fallback: bool
    input_tokens: int  # as Codex reports it: cached included
    cached_input_tokens: int
    output_tokens: int
    reasoning_output_tokens: int
    service_tier: str | None = None  # as the session recorded it (None: not recorded)
    cwd: str = ""  # the workspace of the session's last turn_context ("" when unknown)


class FileParser:
    """The per-file state of Codex's running totals and model (see the module docstring)."""

    def __init__(self, extra: dict[str, object] | None = None) -> None:
        extra = extra or {}
        prev = extra.get("prev")
        self.prev: UsageTuple | None = (
            tuple(int(v) for v in prev)  # type: ignore[assignment]
            if isinstance(prev, list) and len(prev) == 5 and all(isinstance(v, int) for v in prev)
            else None
        )
        model = extra.get("model")
        self.model: str | None = model if isinstance(model, str) else None
        tier = extra.get("tier")
        self.tier: str | None = tier if isinstance(tier, str) else None
        cwd = extra.get("cwd")
        self.cwd = cwd if isinstance(cwd, str) else ""

    def state(self) -> dict[str, object]:
        return {
            "prev": list(self.prev) if self.prev else None,
            "model": self.model,
            "tier": self.tier,
            "cwd": self.cwd,
        }

    def line(self, line: bytes) -> CodexTurn | None:
        """The turn a line records, or None. Raises ``ValueError`` for malformed JSON."""
        try:
            raw = _DECODER.decode(line)
        except msgspec.DecodeError as exc:
            raise ValueError(str(exc)) from None
        payload = raw.payload
        if raw.type == "turn_context":
            if payload is not None and payload.model:
                self.model = payload.model
            if payload is not None and payload.service_tier:
                self.tier = payload.service_tier
            if payload is not None and isinstance(payload.cwd, str) and payload.cwd:
                self.cwd = payload.cwd[:MAX_CWD]
            return None
        if raw.type != "event_msg" or payload is None or payload.type != "token_count":
            return None
        if raw.timestamp is None:
            return None
        try:
            ts_ns = parse_rfc3339_ns(raw.timestamp.strip())
        except TimeFormatError:
            return None
        info = payload.info
        total = info.total_token_usage if info is not None else None
        last = info.last_token_usage if info is not None else None
        usage: UsageTuple | None
        if last is not None:
            usage = _as_tuple(last)
        elif total is not None:
            now = _as_tuple(total)
            before = self.prev or (0, 0, 0, 0, 0)
            usage = tuple(max(0, a - b) for a, b in zip(now, before, strict=True))  # type: ignore[assignment]
        else:
            usage = None
        if total is not None:
            self.prev = _as_tuple(total)
        if usage is None or not any(usage[:4]):
            return None
        model = payload.model or (info.model if info is not None else None)
        fallback = False
        if not model:
            model = self.model
        if not model:
            model, fallback = FALLBACK_MODEL, True
        inp, cached, out, reasoning, _total = usage
        return CodexTurn(ts_ns, model, fallback, inp, min(cached, inp), out, reasoning, self.tier,
                         self.cwd)  # fmt: skip


class CodexLogReader:
    """Reads what is new in every Codex home's session logs."""

    def __init__(self, homes: Iterable[Path], prices: PriceTable) -> None:
        self.homes = [Path(h) for h in homes]
        self.prices = prices
        self.tailer = LogTailer(_MARKERS)
        self.limits = CodexLimits()  # the plan windows the token_count lines carry
        self._finders = [(h, sub, JsonlFinder(h / sub)) for h in self.homes for sub in SUBDIRS]
        self.missing = ""
        self.progress = ScanCounter()  # a long read's bytes done of bytes to read
        self.fallback_model_turns = 0
        self.fast_tier_turns = 0
        self._tiers: dict[Path, tuple[int, str | None]] = {}
        self.files_seen = 0

    def folders(self) -> list[str]:
        return [f for _h, _s, finder in self._finders for f in finder.folders()]

    @property
    def malformed_lines(self) -> int:
        """Lines skipped in the files as they are now (kept with the offsets)."""
        return self.tailer.skipped()[0]

    @property
    def first_malformed(self) -> str:
        return self.tailer.skipped()[1]

    def unreadable(self) -> dict[str, str]:
        """Folders and files that could not be read on the last pass (path -> why): their
        turns are missing from the figures."""
        found = {p: why for _h, _s, f in self._finders for p, why in f.unreadable.items()}
        return {**found, **self.tailer.stats.unreadable}

    def read_new(self, active_since_ns: int | None = None) -> list[UsageRecord]:
        """Records of the turns new since the last call (``active_since_ns``: as for Claude)."""
        out: list[UsageRecord] = []
        present: set[str] = set()
        problems = []
        todo: list[tuple[Path, str, Path]] = []
        for home in self.homes:
            taken: set[str] = set()  # paths relative to sessions/ (it wins over archived)
            for h, _sub, finder in self._finders:
                if h != home:
                    continue
                files = finder.find()
                if finder.problem:
                    problems.append(finder.problem)
                for name in files:
                    path = Path(name)
                    rel = path.relative_to(finder.root).as_posix()
                    if rel in taken:
                        continue
                    taken.add(rel)
                    present.add(name)
                    if active_since_ns is not None and self.tailer.quiet_since(
                        name, active_since_ns
                    ):
                        continue
                    if not self.tailer.unchanged(name):  # one stat: nearly every file
                        todo.append((path, rel, home))
        # the bytes to read (the first scan's progress line), then the files in their order
        sizes = [_unread(self.tailer, str(path)) for path, _rel, _home in todo]
        self.progress.start(sum(sizes))
        try:
            for (path, rel, home), size in zip(todo, sizes, strict=True):
                self._read_file(path, rel, home, out)
                self.progress.add(size)
        finally:
            self.progress.stop()
        self.tailer.forget_missing(present)
        self.files_seen = len(present)
        self.missing = (
            "no Codex sessions folder: " + "; ".join(problems[:2])
            if problems and len(problems) == len(self._finders)
            else ""
        )
        return out

    def _read_file(self, path: Path, rel: str, home: Path, out: list[UsageRecord]) -> None:
        if self.tailer.unchanged(str(path)):
            return
        state = self.tailer.files.get(str(path))
        parser = FileParser(state.extra if state is not None else None)
        session = rel.removesuffix(".jsonl")
        home_tier = self._home_tier(home)
        key_prefix = f"{home}:{rel}" if len(self.homes) > 1 else rel

        def on_reset(_old: FileState) -> None:
            parser.prev = None
            parser.model = None

        def on_line(line: bytes, offset: int) -> None:
            self.limits.feed(line)
            try:
                turn = parser.line(line)
            except ValueError as exc:
                self.tailer.skip(str(path), f"{path}@{offset}: {exc}")
                return
            if turn is None:
                return
            if turn.model_is_fallback:
                self.fallback_model_turns += 1
            uncached = turn.input_tokens - turn.cached_input_tokens
            price = self.prices.lookup(PROVIDER, turn.model)
            tier = turn.service_tier or home_tier
            if tier in FAST_TIERS:
                self.fast_tier_turns += 1
            cost = (
                codex_cost(
                    price,
                    uncached,
                    turn.cached_input_tokens,
                    turn.output_tokens,
                    fast=tier in FAST_TIERS,
                )
                if price is not None
                else None
            )
            out.append(
                UsageRecord(
                    turn.ts_ns,
                    PROVIDER,
                    turn.model,
                    uncached,
                    turn.output_tokens,
                    turn.cached_input_tokens,
                    0,
                    cost,
                    f"{key_prefix}:{offset}",
                    session,
                    turn.cwd,
                )
            )

        self.tailer.read(path, on_line, on_reset)
        new_state = self.tailer.files.get(str(path))
        if new_state is not None:
            new_state.extra = parser.state()

    def _home_tier(self, home: Path) -> str | None:
        """The home's configured service tier, re-read only when config.toml changed."""
        try:
            stamp = os.stat(home / "config.toml").st_mtime_ns
        except OSError:
            return None
        cached = self._tiers.get(home)
        if cached is None or cached[0] != stamp:
            cached = (stamp, configured_tier(home))
            self._tiers[home] = cached
        return cached[1]

    def reset(self) -> None:
        """Read every file from the start again, as if never read (the history was cleared)."""
        self.tailer = LogTailer(_MARKERS)
        self.limits.reset()
        self.fallback_model_turns = 0
        self.fast_tier_turns = 0
        self._tiers = {}

    def save_state(self) -> str:
        """The per-file offsets, so a restart reads only what is new."""
        return self.tailer.save_state()

    def load_state(self, text: str) -> None:
        self.tailer.load_state(text)


def _unread(tailer: LogTailer, name: str) -> int:
    """Bytes of ``name`` past what was read (what a read of it still has to go through)."""
    try:
        size = os.stat(name).st_size
    except OSError:
        return 0
    state = tailer.files.get(name)
    return max(0, size - (state.offset if state is not None else 0))
