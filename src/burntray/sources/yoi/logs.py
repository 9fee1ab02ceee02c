"""Reading yoi's append-only JSONL logs by byte offset, tolerating what concurrent appenders leave.

Two logs matter (both written with ``O_APPEND``, without any lock):

- Session segment logs, ``<data-dir>/sessions/<session>/<segment>.jsonl``: one JSON entry per
  line, tagged by ``kind``. ``"kind":"llm_usage"`` entries are the real LLM tokens of one request
  (``ts`` epoch ms, ``input_total_tokens`` = the whole prompt including cache reads and writes,
  ``cache_read_tokens``, ``cache_write_tokens``, ``output_tokens``). The model, where yoi states
  it, is in the ``config`` of the segment's ``session_start`` / ``config_changed`` entries.
- The workspace memory log, ``<workspace>/.yoi/memory/_usage/events.jsonl``: which memory
  records were injected into or read by a context, with ``file_tokens_estimate = ceil(bytes/4)``.
  That is context-exposure telemetry, not spend: it is summarised on its own and never priced.

Both are tailed from a remembered byte offset. Only whole lines (ending in ``\\n``) are consumed,
so a line still being written is read on a later poll. yoi may write the text and its newline as
two writes, so two appenders can interleave into ``{..}{..}\\n\\n``: such a line is split back
into its objects, and a line that holds no complete object is skipped and counted. A file that
shrank or was replaced is read again from the start (records are keyed by file and offset, so a
re-read replaces rather than doubles). Each read is bounded (``MAX_READ_BYTES``), the rest
follows on the next poll.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from msgspec import Struct, field

from burntray.io.bounded_read import UnsafeFileError, open_regular_file

MAX_READ_BYTES = 8 * 1024 * 1024
_DECODER = json.JSONDecoder()


class LlmUsage(NamedTuple):
    """One ``llm_usage`` entry, converted: ``input_tokens`` is the uncached input."""

    ts_ns: int
    session: str
    segment: str
    offset: int  # byte offset of its line: with the path and ``part``, the request's key
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    part: int = 0  # its place among the objects of its line (appenders can interleave)


class MemoryEvent(NamedTuple):
    """One memory usage event: ``use`` (a record read) or ``resident_exposure`` (injected)."""

    ts_ns: int
    event: str
    records: tuple[tuple[str, str, int], ...]  # (kind, slug, file_tokens_estimate)


def objects_in(line: bytes) -> Iterator[Any]:
    """The JSON objects in one line: usually one; several when appenders interleaved."""
    try:
        yield json.loads(line)
        return
    except ValueError:
        pass
    text = line.decode("utf-8", "replace")
    pos = text.find("{")
    while pos != -1:
        try:
            obj, end = _DECODER.raw_decode(text, pos)
        except ValueError:
            pos = text.find("{", pos + 1)
            continue
        yield obj
        pos = text.find("{", end)


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _model_of(config: Any) -> tuple[str, str] | None:
    """(provider, model) from a yoi RequestConfig, where it names them."""
    if not isinstance(config, dict):
        return None
    model = config.get("model")
    if not isinstance(model, str) or not model.strip():
        return None
    provider = config.get("provider")
    provider = provider if isinstance(provider, str) else ""
    if not provider and "/" in model:
        provider = model.split("/", 1)[0]
    return provider, model


class FileTail(Struct):
    """Where reading of one file stands."""

    path: Path
    ino: int = 0
    offset: int = 0
    provider: str = ""
    model: str = ""
    bad: int = 0  # unusable lines read so far (kept with the offset: every later run says so)


class TailState(Struct):
    """Offsets per file, saved beside the records so a restart resumes where it stopped."""

    tails: dict[str, FileTail] = field(default_factory=dict)

    def dump(self) -> str:
        return json.dumps(
            {
                k: [t.ino, t.offset, t.provider, t.model, *([t.bad] if t.bad else [])]
                for k, t in self.tails.items()
            },
            separators=(",", ":"),
        )

    @classmethod
    def load(cls, text: str) -> TailState:
        raw = json.loads(text)
        state = cls()
        for key, (ino, offset, provider, model, *bad) in raw.items():
            skipped = int(bad[0]) if bad else 0
            state.tails[key] = FileTail(
                Path(key), int(ino), int(offset), str(provider), str(model), skipped
            )
        return state

    @property
    def bad_lines(self) -> int:
        return sum(t.bad for t in self.tails.values())


class Chunk(NamedTuple):
    lines: list[tuple[int, bytes]]  # (offset, line without newline)
    more: bool  # the read stopped at MAX_READ_BYTES: more follows


def read_lines(tail: FileTail) -> Chunk:
    """Whole new lines of ``tail.path`` from its offset (advancing it). Raises UnsafeFileError."""
    with open_regular_file(tail.path, None) as fh:
        st = os.fstat(fh.fileno())
        if st.st_ino != tail.ino or st.st_size < tail.offset:
            tail.ino, tail.offset = st.st_ino, 0  # replaced or truncated: from the start
            tail.provider = tail.model = ""
            tail.bad = 0
        if st.st_size == tail.offset:
            return Chunk([], False)
        fh.seek(tail.offset)
        data = fh.read(min(st.st_size - tail.offset, MAX_READ_BYTES))
    end = data.rfind(b"\n")
    if end == -1:
        if len(data) >= MAX_READ_BYTES:  # one line longer than a whole read: skip past it
            tail.offset += len(data)
            return Chunk([], True)
        return Chunk([], False)  # a line still being written
    lines = []
    pos = 0
    base = tail.offset
    while pos <= end:
        nl = data.index(b"\n", pos)
        if nl > pos:
            lines.append((base + pos, data[pos:nl]))
        pos = nl + 1
    tail.offset = base + end + 1
    return Chunk(lines, len(data) >= MAX_READ_BYTES)


def parse_segment_lines(
    tail: FileTail, session: str, segment: str, lines: list[tuple[int, bytes]]
) -> tuple[list[LlmUsage], int]:
    """``llm_usage`` entries of a segment log's new lines, and how many lines were unusable.

    Lines of other kinds are skipped unread unless they may carry the model (a session start
    can hold a whole conversation; it is parsed only when it names a config)."""
    out: list[LlmUsage] = []
    bad = 0
    for offset, line in lines:
        usage = b"llm_usage" in line
        config = b'"config"' in line and (b"session_start" in line or b"config_changed" in line)
        if not usage and not config:
            continue
        found = False
        part = 0
        for obj in objects_in(line):
            if not isinstance(obj, dict):
                continue
            kind = obj.get("kind")
            if kind in ("session_start", "config_changed"):
                named = _model_of(obj.get("config"))
                if named:
                    tail.provider, tail.model = named
                found = True
            elif kind == "llm_usage":
                record = _usage(obj, tail, session, segment, offset)
                if record is not None:
                    out.append(record._replace(part=part))
                    part += 1
                    found = True
        if not found:
            bad += 1
    return out, bad


def _usage(
    obj: dict[str, Any], tail: FileTail, session: str, segment: str, offset: int
) -> LlmUsage | None:
    ts = _int(obj.get("ts"))
    total_in = _int(obj.get("input_total_tokens"))
    output = _int(obj.get("output_tokens"))
    if ts is None or total_in is None or output is None:
        return None
    cache_read = _int(obj.get("cache_read_tokens")) or 0
    cache_write = _int(obj.get("cache_write_tokens")) or 0
    return LlmUsage(
        ts_ns=ts * 1_000_000,
        session=session,
        segment=segment,
        offset=offset,
        provider=tail.provider,
        model=tail.model,
        # input_total includes the cache reads and writes (yoi normalises every provider so)
        input_tokens=max(0, total_in - cache_read - cache_write),
        output_tokens=output,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
    )


def parse_memory_lines(lines: list[tuple[int, bytes]]) -> tuple[list[MemoryEvent], int, int]:
    """Memory usage events of the current schema; (events, legacy lines, unusable lines).

    Legacy lines (``session_id``, ``WorkflowInvoke``, kind ``workflow``) fail yoi's current
    schema, as yoi's own reader skips them; they are counted, not shown."""
    out: list[MemoryEvent] = []
    legacy = bad = 0
    for _offset, line in lines:
        found = False
        for obj in objects_in(line):
            if not isinstance(obj, dict):
                continue
            if "session_id" in obj or obj.get("source") == "WorkflowInvoke":
                legacy += 1
                found = True
                continue
            event = _memory_event(obj)
            if event is not None:
                out.append(event)
                found = True
        if not found:
            bad += 1
    return out, legacy, bad


def _memory_event(obj: dict[str, Any]) -> MemoryEvent | None:
    event, when, records = obj.get("event"), obj.get("occurred_at"), obj.get("records")
    if event not in ("use", "resident_exposure") or not isinstance(when, str):
        return None
    if not isinstance(records, list) or "segment_id" not in obj:
        return None
    try:
        moment = _dt.datetime.fromisoformat(when)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    seconds = int(moment.replace(microsecond=0).timestamp())
    ts_ns = seconds * 1_000_000_000 + (_nanos(when) if "." in when else 0)
    kept = []
    for rec in records:
        if not isinstance(rec, dict):
            return None
        estimate = _int(rec.get("file_tokens_estimate"))
        if estimate is None:
            return None
        kept.append((str(rec.get("kind", "")), str(rec.get("slug", "")), estimate))
    return MemoryEvent(ts_ns, event, tuple(kept))


def _nanos(text: str) -> int:
    """The fraction of an RFC 3339 time as ns (Python keeps only microseconds)."""
    frac = text.split(".", 1)[1]
    digits = ""
    for ch in frac:
        if not ch.isdigit():
            break
        digits += ch
    return int((digits + "000000000")[:9])


def exposure_summary(events: list[MemoryEvent], start_ns: int, end_ns: int) -> tuple[int, int]:
    """(uses, estimated exposure tokens) in the window, as yoi's ``build_usage_report`` counts:
    per record, its last ``file_tokens_estimate`` times the times it was exposed."""
    uses = 0
    exposures: dict[tuple[str, str], list[int]] = {}
    for ev in events:
        if not start_ns <= ev.ts_ns < end_ns:
            continue
        if ev.event == "use":
            uses += 1
            continue
        for kind, slug, estimate in ev.records:
            acc = exposures.setdefault((kind, slug), [0, 0])
            acc[0] += 1
            acc[1] = estimate
    return uses, sum(count * last for count, last in exposures.values())


def segment_files(data_dir: Path) -> Iterator[tuple[str, str, Path]]:
    """(session, segment, path) of every segment log under ``<data-dir>/sessions``."""
    sessions = data_dir / "sessions"
    try:
        session_dirs = list(os.scandir(sessions))
    except OSError:
        return
    for entry in session_dirs:
        if not entry.is_dir(follow_symlinks=False):
            continue
        try:
            files = list(os.scandir(entry.path))
        except OSError:
            continue
        for f in files:
            if f.name.endswith(".jsonl") and f.is_file():
                yield entry.name, f.name[: -len(".jsonl")], Path(f.path)


__all__ = [
    "MAX_READ_BYTES",
    "Chunk",
    "LlmUsage",
    "MemoryEvent",
    "TailState",
    "UnsafeFileError",
    "exposure_summary",
    "objects_in",
    "parse_memory_lines",
    "parse_segment_lines",
    "read_lines",
    "segment_files",
]
