"""Gemini CLI's own chat records: every model reply's tokens, read from its ``tmp`` folder.

Where (see ``.paths``): every ``*.json`` and ``*.jsonl`` below each folder, as ccusage reads
them; Gemini CLI writes ``<project hash>/chats/session-*.json`` (a whole session, rewritten as it
goes) and, in newer versions, ``session-*.jsonl`` (a header line with ``sessionId``, then one line
per message; a message written again under the same ``id`` replaces the earlier one). A message
counts when its ``type`` is ``gemini`` and it has ``tokens``. Saved headless output (``stats``,
per model under ``stats.models``) counts too. Other files there (``logs.json``, checkpoints) hold
no usage and are passed over.

Token semantics (Gemini's ``usageMetadata``): ``input`` is the whole prompt, cached part
included; ``cached`` the part read from cache; ``output`` the reply; ``thoughts`` the thinking
tokens and ``tool`` the tool-use prompt; ``total`` all of them. burntray's records carry
uncached input = ``input - cached`` (when ``total`` shows ``cached`` is inside ``input``; headless
``stats`` always) plus ``tool``, cache reads = ``cached`` and output = ``output + thoughts``
(thinking is billed as output). What ``total`` holds beyond those counts as output too (as
output alone when ``output`` is missing). Priced from the table as a Google model; an unknown
model is unpriced, never $0.

Files are read whole when they changed (``agent_logs.stores.WholeFiles``): a session file is
rewritten, so its records keep their keys (file and message id) and replace what was read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import msgspec

from burntray.model.pricing import PriceTable
from burntray.model.timefmt import TimeFormatError
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.stores import Stamp
from burntray.sources.agent_logs.values import (
    ModelPrices,
    new_record,
    record_defaults,
    stamp_ns,
    text,
)
from burntray.sources.agent_logs.whole import WholeFileReader, json_lines

_AFTER_SESSION = record_defaults(10)  # a record's fields after its session

PROVIDER = "google"
DEFAULT_MODEL = "unknown"
_KEYS = {
    "input": ("input", "prompt", "input_tokens", "prompt_tokens"),
    "output": ("output", "candidates", "output_tokens", "candidates_tokens"),
    "cached": ("cached", "cached_tokens"),
    "thoughts": ("thoughts", "reasoning", "thoughts_tokens", "reasoning_tokens"),
    "tool": ("tool", "tool_tokens"),
}


def _number(value: object) -> int | None:
    """A token count: a number, fractions dropped, below 0 as 0; None when not a number."""
    if type(value) is int:
        return value if value > 0 else 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return max(0, int(value))


def _tokens(value: object) -> dict[str, int] | None:
    if not isinstance(value, dict):
        return None
    out = {}
    for field, keys in _KEYS.items():
        found = 0
        for key in keys:
            if key in value and (n := _number(value[key])) is not None:
                found = n
                break
        out[field] = found
    total = _number(value.get("total"))
    if total is None:
        total = _number(value.get("total_tokens"))
    out["total"] = -1 if total is None else total
    return out


def _when(record: dict[str, object], *keys: str) -> int | None:
    for key in keys:
        raw = record.get(key)
        if isinstance(raw, str):
            try:
                return stamp_ns(raw.strip())
            except TimeFormatError:
                continue
    return None


def _stats_of(record: dict[str, object]) -> object:
    """Headless output's ``stats`` (or ``result.stats``), or None."""
    stats = record.get("stats")
    result = record.get("result")
    if stats is None and isinstance(result, dict):
        stats = result.get("stats")
    return stats


class _Usage:
    """One reply's usage in burntray's terms (see the module docstring)."""

    __slots__ = ("cached", "input", "output")

    def __init__(self, tokens: dict[str, int], *, cached_inside: bool) -> None:
        cached = tokens["cached"]
        inp = tokens["input"]
        if cached_inside:
            inp -= min(inp, cached)
        inp += tokens["tool"]
        out, thoughts, total = tokens["output"], tokens["thoughts"], tokens["total"]
        if total < 0:
            total = inp + out + cached + thoughts
        missing = max(0, total - (inp + out + cached + thoughts))
        if missing and out == 0:
            out = missing
        else:
            thoughts += missing
        self.input, self.cached, self.output = inp, cached, out + thoughts

    @property
    def empty(self) -> bool:
        return not (self.input or self.cached or self.output)


def _direct(tokens: dict[str, int]) -> _Usage:
    """A chat message: ``cached`` is inside ``input`` only when ``total`` says so."""
    inclusive = tokens["input"] + tokens["output"] + tokens["thoughts"] + tokens["tool"]
    inside = tokens["cached"] > 0 and tokens["total"] == inclusive
    inside = inside and tokens["total"] != inclusive + tokens["cached"]
    return _Usage(tokens, cached_inside=inside)


class GeminiReader(WholeFileReader):
    """Reads the changed chat files in every Gemini CLI data folder."""

    what = "Gemini CLI data folder"
    suffixes = (".json", ".jsonl")

    def __init__(self, folders: Iterable[Path], prices: PriceTable) -> None:
        super().__init__(folders, prices)
        self._prices = ModelPrices(prices, PROVIDER)

    def parse(self, path: Path, data: bytes, stamp: Stamp, out: list[UsageRecord]) -> str:
        return self._parse(path, data, stamp[3], out)

    def _record(  # noqa: PLR0917 - a record's parts
        self, path: Path, ident: str, model: str, ts: int, session: str, u: _Usage
    ) -> UsageRecord:
        cost = self._prices.cost(model, u.input, u.output, u.cached, 0)
        return new_record((
            ts, PROVIDER, model, u.input, u.output, u.cached, 0, cost, f"{path}:{ident}", session,
            *_AFTER_SESSION,
        ))  # fmt: skip

    def _parse(self, path: Path, data: bytes, mtime_ns: int, out: list[UsageRecord]) -> str:
        """Append the file's records; what could not be used (one reason), or ""."""
        if path.suffix == ".jsonl":
            return self._parse_lines(path, data, mtime_ns, out)
        try:
            doc = msgspec.json.decode(data)
        except msgspec.DecodeError as exc:
            return f"not JSON: {exc}"
        if not isinstance(doc, dict):
            return ""  # an array (logs.json, a checkpoint): no usage
        session = text(doc.get("sessionId")) or text(doc.get("session_id")) or path.stem
        messages = doc.get("messages")
        if isinstance(messages, list):
            at = _when(doc, "startTime", "lastUpdated") or mtime_ns
            for n, msg in enumerate(messages):
                if isinstance(msg, dict) and msg.get("type") == "gemini":
                    self._direct(path, msg, "", session, at, n, out)
            return ""
        if doc.get("type") == "gemini":
            self._direct(path, doc, "", session, mtime_ns, 0, out)
            return ""
        self._stats(
            path,
            doc,
            text(doc.get("model")),
            session,
            _when(doc, "timestamp") or mtime_ns,
            "s",
            out,
        )
        return ""

    def _parse_lines(self, path: Path, data: bytes, mtime_ns: int, out: list[UsageRecord]) -> str:
        session = path.stem
        model = ""
        found: dict[str, UsageRecord] = {}
        lines, why = json_lines(data)
        for n, rec in lines:
            session = text(rec.get("sessionId")) or text(rec.get("session_id")) or session
            model = text(rec.get("model")) or model
            if rec.get("type") == "gemini":
                mine: list[UsageRecord] = []
                self._direct(path, rec, model, session, mtime_ns, n, mine)
                for r in mine:
                    found[r.key] = r  # a message written again under its id replaces it
                continue
            stats = _stats_of(rec)
            if stats is not None:
                at = _when(rec, "timestamp") or mtime_ns
                mine = []
                self._stats(path, {"stats": stats}, model, session, at, f"s{n}", mine)
                found.update((r.key, r) for r in mine)
        out.extend(found.values())
        return why

    def _direct(  # noqa: PLR0917 - a message and where it sits
        self, path: Path, msg: dict[str, object], hint: str, session: str, at: int, n: int,
        out: list[UsageRecord],
    ) -> None:  # fmt: skip
        tokens = _tokens(msg.get("tokens"))
        model = text(msg.get("model")) or hint
        if tokens is None or not model:
            return
        usage = _direct(tokens)
        if usage.empty:
            return
        ts = _when(msg, "timestamp", "created_at") or at
        ident = text(msg.get("id")) or f"#{n}"
        out.append(self._record(path, ident, model, ts, session, usage))

    def _stats(  # noqa: PLR0917 - the stats and where they sit
        self, path: Path, doc: dict[str, object], hint: str, session: str, at: int, tag: str,
        out: list[UsageRecord],
    ) -> None:  # fmt: skip
        stats = _stats_of(doc)
        if not isinstance(stats, dict):
            return
        models = stats.get("models")
        found = False
        if isinstance(models, dict):
            for name, entry in models.items():
                tokens = _tokens(entry.get("tokens")) if isinstance(entry, dict) else None
                if tokens is None or not str(name).strip():
                    continue
                usage = _Usage(tokens, cached_inside=True)
                if not usage.empty:
                    found = True
                    rec = self._record(path, f"{tag}:{name}", str(name).strip(), at, session, usage)
                    out.append(rec)
        if found:
            return
        tokens = _tokens(stats)
        if tokens is None:
            return
        usage = _Usage(tokens, cached_inside=True)
        if not usage.empty:
            out.append(self._record(path, tag, hint or DEFAULT_MODEL, at, session, usage))
