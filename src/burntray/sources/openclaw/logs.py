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
from burntray.model.timefmt import TimeFormatError, parse_rfc3339_ns
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.jsonl import JsonlReader
from burntray.sources.agent_logs.values import ProviderPrices, count, own_cost, text
from burntray.sources.openclaw.paths import is_session_file

MARKERS = (b'"model_change"', b'"model-snapshot"', b'"usage"')


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

        def record(rec: object) -> UsageRecord | None:
            if not isinstance(rec, dict):
                return None
            kind = rec.get("type")
            if kind == "model_change" or (
                kind == "custom" and rec.get("customType") == "model-snapshot"
            ):
                source = _obj(rec.get("data")) or rec
                model = text(source.get("modelId")) or text(source.get("model"))
                current["model"] = model or current["model"]
                current["provider"] = text(source.get("provider")) or current["provider"]
                return None
            return self._record(rec, session, current, fallback)

        def on_reset(_old: FileState) -> None:
            current["model"] = current["provider"] = ""

        self.tail(path, msgspec.json.decode, record, out, on_reset)
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
        inp, out = count(usage.get("input")), count(usage.get("output"))
        read, write = count(usage.get("cacheRead")), count(usage.get("cacheWrite"))
        out += max(0, count(usage.get("totalTokens")) - (inp + out + read + write))
        if not (inp or out or read or write):
            return None
        ts = _when(message.get("timestamp")) or _when(rec.get("timestamp")) or fallback
        model = (
            text(message.get("modelId")) or text(message.get("model")) or current["model"]
            or "unknown"
        )  # fmt: skip
        provider = text(message.get("provider")) or current["provider"]
        own = _obj(usage.get("cost")).get("total")
        cost = own_cost(own)
        upstream = cost is not None
        if not upstream:
            cost = self._prices.cost(provider, model, inp, out, read, write)
        key = f"oc:{session}:{ts // 1_000_000}:{model}:{inp}:{out}:{write}:{read}:{own}"
        return UsageRecord(ts, provider, model, inp, out, read, write, cost, key, session,
                           cost_from_upstream=upstream)  # fmt: skip
