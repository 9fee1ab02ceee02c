"""GitHub Copilot CLI's usage, from what its OpenTelemetry file exporter writes.

Where (see ``.paths``): every ``*.jsonl`` in ``~/.copilot/otel`` (``$COPILOT_HOME/otel``), and
the file ``$COPILOT_OTEL_FILE_EXPORTER_PATH`` names. A line is one exported span or log record
(OTLP as JSON, attributes flat): a ``chat <model>`` span per model call, an ``invoke_agent``
span per agent turn (the turn's sum), and log records (``gen_ai.client.inference.operation
.details``, ``copilot_chat.agent.turn``) that repeat the same usage.

Each model call counts once, from the most detailed record that has it, as ccusage picks: chat
spans always; an inference log only when no chat span shares its trace or response id; an
agent-turn log only when neither does; an ``invoke_agent`` span only when none of those does.

Tokens (GenAI semantic conventions): ``gen_ai.usage.input_tokens`` includes the cache reads
(``gen_ai.usage.cache_read.input_tokens``; uncached input = input - cache reads); cache writes
are ``gen_ai.usage.cache_creation.input_tokens`` (or ``cache_write``); the output includes the
reasoning tokens (``gen_ai.usage.reasoning.output_tokens``, reported apart as the providers'
APIs report them). A total beyond the fields counts as output (all of it when output is
missing). Priced from the table by model; an unknown model is unpriced, never $0.

Live: a file is read when it changed (``agent_logs.stores.WholeFiles``), the lines appended to
one of the last files read decoded alone when that gives what a whole read gives (``.tail``);
the records keep keys (file, trace, span), so a re-read replaces them. Spans and logs reach
the file from two exporters, each on its own schedule, so a call's log can be written before
its chat span: a record that a chat span could still replace is held back until its trace
has been quiet for ``SETTLE_NS`` (then counted, or dropped when the chat span came), never
counted twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from burntray.model.pricing import PriceTable
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.stores import Stamp
from burntray.sources.agent_logs.values import ModelPrices, new_record, record_defaults
from burntray.sources.agent_logs.whole import WholeFileReader, decode_lines, not_json
from burntray.sources.copilot.records import DECODER, Candidate, candidates, select
from burntray.sources.copilot.tail import (
    TAILS_KEPT,
    Tail,
    advance,
    changes_before,
    continues,
    load_tails,
)

_AFTER_SESSION = record_defaults(10)  # a record's fields after its session


class CopilotReader(WholeFileReader):
    """Reads the changed Copilot CLI telemetry files."""

    suffixes = (".jsonl",)

    def __init__(
        self,
        otel_dir: Path,
        exporter_file: Path | None,
        prices: PriceTable,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.otel_dir = otel_dir
        self.exporter_file = exporter_file
        self._single = exporter_file
        self._clock_ns = clock_ns
        self._now_ms = 0
        # per file, what its lines read so far told (``.tail``): an appended file is read on
        # from there, the newest files' only
        self._tails: dict[str, Tail] = {}
        self.bytes_decoded = 0  # what the passes decoded, whole files or what was appended
        super().__init__([otel_dir], prices)
        self._prices = ModelPrices(prices)

    def roots(self, folders: list[Path]) -> list[Path]:
        exporter = self.exporter_file
        if exporter is not None and exporter.parent != self.otel_dir:
            return [self.otel_dir, exporter.parent]
        return [self.otel_dir]

    def keep(self, root: Path, path: Path) -> bool:
        """Every ``*.jsonl`` in the otel folder itself, and the exporter's file."""
        return (root == self.otel_dir and path.parent == self.otel_dir) or path == self._single

    def missing_reason(self) -> str:
        if self.files_seen or not self._files.problems:
            return ""
        return "no Copilot CLI telemetry yet: " + "; ".join(self._files.problems[:2])

    def read_new(self, active_since_ns: int | None = None) -> list[UsageRecord]:
        self._now_ms = self._clock_ns() // 10**6  # one instant for every file of the pass
        return super().read_new(active_since_ns)

    def parse(self, path: Path, data: bytes, stamp: Stamp, out: list[UsageRecord]) -> str | None:
        name = str(path)
        tail = self._tails.pop(name, None)
        if tail is not None and continues(tail, data, stamp):
            done, skipped = self._read_on(path, data, stamp, tail, out)
            if done:
                return skipped
        return self._read_whole(path, data, stamp, out)

    def _read_whole(
        self, path: Path, data: bytes, stamp: Stamp, out: list[UsageRecord]
    ) -> str | None:
        lines, skipped, first = decode_lines(data, DECODER, b'"attributes"')
        self.bytes_decoded += len(data)
        models: dict[str, str] = {}
        sessions: dict[str, tuple[str, int]] = {}
        found, timeless = candidates(lines, stamp[3] // 10**6, models, sessions)
        chosen, held = select(found, self._now_ms)
        out += [self._record(path, c) for c in chosen]
        if held:
            return None  # read again on the next pass, when its trace may have settled
        if data.endswith(b"\n") and not timeless:  # the next pass may read on from its end
            self._keep(str(path), advance(None, data, stamp, len(lines), skipped, first,
                                          models, sessions, found))  # fmt: skip
        return not_json(skipped, first)

    def _read_on(
        self, path: Path, data: bytes, stamp: Stamp, tail: Tail, out: list[UsageRecord]
    ) -> tuple[bool, str | None]:
        """Read the lines after ``tail`` alone: (False, _) when reading the file whole would
        count a record before them differently (nothing was read); else (True, why lines were
        skipped, or None when a record is held back: the tail stays, read on from it next
        pass)."""
        lines, skipped, first = decode_lines(data[tail.size :], DECODER, b'"attributes"',
                                             tail.lines)  # fmt: skip
        self.bytes_decoded += len(data) - tail.size
        models, sessions = dict(tail.models), dict(tail.sessions)
        found, timeless = candidates(lines, stamp[3] // 10**6, models, sessions, tail.found)
        if timeless or changes_before(tail, models, sessions, found):
            return False, None
        chosen, held = select(found, self._now_ms, tail)
        out += [self._record(path, c) for c in chosen]
        if held:
            self._keep(str(path), tail)
            return True, None
        tail = advance(tail, data, stamp, len(lines), skipped, first, models, sessions, found)
        self._keep(str(path), tail)
        return True, not_json(tail.skipped, tail.first)

    def _keep(self, name: str, tail: Tail) -> None:
        """Keep the file's tail; beyond ``TAILS_KEPT``, those of the files written longest ago
        go (they are read whole when they change again): after a first scan, the file being
        written keeps its tail."""
        self._tails[name] = tail
        if len(self._tails) > TAILS_KEPT:
            oldest = min(self._tails, key=lambda k: self._tails[k].mtime)
            del self._tails[oldest]

    def more_state(self) -> dict[str, object]:
        return {"tails": {k: v for k, v in self._tails.items() if k in self._files.stamps}}

    def load_more(self, parts: dict[str, object]) -> None:
        self._tails = load_tails(parts.get("tails", {}))

    def forget(self) -> None:
        self._tails = {}

    def _record(self, path: Path, c: Candidate) -> UsageRecord:
        cost = self._prices.cost(c.model, c.input, c.output, c.cache_read, c.cache_write)
        return new_record((
            c.ts_ms * 10**6, "github-copilot", c.model, c.input, c.output, c.cache_read,
            c.cache_write, cost, f"{path}:{c.key}", c.session, *_AFTER_SESSION,
        ))  # fmt: skip
