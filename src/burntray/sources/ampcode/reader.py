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
from burntray.model.timefmt import TimeFormatError, parse_rfc3339_ns
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.stores import (
    WholeFiles,
    dump_state,
    load_state_parts,
)
from burntray.sources.agent_logs.values import ModelPrices


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


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _when(*values: object) -> int | None:
    for raw in values:
        if isinstance(raw, str) and raw.strip():
            try:
                return parse_rfc3339_ns(raw.strip())
            except TimeFormatError:
                return None
    return None


def _tokens(inp: int, out: int, write: int, read: int, total: int) -> tuple[int, int, int, int]:
    missing = max(0, total - (inp + out + write + read))
    return inp, out + missing, write, read


class AmpReader:
    """Reads the changed thread files in every Amp data folder."""

    def __init__(self, folders: Iterable[Path], prices: PriceTable) -> None:
        self.data_dirs = [Path(f) for f in folders]
        self.prices = prices
        self._prices = ModelPrices(prices)
        self.missing = ""
        self.files_seen = 0
        self.files_read = 0
        self._files = WholeFiles([d / "threads" for d in self.data_dirs], (".json",))

    @property
    def progress(self) -> int:
        return self._files.progress

    @property
    def malformed_lines(self) -> int:
        return self._files.malformed

    @property
    def first_malformed(self) -> str:
        return self._files.first_malformed

    def folders(self) -> list[str]:
        return self._files.folders()

    def unreadable(self) -> dict[str, str]:
        return dict(self._files.unreadable)

    def read_new(self, active_since_ns: int | None = None) -> list[UsageRecord]:
        out: list[UsageRecord] = []
        for _root, path, stamp in self._files.changed():
            data = self._files.read(path)
            if data is None:
                continue
            self.files_read += 1
            why = ""
            try:
                out += self._thread(path, _DECODER.decode(data))
            except msgspec.DecodeError as exc:
                why = f"not a thread: {exc}"
            self._files.done(path, stamp, why)
        self.files_seen = self._files.files_seen
        problems = self._files.problems
        self.missing = (
            "no Amp threads folder: " + "; ".join(problems[:2])
            if problems and len(problems) == len(self.data_dirs)
            else ""
        )
        return out

    def _record(  # noqa: PLR0917 - a record's parts
        self, path: Path, ident: str, ts: int, model: str, thread: str, tokens: tuple[int, ...]
    ) -> UsageRecord:
        inp, out, write, read = tokens
        cost = self._prices.cost(model, inp, out, read, write)
        return UsageRecord(ts, "", model, inp, out, read, write, cost, f"{path}:{ident}", thread)

    def _thread(self, path: Path, doc: _Thread) -> list[UsageRecord]:
        thread = _text(doc.id)
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
            model = _text(usage.get("model")) or _text(msg.model)
            tokens = _tokens(
                _count(usage.get("inputTokens")), _count(usage.get("outputTokens")),
                _count(usage.get("cacheCreationInputTokens")),
                _count(usage.get("cacheReadInputTokens")), _count(usage.get("totalTokens")),
            )  # fmt: skip
            if ts is None or not model or not any(tokens):
                continue
            ident = msg.messageId
            key = f"m:{ident}" if isinstance(ident, int | str) and str(ident) else f"m#{n}"
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
                        _count(usage.get("cacheCreationInputTokens")),
                        _count(usage.get("cacheReadInputTokens")),
                    )
        out = []
        for n, event in enumerate(events):
            if not isinstance(event, dict):
                continue
            ts = _when(event.get("timestamp"))
            model = _text(event.get("model"))
            tokens = event.get("tokens")
            if ts is None or not model or not isinstance(tokens, dict):
                continue
            target = event.get("toMessageId")
            write, read = cache.get(target, (0, 0)) if isinstance(target, int) else (0, 0)
            counts = _tokens(
                _count(tokens.get("input")), _count(tokens.get("output")), write, read,
                _count(tokens.get("total")),
            )  # fmt: skip
            if not any(counts):
                continue
            ident = _text(event.get("id")) or f"#{n}"
            out.append(self._record(path, f"e:{ident}", ts, model, thread, counts))
        return out

    def save_state(self) -> str:
        return dump_state(files=self._files.save_state())

    def load_state(self, text: str) -> None:
        self._files.load_state(load_state_parts(text).get("files"))

    def reset(self) -> None:
        self._files.reset()
