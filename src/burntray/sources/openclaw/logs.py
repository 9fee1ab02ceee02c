"""OpenClaw's session logs: every assistant message's tokens and cost, tailed as appended.

Where (see ``.paths``): below each state folder, ``agents/<agent>/sessions/<id>.jsonl`` and the
copies a reset or a delete leaves (``<id>.jsonl.reset.<time>``, ``<id>.jsonl.deleted.<time>``).
OpenClaw (pi's successor as a personal agent) appends one JSON record per line: a
``model_change`` (or a ``custom`` ``model-snapshot``) names the ``provider`` and ``modelId``
from then on; an assistant message is ``{"type": "message", "message": {"role": "assistant",
"usage": {...}, "timestamp": <ms>}}``, its usage ``input`` (not read from cache), ``output``,
``cacheRead``, ``cacheWrite``, ``totalTokens`` and ``cost.total`` (OpenClaw's own, USD).

A total beyond the fields counts as output. The cost is OpenClaw's when above 0, else priced
from the table (an unknown model unpriced, never $0). A message in a session's archived copy
counts once: its key is the session, time, model, counts and cost, as ccusage keys it. The model
named so far is kept per file with the offset, so an appended message is priced right.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import msgspec

from burntray.io.log_tail import FileState
from burntray.model.pricing import PriceTable
from burntray.model.timefmt import TimeFormatError
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.jsonl import JsonlReader
from burntray.sources.agent_logs.values import ProviderPrices, count, own_cost, stamp_ns, text
from burntray.sources.openclaw.paths import is_session_file

MARKERS = (b'"model_change"', b'"model-snapshot"', b'"usage"')
# A field that should hold an object may hold anything else: then it holds nothing read.
_Other = list[object] | str | int | float | bool | None


class _Usage(msgspec.Struct, gc=False):
    input: object = 0
    output: object = 0
    cacheRead: object = 0
    cacheWrite: object = 0
    totalTokens: object = 0
    cost: object = None  # {"total": USD, ...}


class _Message(msgspec.Struct, gc=False):
    role: object = None
    usage: _Usage | _Other = None
    timestamp: object = None
    modelId: object = None
    model: object = None
    provider: object = None


class _Line(msgspec.Struct, gc=False):
    """The fields read of one line (the texts and tool results in between are not decoded)."""

    type: object = None
    customType: object = None
    timestamp: object = None
    message: _Message | _Other = None
    data: object = None  # a model change's own fields, when there
    modelId: object = None
    model: object = None
    provider: object = None


_DECODER = msgspec.json.Decoder(_Line)


def _decode(line: bytes) -> _Line | None:
    """A line as its fields; None for JSON that is not an object (no record, not malformed)."""
    try:
        return _DECODER.decode(line)
    except msgspec.ValidationError:
        return None


def _when(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value * 1_000_000
    if isinstance(value, str):
        try:
            return stamp_ns(value.strip())
        except TimeFormatError:
            return None
    return None


def session_of(path: Path) -> str:
    name = path.name
    index = name.find(".jsonl")
    return name[:index] if index > 0 else name


class OpenClawLogReader(JsonlReader):
    """Reads what is new in every OpenClaw state folder's session logs."""

    markers = MARKERS
    what = "OpenClaw state folder"
    # every file name is looked at (archived copies have no fixed suffix); only session logs
    # are read
    suffixes = ("",)

    def __init__(self, folders: Iterable[Path], prices: PriceTable) -> None:
        super().__init__(folders, prices)
        self._prices = ProviderPrices(prices)

    def keep(self, root: Path, path: Path) -> bool:
        return is_session_file(path.name)

    def read_file(self, folder: Path, root: Path, path: Path, out: list[UsageRecord]) -> None:
        state = self.tailer.files.get(str(path))
        extra = state.extra if state is not None else {}
        current = {"model": text(extra.get("model")), "provider": text(extra.get("provider"))}
        session = session_of(path)
        try:
            fallback = path.stat().st_mtime_ns // 1_000_000 * 1_000_000
        except OSError:
            return

        def record(rec: _Line | None) -> UsageRecord | None:
            if rec is None:
                return None
            kind = rec.type
            if kind == "model_change" or (kind == "custom" and rec.customType == "model-snapshot"):
                data = rec.data
                if isinstance(data, dict) and data:
                    model = text(data.get("modelId")) or text(data.get("model"))
                    provider = text(data.get("provider"))
                else:
                    model = text(rec.modelId) or text(rec.model)
                    provider = text(rec.provider)
                current["model"] = model or current["model"]
                current["provider"] = provider or current["provider"]
                return None
            return self._record(rec, session, current, fallback)

        def on_reset(_old: FileState) -> None:
            current["model"] = current["provider"] = ""

        self.tail(path, _decode, record, out, on_reset)
        new_state = self.tailer.files.get(str(path))
        if new_state is not None:
            new_state.extra = dict(current)

    def _record(
        self, rec: _Line, session: str, current: dict[str, str], fallback: int
    ) -> UsageRecord | None:
        message = rec.message
        if rec.type != "message" or not isinstance(message, _Message):
            return None
        usage = message.usage
        if message.role != "assistant" or not isinstance(usage, _Usage):
            return None
        inp, out = count(usage.input), count(usage.output)
        read, write = count(usage.cacheRead), count(usage.cacheWrite)
        out += max(0, count(usage.totalTokens) - (inp + out + read + write))
        if not (inp or out or read or write):
            return None
        ts = _when(message.timestamp) or _when(rec.timestamp) or fallback
        model = (
            text(message.modelId) or text(message.model) or current["model"] or "unknown"
        )  # fmt: skip
        provider = text(message.provider) or current["provider"]
        own = usage.cost.get("total") if isinstance(usage.cost, dict) else None
        cost = own_cost(own)
        upstream = cost is not None
        if not upstream:
            cost = self._prices.cost(provider, model, inp, out, read, write)
        key = f"oc:{session}:{ts // 1_000_000}:{model}:{inp}:{out}:{write}:{read}:{own}"
        return UsageRecord(ts, provider, model, inp, out, read, write, cost, key, session,
                           cost_from_upstream=upstream)  # fmt: skip
