"""Grok Build CLI's own session update logs: every completed turn's tokens, tailed as they are
appended.

Where (see ``.paths``): ``sessions/<encoded-cwd>/<session-id>/updates.jsonl`` in each Grok home
(that depth only, as ccusage reads them), with ``summary.json`` beside it. Grok Build appends
one Agent Client Protocol notification per line; a finished turn is
``params.update.sessionUpdate == "turn_completed"`` with ``params.update.usage``:
``inputTokens`` (the whole prompt: the cache reads and writes are inside it),
``cachedReadTokens``, ``cacheCreationTokens``, ``outputTokens`` (reasoning inside),
``costUsdTicks`` (Grok's own cost, 1e10 ticks to the dollar) and, when the turn called more
than one model, ``modelUsage``: the same figures per model. The line's ``timestamp`` is in epoch
seconds, ``params._meta.agentTimestampMs`` the same in milliseconds (taken first, as ccusage
takes it); ``params._meta.eventId`` names the notification, ``params.sessionId`` the session.

burntray's records, as ccusage 20.0.24 counts them: cache reads = min(cached, input), cache
writes = min(creation, what is left), uncached input = the rest; one record per model of
``modelUsage`` when it holds any (the turn's own figures are then its sum, not counted again),
else one for the turn, its model ``current_model_id`` of ``summary.json`` ("unknown" without
it). The cost is Grok's own when above 0, else priced from the table by model (an unknown model
is unpriced, never $0). A notification written twice (the same ``eventId``, in any session)
counts once when its model is the same: its key is the event id and model (as ccusage keys it:
the copy in a session whose summary names another model counts again); a line without an event
id is keyed by its content, so only a verbatim copy is one. A line whose ``timestamp`` is not
whole seconds is taken as an RFC 3339 time when it is one (ccusage dates it 1970), else skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote

import msgspec

from burntray.io.bounded_read import UnsafeFileError, read_regular_file
from burntray.model.pricing import PriceTable
from burntray.model.timefmt import TimeFormatError, parse_rfc3339_ns
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.jsonl import JsonlReader, parts_below
from burntray.sources.agent_logs.values import ModelPrices, count, own_cost, text

MARKER = b'"turn_completed"'
LOG_NAME = "updates.jsonl"
SUMMARY_MAX_BYTES = 1 << 20  # a session's summary is a few hundred bytes
TICKS_PER_USD = 1e10


class _Usage(msgspec.Struct, gc=False):
    inputTokens: object = 0
    outputTokens: object = 0
    cachedReadTokens: object = 0
    cacheCreationTokens: object = 0
    costUsdTicks: object = None
    modelUsage: object = None


class _Update(msgspec.Struct, gc=False):
    sessionUpdate: object = None
    usage: _Usage | None = None


class _Meta(msgspec.Struct, gc=False):
    eventId: object = None
    agentTimestampMs: object = None


class _Params(msgspec.Struct, gc=False):
    sessionId: object = None
    update: _Update | None = None
    _meta: _Meta | None = msgspec.field(default=None, name="_meta")


class _Line(msgspec.Struct, gc=False):
    timestamp: object = None
    params: _Params | None = None


_DECODER = msgspec.json.Decoder(_Line)


class _Session(msgspec.Struct, gc=False):
    id: str = ""
    model: str = ""
    project: str = ""


def session_log(sessions: Path, path: Path) -> tuple[str, str] | None:
    """(encoded cwd, session id) of ``sessions/<cwd>/<id>/updates.jsonl``; None for any other
    file (one below ``sessions``, as the folder walk finds them)."""
    # on the paths' text: a warm pass asks it of every session's log (a Path apiece cost more
    # than the rest of the check)
    return _session_parts(str(sessions), str(path))


def _session_parts(root: str, name: str) -> tuple[str, str] | None:
    parts = parts_below(root, name)
    if parts is not None and len(parts) == 3 and parts[2] == LOG_NAME and parts[0] and parts[1]:
        return parts[0], parts[1]
    return None


def _summary(path: Path, cwd: str, sid: str) -> _Session:
    """The session's id, model and project from ``summary.json`` beside its log, else from the
    folder names (a summary missing, too big or not JSON is no summary)."""
    found: dict[str, object] = {}
    try:
        data = read_regular_file(path.with_name("summary.json"), SUMMARY_MAX_BYTES)
        decoded = msgspec.json.decode(data)
        found = decoded if isinstance(decoded, dict) else {}
    except (UnsafeFileError, msgspec.DecodeError):
        pass
    info = found.get("info")
    info = info if isinstance(info, dict) else {}
    project = text(info.get("cwd")) or text(found.get("git_root_dir"))
    return _Session(
        text(info.get("id")) or sid,
        text(found.get("current_model_id")),
        # without one: the folder name Grok Build made of the working directory (%2Fwork%2Fapp)
        (project or unquote(cwd)).rstrip("/"),
    )


def _when(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value * 1_000_000_000
    if isinstance(value, str):
        try:
            return parse_rfc3339_ns(value)
        except TimeFormatError:
            return None
    return None


class GrokLogReader(JsonlReader):
    """Reads what is new in every Grok home's session update logs."""

    markers = (MARKER,)
    what = "Grok Build sessions folder"

    def __init__(self, folders: Iterable[Path], prices: PriceTable) -> None:
        super().__init__(folders, prices)
        self._prices = ModelPrices(prices)

    def roots(self, folder: Path) -> list[Path]:
        return [folder / "sessions"]

    def keep(self, root: Path, path: Path) -> bool:
        return session_log(root, path) is not None

    def keep_name(self, root: Path, name: str) -> bool:
        return _session_parts(str(root), name) is not None

    def read_file(self, folder: Path, root: Path, path: Path, out: list[UsageRecord]) -> None:
        cwd, sid = session_log(root, path) or ("", path.parent.name)
        session = _summary(path, cwd, sid)
        self.tail(path, _DECODER.decode, lambda rec: self._turn(rec, session, out), out)

    def _turn(self, rec: _Line, session: _Session, out: list[UsageRecord]) -> UsageRecord | None:
        """The turn's records go to ``out`` (one per model); returns None (nothing more)."""
        update = rec.params.update if rec.params is not None else None
        if update is None or update.sessionUpdate != "turn_completed" or update.usage is None:
            return None
        key = line_key(rec)  # only for a turn: a line that merely mentions one is none
        meta = rec.params._meta if rec.params is not None else None
        stamp_ms = meta.agentTimestampMs if meta is not None else None
        ts = count(stamp_ms) * 1_000_000 if count(stamp_ms) else _when(rec.timestamp)
        if ts is None:
            return None
        sid = text(rec.params.sessionId) if rec.params is not None else ""
        usage = update.usage
        per_model = usage.modelUsage if isinstance(usage.modelUsage, dict) else {}
        parts: list[tuple[str, _Usage]] = []
        for model, figures in per_model.items():
            if isinstance(model, str) and isinstance(figures, dict):
                try:
                    parts.append((model, msgspec.convert(figures, _Usage)))
                except msgspec.ValidationError:
                    continue
        if not parts:
            parts = [(session.model or "unknown", usage)]
        for model, figures in parts:
            made = self._record(ts, model, figures, session=sid or session.id,
                                project=session.project, key=f"{key}#{model}")  # fmt: skip
            if made is not None:
                out.append(made)
        return None

    def _record(
        self, ts: int, model: str, u: _Usage, *, session: str, project: str, key: str
    ) -> UsageRecord | None:
        prompt, output = count(u.inputTokens), count(u.outputTokens)
        read = min(count(u.cachedReadTokens), prompt)
        write = min(count(u.cacheCreationTokens), prompt - read)
        uncached = prompt - read - write
        if not (prompt or output):
            return None
        ticks = own_cost(u.costUsdTicks)
        cost = (ticks / TICKS_PER_USD if ticks is not None
                else self._prices.cost(model, uncached, output, read, write))  # fmt: skip
        return UsageRecord(
            ts, "", model, uncached, output, read, write, cost, key, session,
            project, cost_from_upstream=ticks is not None,
        )  # fmt: skip


def line_key(rec: _Line) -> str:
    """The notification's event id; without one, its time and figures (a verbatim copy of the
    line is the same turn; two turns alike to the second are not told apart either way)."""
    meta = rec.params._meta if rec.params is not None else None
    event = text(meta.eventId) if meta is not None else ""
    if event:
        return "g:" + event
    update = rec.params.update if rec.params is not None else None
    figures = msgspec.json.encode(update.usage if update is not None else None).decode()
    return f"g:{rec.timestamp}|{figures}"
