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
from burntray.io.log_tail import FileState, LogTailer
from burntray.model.pricing import PriceTable
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.files import JsonlFinder
from burntray.sources.agent_logs.values import ModelPrices

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


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def is_wire(sessions: Path, path: Path) -> bool:
    """``sessions/<group>/<session>/wire.jsonl`` (ccusage reads those, no other file)."""
    parts = path.relative_to(sessions).parts
    return len(parts) == 3 and parts[2] == WIRE


def configured_model(root: Path) -> str:
    """``model`` in the data folder's ``config.json`` (read as a bounded regular file), else the
    default; a bad file counts as unset."""
    try:
        doc = msgspec.json.decode(read_regular_file(root / "config.json", 1024 * 1024))
    except (UnsafeFileError, msgspec.DecodeError):
        return DEFAULT_MODEL
    model = doc.get("model") if isinstance(doc, dict) else None
    return model.strip() if isinstance(model, str) and model.strip() else DEFAULT_MODEL


class KimiLogReader:
    """Reads what is new in every Kimi data folder's wire logs."""

    def __init__(self, folders: Iterable[Path], prices: PriceTable) -> None:
        self.data_dirs = [Path(f) for f in folders]
        self.prices = prices
        self._prices = ModelPrices(prices, PROVIDER)
        self.tailer = LogTailer([MARKER])
        self._finders = [(d, JsonlFinder(d / "sessions")) for d in self.data_dirs]
        self._models: dict[Path, tuple[int, str]] = {}
        self.missing = ""
        self.files_seen = 0

    def folders(self) -> list[str]:
        return [f for _d, finder in self._finders for f in finder.folders()]

    @property
    def malformed_lines(self) -> int:
        return self.tailer.skipped()[0]

    @property
    def first_malformed(self) -> str:
        return self.tailer.skipped()[1]

    def unreadable(self) -> dict[str, str]:
        found = {p: why for _d, f in self._finders for p, why in f.unreadable.items()}
        return {**found, **self.tailer.stats.unreadable}

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

    def read_new(self, active_since_ns: int | None = None) -> list[UsageRecord]:
        out: list[UsageRecord] = []
        present: set[str] = set()
        problems = []
        for root, finder in self._finders:
            files = finder.find()
            if finder.problem:
                problems.append(finder.problem)
            for name in files:
                path = Path(name)
                if not is_wire(finder.root, path):
                    continue
                present.add(name)
                if active_since_ns is not None and self.tailer.quiet_since(name, active_since_ns):
                    continue
                if not self.tailer.unchanged(name):
                    self._read_file(path, self._model(root), out)
        self.tailer.forget_missing(present)
        self.files_seen = len(present)
        self.missing = (
            "no Kimi sessions folder: " + "; ".join(problems[:2])
            if problems and len(problems) == len(self._finders)
            else ""
        )
        return out

    def _read_file(self, path: Path, model: str, out: list[UsageRecord]) -> None:
        session = path.parent.name or "unknown"

        def on_line(line: bytes, offset: int) -> None:
            try:
                rec = _DECODER.decode(line)
            except msgspec.DecodeError as exc:
                self.tailer.skip(str(path), f"{path}@{offset}: {exc}")
                return
            record = self._record(rec, path, session, model)
            if record is not None:
                out.append(record)

        def on_reset(_old: FileState) -> None:
            pass  # no per-file state: every step stands alone

        self.tailer.read(path, on_line, on_reset)

    def _record(self, rec: _Line, path: Path, session: str, model: str) -> UsageRecord | None:
        message = rec.message
        if rec.type == "metadata" or message is None or message.type != "StatusUpdate":
            return None
        payload = message.payload
        usage = payload.token_usage if payload is not None else None
        if payload is None or usage is None:
            return None
        inp, out = _count(usage.input_other), _count(usage.output)
        read, write = _count(usage.input_cache_read), _count(usage.input_cache_creation)
        out += max(0, _count(usage.total) - (inp + out + read + write))
        if not (inp or out or read or write):
            return None
        stamp = rec.timestamp
        if isinstance(stamp, int | float) and not isinstance(stamp, bool) and stamp > 0:
            ts = int(stamp * 1000) * 1_000_000  # to the ms, as ccusage keys it
        else:
            try:
                ts = path.stat().st_mtime_ns // 1_000_000 * 1_000_000
            except OSError:
                return None
        msg_id = payload.message_id if isinstance(payload.message_id, str) else ""
        cost = self._prices.cost(model, inp, out, read, write)
        key = f"k:{session}:{msg_id}:{ts}:{model}:{inp}:{out}:{write}:{read}"
        return UsageRecord(ts, PROVIDER, model, inp, out, read, write, cost, key, session)

    def reset(self) -> None:
        self.tailer = LogTailer([MARKER])
        self._models = {}

    def save_state(self) -> str:
        return self.tailer.save_state()

    def load_state(self, text: str) -> None:
        self.tailer.load_state(text)
