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

from burntray.model.pricing import PriceTable
from burntray.model.timefmt import TimeFormatError
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.jsonl import JsonlReader
from burntray.sources.agent_logs.values import (
    ProviderPrices,
    count,
    new_record,
    own_cost,
    record_defaults,
    stamp_ns,
    text,
)

_AFTER_UPSTREAM = record_defaults(12)  # a record's fields after its upstream flag

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


def session_of(path: Path) -> str:
    """The session id in ``<time>_<session id>.jsonl`` (the whole name without one)."""
    return path.stem.split("_", 1)[1] if "_" in path.stem else path.stem


def project_of(path: Path) -> str:
    parts = path.parts
    for before, after in itertools.pairwise(parts):
        if before == "sessions":
            return after
    return "unknown"


class PiLogReader(JsonlReader):
    """Reads what is new in every pi sessions folder."""

    markers = (MARKER,)
    what = "pi sessions folder"

    def __init__(self, folders: Iterable[Path], prices: PriceTable) -> None:
        super().__init__(folders, prices)
        self._prices = ProviderPrices(prices)

    def read_file(self, folder: Path, root: Path, path: Path, out: list[UsageRecord]) -> None:
        session, project = session_of(path), project_of(path)

        def record(rec: _Line) -> UsageRecord | None:
            return self._record(rec, session, project)

        self.tail(path, _DECODER.decode, record, out, need=b'"message"')  # else not decoded

    def _record(self, rec: _Line, session: str, project: str) -> UsageRecord | None:
        message = rec.message
        if (rec.type is not None and rec.type != "message") or message is None:
            return None
        usage = message.usage
        if message.role != "assistant" or usage is None:
            return None
        inp, out = count(usage.input), count(usage.output)
        read, write = count(usage.cacheRead), count(usage.cacheWrite)
        out += max(0, count(usage.totalTokens) - (inp + out + read + write))
        if not (inp or out or read or write):
            return None
        stamp = text(rec.timestamp)
        try:
            ts = stamp_ns(stamp)
        except TimeFormatError:
            return None
        model, provider = text(message.model), text(message.provider)
        own = usage.cost.total if usage.cost is not None else None
        cost = own_cost(own)
        upstream = cost is not None
        if not upstream and model:
            cost = self._prices.cost(provider, model, inp, out, read, write)
        key = f"pi:{project}:{session}:{stamp}:{model}:{inp}:{out}:{write}:{read}:{own}"
        return new_record((ts, provider, model, inp, out, read, write, cost, key, session,
                           project, upstream, *_AFTER_UPSTREAM))  # fmt: skip
