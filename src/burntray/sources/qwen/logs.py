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

from burntray.model.pricing import PriceTable
from burntray.model.timefmt import TimeFormatError
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.jsonl import JsonlReader, parts_below
from burntray.sources.agent_logs.values import (
    ModelPrices,
    count,
    new_record,
    record_defaults,
    stamp_ns,
    text,
)

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
_AFTER_PROJECT = record_defaults(11)  # a record's fields after its project


def _chat_project(root: str, name: str) -> str | None:
    """The project of ``root/<project>/chats/<file>.jsonl``, None for any other file, on the
    text of a path found below ``root`` (no Path made: a first scan looks at every chat log's
    name twice)."""
    parts = parts_below(root, name)
    if parts is not None and len(parts) == 3 and parts[1] == "chats" and parts[0] and parts[2]:
        return parts[0]
    return None


class QwenLogReader(JsonlReader):
    """Reads what is new in every Qwen Code data folder's chat logs."""

    markers = (MARKER,)
    what = "Qwen Code projects folder"

    def __init__(self, folders: Iterable[Path], prices: PriceTable) -> None:
        super().__init__(folders, prices)
        self._prices = ModelPrices(prices)

    def roots(self, folder: Path) -> list[Path]:
        return [folder / "projects"]

    def keep(self, root: Path, path: Path) -> bool:
        return _chat_project(str(root), str(path)) is not None

    def keep_name(self, root: Path, name: str) -> bool:
        return _chat_project(str(root), name) is not None

    def read_file(self, folder: Path, root: Path, path: Path, out: list[UsageRecord]) -> None:
        project = _chat_project(str(root), str(path)) or ""
        self.tail(path, _DECODER.decode, lambda rec: self._record(rec, path, project), out)

    def _record(self, rec: _Line, path: Path, project: str) -> UsageRecord | None:
        usage = rec.usageMetadata
        if rec.type != "assistant" or usage is None:
            return None
        prompt, cand = count(usage.promptTokenCount), count(usage.candidatesTokenCount)
        thoughts, cached = count(usage.thoughtsTokenCount), count(usage.cachedContentTokenCount)
        total = count(usage.totalTokenCount)
        output = max(cand, total - prompt) if total else cand + thoughts
        if not (prompt or output or cached):
            return None
        stamp = text(rec.timestamp)
        try:
            ts = stamp_ns(stamp)
        except TimeFormatError:
            try:
                ts, stamp = path.stat().st_mtime_ns, ""  # as ccusage: the file's time
            except OSError:
                return None
        session = text(rec.sessionId) or f"{project}-{path.stem}"
        model = text(rec.model) or "unknown"
        uncached = prompt - min(prompt, cached)
        cost = self._prices.cost(model, uncached, output, cached, 0)
        key = f"q:{session}|{stamp or ts}|{model}|{prompt}|{cand}|{cached}|{thoughts}|{total}"
        return new_record((
            ts, "", model, uncached, output, cached, 0, cost, key, session,
            text(rec.cwd) or project, *_AFTER_PROJECT,
        ))  # fmt: skip
