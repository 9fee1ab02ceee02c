"""What Claude Code tells its status line, and burntray's record of it.

Claude Code runs the ``statusLine`` command after each assistant message and passes one JSON
object on stdin: the session, the model, its own cost estimate for the session, context use
and (Claude.ai Pro/Max plans, Claude Code >= 2.1.80) ``rate_limits``, the plan's 5-hour and
7-day windows as the vendor reports them. That is the only offline source of those
percentages, so ``burntray statusline`` keeps what it learns here, one small file per session:

- every field is optional and type-checked on its own: a wrong type drops that field, never
  the payload; unknown fields are ignored; an absent or null window is unknown (never 0 %);
- the files live in burntray's own data dir (``statusline/``), are replaced atomically (a reader
  sees the old record or the new one), private (0600), at most ``MAX_RECORDS`` of them and none
  older than ``MAX_AGE_NS`` (pruned on every write);
- reading them (``.observations``) takes regular files only, each within ``MAX_FILE_BYTES``;
  a bad file is passed over, never an error for the others.

No SQLite and no lock: the tray and every other command read these files as they are.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path
from typing import Any

from msgspec import Struct

from burntray.io.atomic import atomic_write
from burntray.paths import ensure_dir
from burntray.sources.claude.observations import MAX_RECORDS, RECORD_VERSION, WINDOWS
from burntray.sources.claude.observations import number as _number
from burntray.sources.claude.observations import text as _text
from burntray.sources.claude.records import SUFFIX, record_files

# The largest payload read from stdin: real ones are about 1 KB.
MAX_PAYLOAD_BYTES = 256 * 1024
# A week and a day: the weekly window's figure is still meaningful (it resets by itself).
MAX_AGE_NS = 8 * 24 * 3600 * 10**9
_SAFE_ID = re.compile(r"[^A-Za-z0-9._-]")


class PayloadError(ValueError):
    """stdin is not a status-line payload at all (not JSON, not an object, too large)."""


class LimitReading(Struct, frozen=True):
    window_minutes: int
    used_percent: float
    resets_at_s: float | None


class Payload(Struct, frozen=True):
    """The fields burntray uses; None where absent or of the wrong type."""

    session_id: str | None = None
    transcript_path: str | None = None
    cwd: str | None = None
    project_dir: str | None = None
    version: str | None = None
    model_id: str | None = None
    model_name: str | None = None
    cost_usd: float | None = None  # Claude Code's own estimate for the session
    context_used_percent: float | None = None
    context_input_tokens: int | None = None
    context_size: int | None = None
    # None: the payload has no rate_limits at all; else the windows it did report
    limits: tuple[LimitReading, ...] | None = None
    ignored: tuple[str, ...] = ()  # fields present with a wrong type, by name


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` without control characters: a name from stdin never breaks the one line or
    brings its own terminal escapes."""
    return _CONTROL.sub("", text)


class _Fields:
    """Reads one object's fields, noting each one present with an unusable value."""

    def __init__(self, doc: dict[str, Any], prefix: str = "") -> None:
        self.doc = doc
        self.prefix = prefix
        self.ignored: list[str] = []

    def get(self, key: str, check: Any) -> Any:
        if key not in self.doc or self.doc[key] is None:
            return None
        value = check(self.doc[key])
        if value is None:
            self.ignored.append(self.prefix + key)
        return value

    def child(self, key: str) -> _Fields:
        value = self.doc.get(key)
        if value is not None and not isinstance(value, dict):
            self.ignored.append(self.prefix + key)
        sub = _Fields(value if isinstance(value, dict) else {}, f"{self.prefix}{key}.")
        sub.ignored = self.ignored
        return sub


def parse_payload(data: bytes) -> Payload:
    """The payload in ``data``; raises ``PayloadError`` when it is not one at all."""
    if len(data) > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"input over {MAX_PAYLOAD_BYTES // 1024} KiB")
    if not data.strip():
        raise PayloadError("no input on stdin")
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise PayloadError(f"input is not JSON ({str(exc)[:80]})") from None
    if not isinstance(doc, dict):
        raise PayloadError("input is not a JSON object")
    top = _Fields(doc)
    model, workspace = top.child("model"), top.child("workspace")
    cost, context = top.child("cost"), top.child("context_window")
    size = context.get("context_window_size", lambda v: _number(v, low=1.0))
    used = context.get("used_percentage", lambda v: _number(v, high=1000.0))
    tokens = context.get("total_input_tokens", _number)
    return Payload(
        session_id=top.get("session_id", lambda v: _text(v, 256)),
        transcript_path=top.get("transcript_path", _text),
        cwd=top.get("cwd", _text),
        project_dir=workspace.get("project_dir", _text) or workspace.get("current_dir", _text),
        version=top.get("version", lambda v: _text(v, 64)),
        model_id=model.get("id", lambda v: _text(v, 256)),
        model_name=model.get("display_name", lambda v: _text(v, 256)),
        cost_usd=cost.get("total_cost_usd", lambda v: _number(v, high=1e9)),
        context_used_percent=used,
        context_input_tokens=None if tokens is None else int(tokens),
        context_size=None if size is None else int(size),
        limits=_limits(top),
        ignored=tuple(top.ignored),
    )


def _limits(top: _Fields) -> tuple[LimitReading, ...] | None:
    if not isinstance(top.doc.get("rate_limits"), dict):
        if top.doc.get("rate_limits") is not None:
            top.ignored.append("rate_limits")
        return None  # absent or null: no limit data from Claude Code (never 0 %)
    limits = top.child("rate_limits")
    found = []
    for name, minutes in WINDOWS.items():
        window = limits.child(name)
        if not window.doc:
            continue  # this window absent or null: unknown
        used = window.get("used_percentage", lambda v: _number(v, high=1000.0))
        if used is None:
            continue  # a window without its figure is as good as absent
        resets = window.get("resets_at", lambda v: _number(v, low=1.0, high=1e11))
        found.append(LimitReading(minutes, used, resets))
    return tuple(found)


# --- the record, one file per session ----------------------------------------------------------


def _file_name(session_id: str | None) -> str:
    """A file name for the session: its id when plain, else a hash of it (never a path)."""
    sid = session_id or "unknown-session"
    if _SAFE_ID.search(sid) or sid.startswith("."):
        import hashlib  # noqa: PLC0415 - Claude Code's ids are plain: rarely needed

        sid = "h-" + hashlib.sha256(sid.encode()).hexdigest()[:32]
    return sid + SUFFIX


def record_of(payload: Payload, observed_ns: int) -> dict[str, Any]:
    limits = None
    if payload.limits is not None:
        limits = {
            str(r.window_minutes): {"used_percent": r.used_percent, "resets_at_s": r.resets_at_s}
            for r in payload.limits
        }
    return {
        "v": RECORD_VERSION,
        "observed_ns": observed_ns,
        "session_id": payload.session_id,
        "model_id": payload.model_id,
        "model_name": payload.model_name,
        "cwd": payload.cwd,
        "project_dir": payload.project_dir,
        "version": payload.version,
        "cost_usd": payload.cost_usd,
        "context_used_percent": payload.context_used_percent,
        "context_input_tokens": payload.context_input_tokens,
        "context_size": payload.context_size,
        "limits": limits,
    }


def write_observation(folder: Path, payload: Payload, observed_ns: int) -> Path:
    """Keep what this session reported (replacing its earlier record), then prune the folder.
    Raises ``OSError`` (``UnsafePathError`` for a planted link or a foreign folder)."""
    ensure_dir(folder)
    path = folder / _file_name(payload.session_id)
    data = json.dumps(record_of(payload, observed_ns), separators=(",", ":")).encode()
    # no fsync: the next run (seconds away) writes it again, and a bad record is passed over
    atomic_write(path, data, temp_prefix=".tmp-", durable=False)
    prune(folder, observed_ns)
    return path


def prune(folder: Path, now_ns: int) -> int:
    """Remove records older than ``MAX_AGE_NS`` and all but the newest ``MAX_RECORDS``."""
    dated = []
    for entry in record_files(folder):
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        dated.append((info.st_mtime_ns, entry.path))
    dated.sort(reverse=True)
    removed = 0
    for index, (mtime, path) in enumerate(dated):
        if index >= MAX_RECORDS or now_ns - mtime > MAX_AGE_NS:
            with contextlib.suppress(OSError):
                os.unlink(path)
                removed += 1
    return removed
