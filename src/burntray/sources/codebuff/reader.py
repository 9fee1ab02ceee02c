"""Codebuff's own chat files: every assistant message's tokens.

Where (see ``.paths``): every ``chat-messages.json`` below each ``projects`` folder, in
Codebuff's layout ``<channel>/projects/<project>/chats/<chat id>/chat-messages.json`` (the
chat id is its start time, ``2026-11-20T09-00-00.000Z``). The file is a JSON array of the chat's
messages, rewritten whole as the chat goes on. An assistant message (``variant`` or ``role``
``ai``, ``agent`` or ``assistant``) carries its usage, looked for as ccusage looks: in
``metadata.usage``, else ``metadata.codebuff.usage``, else the newest assistant entries of
``metadata.runState.sessionState.mainAgentState.messageHistory`` (their
``providerOptions.usage`` and ``providerOptions.codebuff.usage``), each field taken from the
first place that has it. Field names vary with the provider: ``inputTokens``/``promptTokens``,
``outputTokens``/``completionTokens``, ``cacheReadInputTokens`` or
``promptTokensDetails.cachedTokens``, ``cacheCreationInputTokens``, ``totalTokens``,
``credits`` (what Codebuff bills) and ``model``.

Anthropic's shape (``inputTokens``, ``cacheReadInputTokens``) has the cache reads apart from the
input; OpenAI's (``promptTokens`` with ``promptTokensDetails.cachedTokens``) counts them inside
the prompt, so burntray's uncached input is the prompt less the cached tokens. A total beyond
the fields counts as output (all of it when the output is missing). A message with only
credits is a request with no tokens. A message found in two files (the same id in a session's
copies) counts once, from the last file. Priced from the table by model; an unknown model is
unpriced, never $0; Codebuff's credits are not shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import msgspec

from burntray.model.pricing import PriceTable
from burntray.model.timefmt import TimeFormatError, parse_rfc3339_ns
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.stores import Stamp
from burntray.sources.agent_logs.values import ModelPrices, text
from burntray.sources.agent_logs.whole import WholeFileReader

FILE = "chat-messages.json"
DEFAULT_MODEL = "codebuff-unknown"
_IN = ("inputTokens", "input_tokens", "promptTokens", "prompt_tokens")
_OUT = ("outputTokens", "output_tokens", "completionTokens", "completion_tokens")
_READ = ("cacheReadInputTokens", "cache_read_input_tokens")
_WRITE = ("cacheCreationInputTokens", "cache_creation_input_tokens", "cacheCreationTokens",
          "cache_creation_tokens", "cachedTokensCreated", "cached_tokens_created")  # fmt: skip
_TOTAL = ("totalTokens", "total_tokens", "total")
FIELDS = ("input", "output", "read", "write", "extra")


def _pick(record: dict[str, object], keys: tuple[str, ...]) -> int:
    for key in keys:
        value = record.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return 0


def _obj(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _credits(record: dict[str, object]) -> float:
    value = record.get("credits")
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    return float(value) if ok and value != float("inf") else 0.0  # type: ignore[arg-type]


def usage_of(value: object) -> dict[str, object]:
    """One usage object's counts (zeros where absent), credits and model."""
    record = _obj(value)
    if not record:  # most places hold none: no key is looked for
        return {"input": 0, "output": 0, "read": 0, "write": 0, "extra": 0, "credits": 0.0,
                "model": None}  # fmt: skip
    inp, out = _pick(record, _IN), _pick(record, _OUT)
    apart = _pick(record, _READ)
    # OpenAI's shape: the cached tokens are part of the prompt count (taken out below)
    inside = max(
        _pick(_obj(record.get("promptTokensDetails")), ("cachedTokens",)),
        _pick(_obj(record.get("prompt_tokens_details")), ("cached_tokens",)),
    )
    read = max(apart, inside)
    if inside > apart and _pick(record, _IN[2:]) and not _pick(record, _IN[:2]):
        inp -= min(inp, inside)
    write = _pick(record, _WRITE)
    missing = max(0, _pick(record, _TOTAL) - (inp + out + read + write))
    extra = 0
    if missing and out == 0:
        out = missing
    else:
        extra = missing
    return {"input": inp, "output": out, "read": read, "write": write, "extra": extra,
            "credits": _credits(record), "model": text(record.get("model")) or None}  # fmt: skip


def merge(target: dict[str, object], fallback: dict[str, object]) -> None:
    """Each field of ``target`` still empty taken from ``fallback``."""
    for field in (*FIELDS, "credits"):
        if not target[field]:
            target[field] = fallback[field]
    if target["model"] is None:
        target["model"] = fallback["model"]


def message_usage(message: dict[str, object]) -> dict[str, object]:
    metadata = _obj(message.get("metadata"))
    # the first place's counts as they are (merged into nothing, they would be the same),
    # the message's own model first; a later place is merged only when it holds a usage
    usage = usage_of(metadata.get("usage"))
    usage["model"] = text(metadata.get("model")) or usage["model"]
    if more := _obj(_obj(metadata.get("codebuff")).get("usage")):
        merge(usage, usage_of(more))
    state = _obj(_obj(_obj(metadata.get("runState")).get("sessionState")).get("mainAgentState"))
    history = state.get("messageHistory")
    if isinstance(history, list):
        found = usage_of(None)
        for item in reversed(history):
            entry = _obj(item)
            options = _obj(entry.get("providerOptions"))
            if entry.get("role") != "assistant" or not options:
                continue
            one = usage_of(options.get("usage"))
            codebuff = _obj(options.get("codebuff"))
            merge(one, usage_of(codebuff.get("usage")))
            one["model"] = text(codebuff.get("model")) or one["model"]
            merge(found, one)
        merge(usage, found)
    if not usage["credits"]:
        usage["credits"] = _credits(message)
    return usage


def _when(value: object) -> int | None:
    if isinstance(value, str):
        try:
            return parse_rfc3339_ns(value.strip())
        except TimeFormatError:
            return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return (value * 1000 if value < 10_000_000_000 else value) * 1_000_000
    return None


def chat_time(chat_id: str) -> int | None:
    """The time a chat id names (``2026-11-20T09-00-00.000Z``)."""
    date, sep, time = chat_id.partition("T")
    if not sep:
        return None
    return _when(f"{date}T{time.replace('-', ':', 2)}")


class CodebuffReader(WholeFileReader):
    """Reads the changed chat files in every Codebuff projects folder."""

    what = "Codebuff projects folder"
    suffixes = (FILE,)
    file_name = FILE  # told from the path's text: a Path per chat cost a warm pass ~2 %

    def __init__(self, folders: Iterable[Path], prices: PriceTable) -> None:
        super().__init__(folders, prices)
        self._prices = ModelPrices(prices)

    def parse(self, path: Path, data: bytes, stamp: Stamp, out: list[UsageRecord]) -> str:
        try:
            messages = msgspec.json.decode(data)
        except msgspec.DecodeError as exc:
            return f"not JSON: {exc}"
        if isinstance(messages, list):
            out += self._chat(path, messages, stamp[3])
        return ""

    def _chat(self, path: Path, messages: list[object], mtime_ns: int) -> list[UsageRecord]:
        chat_id = path.parent.name or "unknown"
        project = path.parent.parent.parent.name or "unknown"
        channel = path.parent.parent.parent.parent.parent.name or "manicode"
        session = f"{channel}/{project}/{chat_id}"
        started = chat_time(chat_id)
        out = []
        for ordinal, item in enumerate(messages):
            message = _obj(item)
            kind = text(message.get("variant")) or text(message.get("role"))
            if kind not in ("ai", "agent", "assistant"):
                continue
            usage = message_usage(message)
            counts = [int(usage[f]) for f in FIELDS]  # type: ignore[call-overload]
            if not any(counts) and not usage["credits"]:
                continue
            metadata = _obj(message.get("metadata"))
            ts = (
                _when(message.get("timestamp")) or _when(message.get("createdAt"))
                or _when(metadata.get("timestamp")) or started or mtime_ns
            )  # fmt: skip
            model = str(usage["model"] or DEFAULT_MODEL)
            inp, output, read, write, extra = counts
            output += extra
            ident = text(message.get("id"))
            key = (
                f"codebuff:{session}:{ident}" if ident
                else f"codebuff:{session}:{ts}:{model}:{ordinal}:{inp}:{output}:{read}:{write}"
            )  # fmt: skip
            cost = self._prices.cost(model, inp, output, read, write)
            out.append(UsageRecord(ts, "", model, inp, output, read, write, cost, key, session,
                                   project))  # fmt: skip
        return out
