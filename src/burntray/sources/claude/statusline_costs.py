"""The figures of Claude Code's status line, read from its logs fast enough to run after every
message: the session's cost, today's cost and the current 5-hour block (with its burn rate).

The rules are the claude source's (``claude.logs``: the same parser, duplicate removal and
prices), so the figures agree with ``burntray status`` and with ccusage. What differs is what
is read, because Claude Code waits for the line:

- only the files written since ``keep_from`` (the earlier of local midnight and 48 hours ago,
  what today and the 5-hour block's chain need) and the session's own files are read; a log
  not written since then cannot hold a request of today or of the current block;
- what was read is kept in a private cache file (burntray's cache dir, replaced atomically):
  per-file offsets, the requests since ``keep_from`` and each session's older total, so the
  next run reads only the bytes appended since;
- no SQLite and no lock: two status lines at once each answer; the last one to finish keeps
  its cache (both are whole), and a cache that cannot be read is rebuilt, never an error.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import msgspec

from burntray.io.atomic import atomic_write
from burntray.io.bounded_read import UnsafeFileError, read_regular_file
from burntray.model.periods import UsageBlock, current_block
from burntray.model.pricing import PriceTable
from burntray.model.timefmt import NS_PER_HOUR
from burntray.model.usage import UsageRecord
from burntray.paths import ensure_dir
from burntray.sources.claude.dedup import LOOKUP_MARGIN_NS
from burntray.sources.claude.logs import ClaudeLogReader

CACHE_VERSION = 1
CACHE_NAME = "statusline-claude.msgpack"
MAX_CACHE_BYTES = 256 * 1024 * 1024
BLOCK_CHAIN_NS = 48 * NS_PER_HOUR
# Sessions whose older total is kept: the most recently active ones.
MAX_SESSIONS = 2000


def today_start_ns(now_ns: int) -> int:
    """Local midnight of ``now_ns``'s day (the process's time zone, as ccusage's "today")."""
    local = _dt.datetime.fromtimestamp(now_ns / 1e9).astimezone()
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return int(midnight.timestamp()) * 10**9


def keep_from_ns(now_ns: int) -> int:
    return min(today_start_ns(now_ns), now_ns - BLOCK_CHAIN_NS)


class _RecentReader(ClaudeLogReader):
    """The claude reader, looking only at files written since a cutoff (and named ones)."""

    def read_recent(self, since_ns: int, always: frozenset[str]) -> list[UsageRecord]:
        out: dict[str, UsageRecord] = {}
        present: set[str] = set()
        missing = []
        for finder in self._finders:
            files = finder.find()
            if finder.problem:
                missing.append(finder.problem)
            present.update(files)
            for name in files:
                if self.tailer.unchanged(name):
                    continue
                if name not in self.tailer.files and name not in always:
                    try:
                        if os.stat(name).st_mtime_ns < since_ns:
                            continue  # not written since: no request of today or this block
                    except OSError:
                        continue
                self._read_file(finder.root, Path(name), out)
        self.tailer.forget_missing(present)
        self.files_seen = len(present)
        if missing and len(missing) == len(self._finders):
            self.missing = "no Claude Code projects folder: " + "; ".join(missing)
        return list(out.values())


class _Cache(msgspec.Struct, array_like=True):
    version: int
    key: str  # the folders and prices it was made with
    keep_from_ns: int
    state: str  # the tailer's offsets
    # (ts_ns, cost or None, session, key, tokens), since keep_from_ns
    records: list[tuple[int, float | None, str, str, int]]
    # session -> (cost, unpriced requests) of its requests before keep_from_ns
    older: dict[str, tuple[float, int]]


@dataclass(frozen=True, slots=True)
class Figures:
    session_cost_usd: float | None  # None: no request of this session in the logs
    session_unpriced: int
    today_cost_usd: float
    today_unpriced: int
    block: UsageBlock | None
    files_read: int
    problem: str = ""  # folders or files that could not be read


def cache_key(dirs: Iterable[Path], prices: PriceTable) -> str:
    digest = hashlib.sha256(repr(sorted(str(d) for d in dirs)).encode())
    # the bundled table is named by its date; the user's overrides and files by their values
    named = (prices.as_of, prices.added_sources, sorted(prices.overrides.items()))
    digest.update(repr(named).encode())
    return digest.hexdigest()[:32]


def _load(path: Path, key: str) -> _Cache | None:
    try:
        cache = msgspec.msgpack.decode(read_regular_file(path, MAX_CACHE_BYTES), type=_Cache)
    except (UnsafeFileError, OSError, msgspec.DecodeError, ValueError):
        return None
    if cache.version != CACHE_VERSION or cache.key != key:
        return None
    return cache


def session_figures(
    dirs: list[Path],
    prices: PriceTable,
    cache_file: Path,
    session_id: str | None,
    now_ns: int,
    *,
    transcript: str | None = None,
) -> Figures:
    """The status line's figures at ``now_ns``; the cache in ``cache_file`` is read and
    rewritten (a cache that cannot be written only costs the next run a longer read)."""
    key = cache_key(dirs, prices)
    reader = _RecentReader(dirs, prices)
    keep_from = keep_from_ns(now_ns)
    cache = _load(cache_file, key)
    records: dict[str, tuple[int, float | None, str, str, int]] = {}
    older: dict[str, tuple[float, int]] = {}
    if cache is not None:
        reader.load_state(cache.state)
        records = {r[3]: r for r in cache.records}
        older = dict(cache.older)
    _wire_lookup(reader, records)
    always = frozenset(_session_files(dirs, session_id, transcript))
    for rec in reader.read_recent(keep_from, always):
        records[rec.key] = (rec.ts_ns, rec.cost_usd, rec.session, rec.key, rec.tokens)
    # requests from before ``keep_from`` leave the list for their session's older total
    for row_key, row in list(records.items()):
        if row[0] < keep_from:
            cost, unpriced = older.get(row[2], (0.0, 0))
            older[row[2]] = (cost + (row[1] or 0.0), unpriced + (row[1] is None))
            del records[row_key]
    if len(older) > MAX_SESSIONS:
        older = dict(list(older.items())[-MAX_SESSIONS:])
    figures = _figures(records.values(), older, session_id, now_ns, reader)
    kept = list(records.values())
    fresh = _Cache(CACHE_VERSION, key, keep_from, reader.save_state(), kept, older)
    try:
        ensure_dir(cache_file.parent)
        atomic_write(cache_file, msgspec.msgpack.encode(fresh), temp_prefix=".tmp-statusline-")
    except OSError:
        pass  # the figures stand; the next run reads again what this one read
    return figures


def _session_files(dirs: list[Path], session_id: str | None, transcript: str | None) -> list[str]:
    """The session's own log files, read even when not written since the cutoff (an idle
    session's status line refreshed on a timer): its transcript and its subagents' files."""
    found = []
    for d in dirs:
        projects = d / "projects"
        if transcript:
            path = Path(transcript)
            if path.is_relative_to(projects):
                found.append(str(path))
                sub = path.with_suffix("")
                if sub.is_dir():
                    found.extend(str(p) for p in sub.rglob("*.jsonl"))
    return found


def _wire_lookup(
    reader: ClaudeLogReader, records: dict[str, tuple[int, float | None, str, str, int]]
) -> None:
    """Let duplicate removal see the requests read by earlier runs (a streaming rewrite or a
    sidechain replay of one of them is not counted again), as the claude source does with its
    history."""
    if not records:
        return
    by_message: dict[str, list[tuple[str, int]]] = {}
    for rec_key, rec in records.items():
        if rec_key.startswith("m:"):
            mid, _, rid = rec_key[2:].rpartition(":")
            by_message.setdefault(mid, []).append((rid, rec[4]))
    reader.dedup.lookup = lambda mid: by_message.get(mid, [])
    reader.dedup.lookup_until_ns = max(r[0] for r in records.values()) + LOOKUP_MARGIN_NS


def _figures(
    records: Iterable[tuple[int, float | None, str, str, int]],
    older: dict[str, tuple[float, int]],
    session_id: str | None,
    now_ns: int,
    reader: ClaudeLogReader,
) -> Figures:
    ordered = sorted(records)
    today = today_start_ns(now_ns)
    tomorrow = today_start_ns(today + 36 * NS_PER_HOUR)  # a day is 23 to 25 hours long
    today_cost, today_unpriced = 0.0, 0
    session_cost, session_unpriced, session_seen = 0.0, 0, False
    if session_id is not None and session_id in older:
        session_cost, session_unpriced = older[session_id]
        session_seen = True
    for ts, cost, session, _key, _tokens in ordered:
        if today <= ts < tomorrow:  # by date, as ccusage's "today"
            today_cost += cost or 0.0
            today_unpriced += cost is None
        if session_id is not None and session == session_id:
            session_seen = True
            session_cost += cost or 0.0
            session_unpriced += cost is None
    chain = [
        UsageRecord(ts, "", "", 0, 0, 0, tokens, cost, key, session)
        for ts, cost, session, key, tokens in ordered
        if ts >= now_ns - BLOCK_CHAIN_NS and ts <= now_ns
    ]
    unreadable = reader.unreadable()
    problem = ""
    if unreadable:
        path, why = min(unreadable.items())
        problem = f"unreadable: {path}: {why}"
    return Figures(
        session_cost_usd=session_cost if session_seen else None,
        session_unpriced=session_unpriced,
        today_cost_usd=today_cost,
        today_unpriced=today_unpriced,
        block=current_block(chain, now_ns),
        files_read=reader.files_seen,
        problem=problem,  # no logs at all is no problem: Claude Code may not have logged yet
    )
