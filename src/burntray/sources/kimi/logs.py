"""Kimi CLI's own wire logs: every model step's tokens, tailed as they are appended.

Where (see ``.paths``): ``sessions/<group>/<session>/wire.jsonl`` in each Kimi data folder (that
depth, that name). Kimi CLI appends one JSON record per line: a ``metadata`` line, then
``{"timestamp": <seconds>, "message": {"type": ..., "payload": ...}}``; a ``StatusUpdate``
message's ``payload.token_usage`` holds a step's tokens: ``input_other`` (input not read from
cache), ``input_cache_read``, ``input_cache_creation``, ``output`` and sometimes ``total``, with
its ``message_id``. The model is not in the log: it is ``model`` in the data folder's
``config.json``, else Kimi's default ``kimi-for-coding``.

A total beyond the fields counts as output (all of it when the output is missing). A step logged
twice counts once (its key: session, message id, time, model and counts, as ccusage keys it).
Priced from the table (Moonshot's models); ``kimi-for-coding`` (the Kimi subscription) and other
models the table lacks are unpriced, never $0.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import msgspec

from burntray.io.bounded_read import UnsafeFileError, read_regular_file
from burntray.model.pricing import PriceTable
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.jsonl import JsonlReader, parts_below
from burntray.sources.agent_logs.values import ModelPrices, count, new_record, record_defaults

_AFTER_SESSION = record_defaults(10)  # a record's fields after its session

MARKER = b'"StatusUpdate"'
DEFAULT_MODEL = "kimi-for-coding"
PROVIDER = "moonshot"
WIRE = "wire.jsonl"


class _Usage(msgspec.Struct, gc=False):
    input_other: object = 0
    output: object = 0
    input_cache_read: object = 0
    input_cache_creation: object = 0
    total: object = 0


class _Payload(msgspec.Struct, gc=False):
    token_usage: _Usage | None = None
    message_id: object = None


class _Message(msgspec.Struct, gc=False):
    type: object = None
    payload: _Payload | None = None


class _Line(msgspec.Struct, gc=False):
    type: object = None
    timestamp: object = None
    message: _Message | None = None


_DECODER = msgspec.json.Decoder(_Line)


def _is_wire_name(root: str, name: str) -> bool:
    """``root/<group>/<session>/wire.jsonl`` (ccusage reads those, no other file), on the text of
    a path found below ``root`` (no Path made)."""
    parts = parts_below(root, name)
    return parts is not None and len(parts) == 3 and parts[2] == WIRE and all(parts)


def configured_model(root: Path) -> str:
    """``model`` in the data folder's ``config.json`` (read as a bounded regular file), else the
    default; a bad file counts as unset."""
    try:
        doc = msgspec.json.decode(read_regular_file(root / "config.json", 1024 * 1024))
    except (UnsafeFileError, msgspec.DecodeError):
        return DEFAULT_MODEL
    model = doc.get("model") if isinstance(doc, dict) else None
    return model.strip() if isinstance(model, str) and model.strip() else DEFAULT_MODEL


class KimiLogReader(JsonlReader):
    """Reads what is new in every Kimi data folder's wire logs."""

    markers = (MARKER,)
    what = "Kimi sessions folder"

    def __init__(self, folders: Iterable[Path], prices: PriceTable) -> None:
        super().__init__(folders, prices)
        self._prices = ModelPrices(prices, PROVIDER)
        self._models: dict[Path, tuple[int, str]] = {}

    def roots(self, folder: Path) -> list[Path]:
        return [folder / "sessions"]

    def keep(self, root: Path, path: Path) -> bool:
        return _is_wire_name(str(root), str(path))

    def keep_name(self, root: Path, name: str) -> bool:
        return _is_wire_name(str(root), name)

    def forget(self) -> None:
        self._models = {}

    def _model(self, root: Path) -> str:
        """The configured model, read again only when ``config.json`` changed."""
        try:
            stamp = os.stat(root / "config.json").st_mtime_ns
        except OSError:
            stamp = -1
        cached = self._models.get(root)
        if cached is None or cached[0] != stamp:
            cached = (stamp, configured_model(root) if stamp >= 0 else DEFAULT_MODEL)
            self._models[root] = cached
        return cached[1]

    def read_file(self, folder: Path, root: Path, path: Path, out: list[UsageRecord]) -> None:
        session, model = path.parent.name or "unknown", self._model(folder)
        decode = _DECODER.decode
        self.tail(path, decode, lambda rec: self._record(rec, path, session, model), out)

    def _record(self, rec: _Line, path: Path, session: str, model: str) -> UsageRecord | None:
        message = rec.message
        if rec.type == "metadata" or message is None or message.type != "StatusUpdate":
            return None
        payload = message.payload
        usage = payload.token_usage if payload is not None else None
        if payload is None or usage is None:
            return None
        inp, out = count(usage.input_other), count(usage.output)
        read, write = count(usage.input_cache_read), count(usage.input_cache_creation)
        out += max(0, count(usage.total) - (inp + out + read + write))
        if not (inp or out or read or write):
            return None
        stamp = rec.timestamp
        if isinstance(stamp, (int, float)) and not isinstance(stamp, bool) and stamp > 0:
            ts = int(stamp * 1000) * 1_000_000  # to the ms, as ccusage keys it
        else:
            try:
                ts = path.stat().st_mtime_ns // 1_000_000 * 1_000_000
            except OSError:
                return None
        msg_id = payload.message_id if isinstance(payload.message_id, str) else ""
        cost = self._prices.cost(model, inp, out, read, write)
        key = f"k:{session}:{msg_id}:{ts}:{model}:{inp}:{out}:{write}:{read}"
        return new_record((ts, PROVIDER, model, inp, out, read, write, cost, key, session,
                           *_AFTER_SESSION))  # fmt: skip
