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
from burntray.sources.agent_logs.whole import WholeFileReader

_AFTER_PROJECT = record_defaults(11)  # a record's fields after its project

FILE = "chat-messages.json"
DEFAULT_MODEL = "codebuff-unknown"
_IN = ("inputTokens", "input_tokens", "promptTokens", "prompt_tokens")
_OUT = ("outputTokens", "output_tokens", "completionTokens", "completion_tokens")
_READ = ("cacheReadInputTokens", "cache_read_input_tokens")
_WRITE = ("cacheCreationInputTokens", "cache_creation_input_tokens", "cacheCreationTokens",
          "cache_creation_tokens", "cachedTokensCreated", "cached_tokens_created")  # fmt: skip
_TOTAL = ("totalTokens", "total_tokens", "total")
FIELDS = ("input", "output", "read", "write", "extra")
# a count's name -> (which count: input, output, cache read, cache write, total; its rank)
_SLOTS = {
    key: (slot, rank)
    for slot, keys in enumerate((_IN, _OUT, _READ, _WRITE, _TOTAL))
    for rank, key in enumerate(keys)
}
_UNNAMED = len(_WRITE)  # beyond every rank


def _pick(record: dict[str, object], keys: tuple[str, ...]) -> int:
    for key in keys:
        value = record.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return 0


def _obj(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _credits(record: dict[str, object]) -> float:
    return _credit(record.get("credits"))


def _credit(value: object) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    return float(value) if ok and value != float("inf") else 0.0  # type: ignore[arg-type]


def usage_of(value: object) -> dict[str, object]:
    """One usage object's counts (zeros where absent), credits and model."""
    record = _obj(value)
    if not record:  # most places hold none: no key is looked for
        return {"input": 0, "output": 0, "read": 0, "write": 0, "extra": 0, "credits": 0.0,
                "model": None}  # fmt: skip
    # each count from the first of its names (in ``_IN``'s etc. order) holding a count above 0:
    # one pass over the few keys the object has, not a lookup of each of the 19 names
    counts, ranks = [0, 0, 0, 0, 0], [_UNNAMED] * 5
    for key, found in record.items():
        where = _SLOTS.get(key)
        if where is not None and type(found) is int and found > 0:  # bool is not int here
            slot, rank = where
            if rank < ranks[slot]:
                counts[slot], ranks[slot] = found, rank
    inp, out, apart, write, total = counts
    # OpenAI's shape: the cached tokens are part of the prompt count (taken out below)
    inside = 0
    if "promptTokensDetails" in record or "prompt_tokens_details" in record:
        inside = max(
            _pick(_obj(record.get("promptTokensDetails")), ("cachedTokens",)),
            _pick(_obj(record.get("prompt_tokens_details")), ("cached_tokens",)),
        )
    read = max(apart, inside)
    if inside > apart and ranks[0] in (2, 3):  # a count named as OpenAI names it, none else
        inp -= min(inp, inside)
    missing = max(0, total - (inp + out + read + write))
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


def _usage(metadata: dict[str, object], own_credits: object) -> dict[str, object]:
    """A message's usage, from its metadata (and its own credits when none is there)."""
    # the first place's counts as they are (merged into nothing, they would be the same),
    # the message's own model first; a later place is merged only when it holds a usage
    usage = usage_of(metadata.get("usage"))
    usage["model"] = text(metadata.get("model")) or usage["model"]
    # most messages have neither of the places below: no lookups of the nested keys then
    codebuff = metadata.get("codebuff")
    if type(codebuff) is dict and (more := _obj(codebuff.get("usage"))):
        merge(usage, usage_of(more))
    run = metadata.get("runState")
    history = None
    if type(run) is dict:
        state = _obj(_obj(run.get("sessionState")).get("mainAgentState"))
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
        usage["credits"] = _credit(own_credits)
    return usage


def _when(value: object) -> int | None:
    if isinstance(value, str):
        try:
            return stamp_ns(value.strip())
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


class _Message(msgspec.Struct, gc=False):
    """The fields of a chat message read (its texts are passed over, not made strings)."""

    variant: object = None
    role: object = None
    id: object = None
    timestamp: object = None
    createdAt: object = None
    credits: object = None
    metadata: object = None


_CHAT = msgspec.json.Decoder(list[_Message])
# (variant, role, id, timestamp, createdAt, credits, metadata) of a message
Fields = tuple[object, object, object, object, object, object, object]


def _fields(messages: list[object]) -> list[Fields]:
    """The fields of a chat decoded whole (a message that is not an object has none)."""
    out: list[Fields] = []
    for item in messages:
        m = _obj(item)
        out.append((m.get("variant"), m.get("role"), m.get("id"), m.get("timestamp"),
                    m.get("createdAt"), m.get("credits"), m.get("metadata")))  # fmt: skip
    return out


class CodebuffReader(WholeFileReader):
    """Reads the changed chat files in every Codebuff projects folder."""

    what = "Codebuff projects folder"
    suffixes = (FILE,)
    file_name = FILE  # told from the path's text: a Path per chat cost a warm pass ~2 %

    def __init__(self, folders: Iterable[Path], prices: PriceTable) -> None:
        super().__init__(folders, prices)
        self._prices = ModelPrices(prices)

    def parse(self, path: Path, data: bytes, stamp: Stamp, out: list[UsageRecord]) -> str:
        # the usual chat, an array of objects, decoded to the fields read; anything else
        # (an item that is not an object, a file that is no array) decoded whole, as before
        try:
            typed = _CHAT.decode(data)
        except msgspec.DecodeError:  # a ValidationError too: decoded whole below
            pass
        else:
            fields = [(m.variant, m.role, m.id, m.timestamp, m.createdAt, m.credits, m.metadata)
                      for m in typed]  # fmt: skip
            out += self._chat(path, fields, stamp[3])
            return ""
        try:
            messages = msgspec.json.decode(data)
        except msgspec.DecodeError as exc:
            return f"not JSON: {exc}"
        if isinstance(messages, list):
            out += self._chat(path, _fields(messages), stamp[3])
        return ""

    def _chat(self, path: Path, messages: list[Fields], mtime_ns: int) -> list[UsageRecord]:
        chat_id = path.parent.name or "unknown"
        project = path.parent.parent.parent.name or "unknown"
        channel = path.parent.parent.parent.parent.parent.name or "manicode"
        session = f"{channel}/{project}/{chat_id}"
        started = chat_time(chat_id)
        out = []
        for ordinal, (variant, role, ident_, stamp, created, credits, meta) in enumerate(messages):
            kind = text(variant) or text(role)
            if kind not in ("ai", "agent", "assistant"):
                continue
            metadata = _obj(meta)
            usage = _usage(metadata, credits)
            counts = [int(usage[f]) for f in FIELDS]  # type: ignore[call-overload]
            if not any(counts) and not usage["credits"]:
                continue
            ts = (
                _when(stamp) or _when(created)
                or _when(metadata.get("timestamp")) or started or mtime_ns
            )  # fmt: skip
            model = str(usage["model"] or DEFAULT_MODEL)
            inp, output, read, write, extra = counts
            output += extra
            ident = text(ident_)
            key = (
                f"codebuff:{session}:{ident}" if ident
                else f"codebuff:{session}:{ts}:{model}:{ordinal}:{inp}:{output}:{read}:{write}"
            )  # fmt: skip
            cost = self._prices.cost(model, inp, output, read, write)
            out.append(new_record((ts, "", model, inp, output, read, write, cost, key, session,
                                   project, *_AFTER_PROJECT)))  # fmt: skip
        return out
