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

from burntray.io.log_tail import FileState, LogTailer
from burntray.model.pricing import PriceTable
from burntray.model.timefmt import TimeFormatError, parse_rfc3339_ns
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.files import JsonlFinder
from burntray.sources.agent_logs.values import ModelPrices
from burntray.sources.openclaw.paths import is_session_file

MARKERS = [b'"model_change"', b'"model-snapshot"', b'"usage"']


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _obj(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _when(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value * 1_000_000
    if isinstance(value, str):
        try:
            return parse_rfc3339_ns(value.strip())
        except TimeFormatError:
            return None
    return None


def session_of(path: Path) -> str:
    name = path.name
    index = name.find(".jsonl")
    return name[:index] if index > 0 else name


class OpenClawLogReader:
    """Reads what is new in every OpenClaw state folder's session logs."""

    def __init__(self, folders: Iterable[Path], prices: PriceTable) -> None:
        self.state_dirs = [Path(f) for f in folders]
        self.prices = prices
        self._prices: dict[str, ModelPrices] = {}
        self.tailer = LogTailer(MARKERS)
        # every file name is looked at (archived copies have no fixed suffix); only session
        # logs are read
        self._finders = [JsonlFinder(d, suffixes=("",)) for d in self.state_dirs]
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
                if not is_session_file(Path(name).name):
                    continue
                present.add(name)
                if active_since_ns is not None and self.tailer.quiet_since(name, active_since_ns):
                    continue
                if not self.tailer.unchanged(name):
                    self._read_file(Path(name), out)
        self.tailer.forget_missing(present)
        self.files_seen = len(present)
        self.missing = (
            "no OpenClaw state folder: " + "; ".join(problems[:2])
            if problems and len(problems) == len(self._finders)
            else ""
        )
        return out

    def _read_file(self, path: Path, out: list[UsageRecord]) -> None:
        state = self.tailer.files.get(str(path))
        extra = state.extra if state is not None else {}
        current = {"model": _text(extra.get("model")), "provider": _text(extra.get("provider"))}
        session = session_of(path)
        try:
            fallback = path.stat().st_mtime_ns // 1_000_000 * 1_000_000
        except OSError:
            return

        def on_line(line: bytes, offset: int) -> None:
            try:
                rec = msgspec.json.decode(line)
            except msgspec.DecodeError as exc:
                self.tailer.skip(str(path), f"{path}@{offset}: {exc}")
                return
            if not isinstance(rec, dict):
                return
            kind = rec.get("type")
            if kind == "model_change" or (
                kind == "custom" and rec.get("customType") == "model-snapshot"
            ):
                source = _obj(rec.get("data")) or rec
                model = _text(source.get("modelId")) or _text(source.get("model"))
                current["model"] = model or current["model"]
                current["provider"] = _text(source.get("provider")) or current["provider"]
                return
            record = self._record(rec, session, current, fallback)
            if record is not None:
                out.append(record)

        def on_reset(_old: FileState) -> None:
            current["model"] = current["provider"] = ""

        self.tailer.read(path, on_line, on_reset)
        new_state = self.tailer.files.get(str(path))
        if new_state is not None:
            new_state.extra = dict(current)

    def _record(
        self, rec: dict[str, object], session: str, current: dict[str, str], fallback: int
    ) -> UsageRecord | None:
        message = _obj(rec.get("message"))
        usage = _obj(message.get("usage"))
        if rec.get("type") != "message" or message.get("role") != "assistant" or not usage:
            return None
        inp, out = _count(usage.get("input")), _count(usage.get("output"))
        read, write = _count(usage.get("cacheRead")), _count(usage.get("cacheWrite"))
        out += max(0, _count(usage.get("totalTokens")) - (inp + out + read + write))
        if not (inp or out or read or write):
            return None
        ts = _when(message.get("timestamp")) or _when(rec.get("timestamp")) or fallback
        model = (
            _text(message.get("modelId")) or _text(message.get("model")) or current["model"]
            or "unknown"
        )  # fmt: skip
        provider = _text(message.get("provider")) or current["provider"]
        own = _obj(usage.get("cost")).get("total")
        upstream = isinstance(own, int | float) and not isinstance(own, bool) and own > 0
        if upstream:
            cost: float | None = float(own)  # type: ignore[arg-type]
        else:
            prices = self._prices.get(provider)
            if prices is None:
                prices = self._prices[provider] = ModelPrices(self.prices, provider)
            cost = prices.cost(model, inp, out, read, write)
        key = f"oc:{session}:{ts // 1_000_000}:{model}:{inp}:{out}:{write}:{read}:{own}"
        return UsageRecord(ts, provider, model, inp, out, read, write, cost, key, session,
                           cost_from_upstream=upstream)  # fmt: skip

    def reset(self) -> None:
        self.tailer = LogTailer(MARKERS)

    def save_state(self) -> str:
        return self.tailer.save_state()

    def load_state(self, text: str) -> None:
        self.tailer.load_state(text)
