"""Amp's own thread files: every assistant reply's tokens, read from ``threads/*.json``.

Where (see ``.paths``): ``threads/T-<uuid>.json`` in each Amp data folder, one file per thread,
rewritten whole as the thread goes on. A thread counts its usage from one of two places:

- ``usageLedger.events[]`` (older Amp): per event ``timestamp``, ``model``, ``tokens`` with
  ``input``, ``output`` and ``total``, and ``toMessageId``, the message whose ``usage`` gives
  that event's cache writes and reads (``cacheCreationInputTokens``, ``cacheReadInputTokens``);
- else ``messages[].usage`` of assistant messages (current Amp): ``model``, ``timestamp``,
  ``inputTokens`` (not read from cache), ``outputTokens``, ``cacheCreationInputTokens``,
  ``cacheReadInputTokens`` and ``totalTokens``.

A ``total`` beyond the fields counts as output (all of it when the output is missing). Priced
from the table by model; an unknown model is unpriced, never $0. Amp's ``credits`` (what Amp
bills) are not shown: burntray's cost is the tokens at API prices.

Files are read whole when they changed (``agent_logs.stores.WholeFiles``); the records keep keys
(file and event or message id), so a re-read replaces them.
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
    count,
    new_record,
    record_defaults,
    stamp_ns,
    text,
)
from burntray.sources.agent_logs.whole import WholeFileReader

_AFTER_SESSION = record_defaults(10)  # a record's fields after its session


class _Message(msgspec.Struct, gc=False):
    """What is read of a thread's message (its content is passed over, never built)."""

    role: object = None
    messageId: object = None
    usage: object = None
    timestamp: object = None
    model: object = None


class _Thread(msgspec.Struct, gc=False):
    id: object = None
    messages: list[_Message] = []
    usageLedger: object = None


_DECODER = msgspec.json.Decoder(_Thread)


def _when(*values: object) -> int | None:
    for raw in values:
        if isinstance(raw, str) and raw.strip():
            try:
                # Amp's own form parsed in C (``stamp_ns``: the same instant, or the same error)
                return stamp_ns(raw.strip())
            except TimeFormatError:
                return None
    return None


def _tokens(inp: int, out: int, write: int, read: int, total: int) -> tuple[int, int, int, int]:
    missing = max(0, total - (inp + out + write + read))
    return inp, out + missing, write, read


class AmpReader(WholeFileReader):
    """Reads the changed thread files in every Amp data folder."""

    what = "Amp threads folder"

    def __init__(self, folders: Iterable[Path], prices: PriceTable) -> None:
        super().__init__(folders, prices)
        self._prices = ModelPrices(prices)

    def roots(self, folders: list[Path]) -> list[Path]:
        return [d / "threads" for d in folders]

    def parse(self, path: Path, data: bytes, stamp: Stamp, out: list[UsageRecord]) -> str:
        try:
            out += self._thread(path, _DECODER.decode(data))
        except msgspec.DecodeError as exc:
            return f"not a thread: {exc}"
        return ""

    def _record(  # noqa: PLR0917 - a record's parts
        self, path: Path, ident: str, ts: int, model: str, thread: str, tokens: tuple[int, ...]
    ) -> UsageRecord:
        inp, out, write, read = tokens
        cost = self._prices.cost(model, inp, out, read, write)
        return new_record((ts, "", model, inp, out, read, write, cost, f"{path}:{ident}", thread,
                           *_AFTER_SESSION))  # fmt: skip

    def _thread(self, path: Path, doc: _Thread) -> list[UsageRecord]:
        thread = text(doc.id)
        if not thread:
            return []
        messages = doc.messages
        ledger = doc.usageLedger
        events = ledger.get("events") if isinstance(ledger, dict) else None
        if isinstance(events, list):
            return self._ledger(path, thread, events, messages)
        out = []
        for n, msg in enumerate(messages):
            usage = msg.usage
            if msg.role != "assistant" or not isinstance(usage, dict):
                continue
            ts = _when(usage.get("timestamp"), msg.timestamp)
            model = text(usage.get("model")) or text(msg.model)
            tokens = _tokens(
                count(usage.get("inputTokens")), count(usage.get("outputTokens")),
                count(usage.get("cacheCreationInputTokens")),
                count(usage.get("cacheReadInputTokens")), count(usage.get("totalTokens")),
            )  # fmt: skip
            if ts is None or not model or not any(tokens):
                continue
            ident = msg.messageId
            key = f"m:{ident}" if isinstance(ident, (int, str)) and str(ident) else f"m#{n}"
            out.append(self._record(path, key, ts, model, thread, tokens))
        return out

    def _ledger(
        self, path: Path, thread: str, events: list[object], messages: list[_Message]
    ) -> list[UsageRecord]:
        cache: dict[int, tuple[int, int]] = {}
        for msg in messages:
            if msg.role == "assistant":
                ident, usage = msg.messageId, msg.usage
                if isinstance(ident, int) and not isinstance(ident, bool):
                    usage = usage if isinstance(usage, dict) else {}
                    cache[ident] = (
                        count(usage.get("cacheCreationInputTokens")),
                        count(usage.get("cacheReadInputTokens")),
                    )
        out = []
        for n, event in enumerate(events):
            if not isinstance(event, dict):
                continue
            ts = _when(event.get("timestamp"))
            model = text(event.get("model"))
            tokens = event.get("tokens")
            if ts is None or not model or not isinstance(tokens, dict):
                continue
            target = event.get("toMessageId")
            write, read = cache.get(target, (0, 0)) if isinstance(target, int) else (0, 0)
            counts = _tokens(
                count(tokens.get("input")), count(tokens.get("output")), write, read,
                count(tokens.get("total")),
            )  # fmt: skip
            if not any(counts):
                continue
            ident = text(event.get("id")) or f"#{n}"
            out.append(self._record(path, f"e:{ident}", ts, model, thread, counts))
        return out
