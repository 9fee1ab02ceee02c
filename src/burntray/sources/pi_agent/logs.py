"""pi's own session logs: every assistant message's tokens and cost, tailed as appended.

Where (see ``.paths``): every ``*.jsonl`` below each sessions folder, in pi's layout
``sessions/<project>/<time>_<session id>.jsonl``. pi (the coding agent of pi-mono) appends one
JSON record per line; an assistant message is ``{"type": "message", "timestamp": ...,
"message": {"role": "assistant", "provider": ..., "model": ..., "usage": {...}}}``, its usage
``input`` (not read from cache), ``output``, ``cacheRead``, ``cacheWrite``, ``totalTokens`` and
``cost`` (pi's own: ``input``, ``output``, ``cacheRead``, ``cacheWrite``, ``total`` in USD).

A total beyond the fields counts as output (all of it when the output is missing). The cost is
pi's ``cost.total`` when above 0, else priced from the table (an unknown model unpriced, never
$0). A message logged twice (a session's copy) counts once: the key is the project, session,
time, model, counts and cost, as ccusage keys it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from pathlib import Path

import msgspec

from burntray.io.log_tail import FileState, LogTailer
from burntray.model.pricing import PriceTable
from burntray.model.timefmt import TimeFormatError, parse_rfc3339_ns
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.files import JsonlFinder
from burntray.sources.agent_logs.values import ModelPrices

MARKER = b'"usage"'


class _Cost(msgspec.Struct, gc=False):
    total: object = None


class _Usage(msgspec.Struct, gc=False):
    input: object = 0
    output: object = 0
    cacheRead: object = 0
    cacheWrite: object = 0
    totalTokens: object = 0
    cost: _Cost | None = None


class _Message(msgspec.Struct, gc=False):
    role: object = None
    model: object = None
    provider: object = None
    usage: _Usage | None = None


class _Line(msgspec.Struct, gc=False):
    type: object = None
    timestamp: object = None
    message: _Message | None = None


_DECODER = msgspec.json.Decoder(_Line)


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def session_of(path: Path) -> str:
    """The session id in ``<time>_<session id>.jsonl`` (the whole name without one)."""
    return path.stem.split("_", 1)[1] if "_" in path.stem else path.stem


def project_of(path: Path) -> str:
    parts = path.parts
    for before, after in itertools.pairwise(parts):
        if before == "sessions":
            return after
    return "unknown"


class PiLogReader:
    """Reads what is new in every pi sessions folder."""

    def __init__(self, folders: Iterable[Path], prices: PriceTable) -> None:
        self.session_dirs = [Path(f) for f in folders]
        self.prices = prices
        self._prices: dict[str, ModelPrices] = {}
        self.tailer = LogTailer([MARKER])
        self._finders = [JsonlFinder(d) for d in self.session_dirs]
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
                present.add(name)
                if active_since_ns is not None and self.tailer.quiet_since(name, active_since_ns):
                    continue
                if not self.tailer.unchanged(name):
                    self._read_file(Path(name), out)
        self.tailer.forget_missing(present)
        self.files_seen = len(present)
        self.missing = (
            "no pi sessions folder: " + "; ".join(problems[:2])
            if problems and len(problems) == len(self._finders)
            else ""
        )
        return out

    def _read_file(self, path: Path, out: list[UsageRecord]) -> None:
        session, project = session_of(path), project_of(path)

        def on_line(line: bytes, offset: int) -> None:
            if b'"message"' not in line:
                return
            try:
                rec = _DECODER.decode(line)
            except msgspec.DecodeError as exc:
                self.tailer.skip(str(path), f"{path}@{offset}: {exc}")
                return
            record = self._record(rec, session, project)
            if record is not None:
                out.append(record)

        def on_reset(_old: FileState) -> None:
            pass  # no per-file state: every message stands alone

        self.tailer.read(path, on_line, on_reset)

    def _record(self, rec: _Line, session: str, project: str) -> UsageRecord | None:
        message = rec.message
        if (rec.type is not None and rec.type != "message") or message is None:
            return None
        usage = message.usage
        if message.role != "assistant" or usage is None:
            return None
        inp, out = _count(usage.input), _count(usage.output)
        read, write = _count(usage.cacheRead), _count(usage.cacheWrite)
        out += max(0, _count(usage.totalTokens) - (inp + out + read + write))
        if not (inp or out or read or write):
            return None
        stamp = _text(rec.timestamp)
        try:
            ts = parse_rfc3339_ns(stamp)
        except TimeFormatError:
            return None
        model, provider = _text(message.model), _text(message.provider)
        own = usage.cost.total if usage.cost is not None else None
        upstream = isinstance(own, int | float) and not isinstance(own, bool) and own > 0
        if upstream:
            cost: float | None = float(own)  # type: ignore[arg-type]
        elif model:
            prices = self._prices.get(provider)
            if prices is None:
                prices = self._prices[provider] = ModelPrices(self.prices, provider)
            cost = prices.cost(model, inp, out, read, write)
        else:
            cost = None
        key = f"pi:{project}:{session}:{stamp}:{model}:{inp}:{out}:{write}:{read}:{own}"
        return UsageRecord(ts, provider, model, inp, out, read, write, cost, key, session,
                           project, cost_from_upstream=upstream)  # fmt: skip

    def reset(self) -> None:
        self.tailer = LogTailer([MARKER])

    def save_state(self) -> str:
        return self.tailer.save_state()

    def load_state(self, text: str) -> None:
        self.tailer.load_state(text)
