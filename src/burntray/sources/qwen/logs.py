"""Qwen Code's own chat logs: every assistant reply's tokens, tailed as they are appended.

Where (see ``.paths``): ``projects/<project>/chats/<session>.jsonl`` in each Qwen Code data
folder (that depth only, as ccusage reads them). Qwen Code (a Gemini CLI fork) appends one JSON
record per line: ``type`` (``user``, ``assistant``, ``tool_result``, ``system``), ``sessionId``,
``timestamp``, ``cwd``, ``model`` and, on assistant records, ``usageMetadata`` in Gemini's terms:
``promptTokenCount`` (the whole prompt, the cached part included), ``cachedContentTokenCount``,
``candidatesTokenCount``, ``thoughtsTokenCount`` and ``totalTokenCount``.

burntray's records: uncached input = prompt - cached, cache reads = cached, output = what the
total holds beyond the prompt (the reply and its thinking) when a total is given, else
candidates + thoughts. A reply logged twice (a session resumed into another file) counts once:
the key is the reply's session, time, model and counts, as ccusage keys it. Priced from the table
by model; an unknown model (burntray's table has no Qwen models: add them under ``[pricing]``)
is unpriced, never $0.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import msgspec

from burntray.io.log_tail import FileState, LogTailer
from burntray.model.pricing import PriceTable
from burntray.model.timefmt import TimeFormatError, parse_rfc3339_ns
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.files import JsonlFinder
from burntray.sources.agent_logs.stores import ModelPrices

MARKER = b'"usageMetadata"'


class _Usage(msgspec.Struct, gc=False):
    promptTokenCount: object = 0
    candidatesTokenCount: object = 0
    thoughtsTokenCount: object = 0
    cachedContentTokenCount: object = 0
    totalTokenCount: object = 0


class _Line(msgspec.Struct, gc=False):
    type: object = None
    timestamp: object = None
    sessionId: object = None
    model: object = None
    cwd: object = None
    usageMetadata: _Usage | None = None


_DECODER = msgspec.json.Decoder(_Line)


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def chat_file(projects: Path, path: Path) -> str | None:
    """The project of ``projects/<project>/chats/<file>.jsonl``; None for any other file."""
    parts = path.relative_to(projects).parts
    if len(parts) == 3 and parts[1] == "chats" and parts[0]:
        return parts[0]
    return None


class QwenLogReader:
    """Reads what is new in every Qwen Code data folder's chat logs."""

    def __init__(self, folders: Iterable[Path], prices: PriceTable) -> None:
        self.data_dirs = [Path(f) for f in folders]
        self.prices = prices
        self._prices = ModelPrices(prices)
        self.tailer = LogTailer([MARKER])
        self._finders = [JsonlFinder(d / "projects") for d in self.data_dirs]
        self.missing = ""
        self.files_seen = 0

    def folders(self) -> list[str]:
        return [f for finder in self._finders for f in finder.folders()]

    @property
    def malformed_lines(self) -> int:
        return self.tailer.skipped()[0]

    @property
    def first_malformed(self) -> str:
        return self.tailer.skipped()[1]

    def unreadable(self) -> dict[str, str]:
        found = {p: why for f in self._finders for p, why in f.unreadable.items()}
        return {**found, **self.tailer.stats.unreadable}

    def read_new(self, active_since_ns: int | None = None) -> list[UsageRecord]:
        out: list[UsageRecord] = []
        present: set[str] = set()
        problems = []
        for finder in self._finders:
            files = finder.find()
            if finder.problem:
                problems.append(finder.problem)
            for name in files:
                path = Path(name)
                project = chat_file(finder.root, path)
                if project is None:
                    continue
                present.add(name)
                if active_since_ns is not None and self.tailer.quiet_since(name, active_since_ns):
                    continue
                if not self.tailer.unchanged(name):
                    self._read_file(path, project, out)
        self.tailer.forget_missing(present)
        self.files_seen = len(present)
        self.missing = (
            "no Qwen Code projects folder: " + "; ".join(problems[:2])
            if problems and len(problems) == len(self._finders)
            else ""
        )
        return out

    def _read_file(self, path: Path, project: str, out: list[UsageRecord]) -> None:
        def on_line(line: bytes, offset: int) -> None:
            try:
                rec = _DECODER.decode(line)
            except msgspec.DecodeError as exc:
                self.tailer.skip(str(path), f"{path}@{offset}: {exc}")
                return
            record = self._record(rec, path, project)
            if record is not None:
                out.append(record)

        def on_reset(_old: FileState) -> None:
            pass  # no per-file state: every record stands alone

        self.tailer.read(path, on_line, on_reset)

    def _record(self, rec: _Line, path: Path, project: str) -> UsageRecord | None:
        usage = rec.usageMetadata
        if rec.type != "assistant" or usage is None:
            return None
        prompt, cand = _count(usage.promptTokenCount), _count(usage.candidatesTokenCount)
        thoughts, cached = _count(usage.thoughtsTokenCount), _count(usage.cachedContentTokenCount)
        total = _count(usage.totalTokenCount)
        output = max(cand, total - prompt) if total else cand + thoughts
        if not (prompt or output or cached):
            return None
        stamp = _text(rec.timestamp)
        try:
            ts = parse_rfc3339_ns(stamp)
        except TimeFormatError:
            try:
                ts, stamp = path.stat().st_mtime_ns, ""  # as ccusage: the file's time
            except OSError:
                return None
        session = _text(rec.sessionId) or f"{project}-{path.stem}"
        model = _text(rec.model) or "unknown"
        uncached = prompt - min(prompt, cached)
        cost = self._prices.cost(model, uncached, output, cached, 0)
        key = f"q:{session}|{stamp or ts}|{model}|{prompt}|{cand}|{cached}|{thoughts}|{total}"
        return UsageRecord(
            ts, "", model, uncached, output, cached, 0, cost, key, session,
            _text(rec.cwd) or project,
        )  # fmt: skip

    def reset(self) -> None:
        self.tailer = LogTailer([MARKER])

    def save_state(self) -> str:
        return self.tailer.save_state()

    def load_state(self, text: str) -> None:
        self.tailer.load_state(text)
