"""The figures of Claude Code's status line, read from its logs fast enough to run after every
message: the session's cost, today's cost and the current 5-hour block (with its burn rate).

The rules are the claude source's (``claude.logs``: the same parser, duplicate removal and
prices), so the figures agree with ``burntray status`` and with ccusage. What differs is what
is read and kept, because Claude Code waits for the line:

- only the files written since ``keep_from`` (the earlier of local midnight and 48 hours ago,
  what today and the 5-hour block's chain need) and the session's own files are read; a log
  not written since then cannot hold a request of today or of the current block;
- what was read is kept in a private cache file (burntray's cache dir, replaced atomically):
  per-file offsets, the requests of the last hour one by one (a streaming rewrite or a replay
  of one of them replaces it, as in the history), and older ones folded into what the line
  needs: each session's total, each day's, and per-minute sums for the block's chain. So the
  next run reads only the bytes appended since, and its cache stays small however much was
  logged. A folded request is no longer known one by one, so a run that reads requests of the
  folded span (a resumed session's copies of its parent's) reads the logs afresh instead, and
  a session whose own logs hold requests from before ``keep_from`` has the logs written since
  the oldest of them read for duplicate removal (its parent's may be days old);
- no SQLite and no lock: two status lines at once each answer; the last one to finish keeps
  its cache (both are whole), and a cache that cannot be read is rebuilt, never an error.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import gc
import operator
from collections.abc import Iterable
from pathlib import Path

import msgspec
from msgspec import Struct

from burntray.io.atomic import atomic_write
from burntray.io.bounded_read import UnsafeFileError, read_regular_file
from burntray.model.blocks import BLOCK_NS, UsageBlock, current_block
from burntray.model.pricing import PriceTable
from burntray.model.timefmt import NS_PER_HOUR, NS_PER_MINUTE
from burntray.model.usage import UsageRecord
from burntray.paths import ensure_dir
from burntray.sources.claude.dedup import LOOKUP_MARGIN_NS
from burntray.sources.claude.logs import ClaudeLogReader
from burntray.sources.claude.statusline_read import RecentReader, Row

CACHE_VERSION = 2
CACHE_NAME = "statusline-claude.msgpack"
MAX_CACHE_BYTES = 64 * 1024 * 1024
BLOCK_CHAIN_NS = 48 * NS_PER_HOUR
# Requests younger than this are kept one by one: their lines may still be rewritten.
RECENT_NS = NS_PER_HOUR
# Sessions whose older total is kept: the most recently active ones.
MAX_SESSIONS = 2000

_TIME = operator.itemgetter(0)


def today_start_ns(now_ns: int) -> int:
    """Local midnight of ``now_ns``'s day (the process's time zone, as ccusage's "today")."""
    local = _dt.datetime.fromtimestamp(now_ns / 1e9).astimezone()
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return int(midnight.timestamp()) * 10**9


def keep_from_ns(now_ns: int) -> int:
    return min(today_start_ns(now_ns), now_ns - BLOCK_CHAIN_NS)


class _Cache(msgspec.Struct, array_like=True):
    version: int
    key: str  # the folders and prices it was made with
    state: str  # the tailer's offsets
    recent: list[Row]  # the last hour's requests, one by one
    # session -> (cost, unpriced requests) of its requests folded out of ``recent``
    sessions: dict[str, tuple[float, int]]
    # local midnight (ns) -> (cost, unpriced requests) of that day's folded requests
    days: dict[int, tuple[float, int]]
    # minute -> (cost, tokens, first ts, last ts) of its folded requests, for 48 hours
    minutes: dict[int, tuple[float, int, int, int]]


class Figures(Struct, frozen=True):
    session_cost_usd: float | None  # None: no request of this session in the logs
    session_unpriced: int
    today_cost_usd: float
    today_unpriced: int
    block: UsageBlock | None
    files_read: int
    problem: str = ""  # folders or files that could not be read


def cache_key(dirs: Iterable[Path], prices: PriceTable) -> str:
    """What the cached costs were worked out with: the folders, and the prices (the bundled
    table named by its date, the user's overrides and files by their values)."""
    named = (prices.as_of, prices.added_sources, sorted(prices.overrides.items()))
    return repr((sorted(str(d) for d in dirs), named))


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
    history_db: Path | None = None,
    fresh_since: int | None = None,
) -> Figures:
    """The status line's figures at ``now_ns``; the cache in ``cache_file`` is read and
    rewritten (a cache that cannot be written only costs the next run a longer read). With no
    cache yet, ``history_db`` (burntray's history) may seed it (``statusline_seed``).
    ``fresh_since``: neither, and the logs written since then are read for duplicate removal."""
    key = cache_key(dirs, prices)
    reader = RecentReader(dirs, prices)
    since = keep_from_ns(now_ns)
    cache = None if fresh_since is not None else _load(cache_file, key)
    rows: dict[str, Row] = {}
    seeded = False
    if cache is None:
        cache = _Cache(CACHE_VERSION, key, "", [], {}, {}, {})
        if history_db is not None and fresh_since is None:
            from burntray.sources.claude.statusline_seed import (  # noqa: PLC0415
                seed_from_history,
            )

            first_day = today_start_ns(now_ns) - 3 * 24 * NS_PER_HOUR
            seed = seed_from_history(
                history_db,
                now_ns - RECENT_NS,
                keep_from_ns(now_ns),
                _day_bounds(now_ns)[-1:],  # today's: the line shows no other day's sum
                (now_ns - BLOCK_CHAIN_NS) // NS_PER_MINUTE * NS_PER_MINUTE,
            )
            if seed is not None:
                cache.state, cache.sessions = seed.state, seed.sessions
                cache.days = {d: v for d, v in seed.days.items() if d >= first_day}
                cache.minutes = seed.minutes
                rows = {r[3]: r for r in seed.recent}
                seeded = True
    if cache.state:
        reader.load_state(cache.state)
    if seeded:  # files not written since the cutoff are left as a first run leaves them
        _forget_quiet_files(reader, keep_from_ns(now_ns))
    rows.update((r[3], r) for r in cache.recent)
    _wire_lookup(reader, rows)
    always = frozenset(_session_files(dirs, session_id, transcript))
    new: dict[str, Row] = {}
    # a first run holds 100,000 requests, in no cycle: the collector waits until they are folded
    collecting = gc.isenabled()
    gc.disable()
    try:
        reader.read_rows(since, always, new, fresh_since)
        # A resumed session's log starts with copies of its parent's requests (ids and times),
        # which count once (as ccusage counts them): only a read of both logs tells. So the
        # logs are read afresh when this run read a request of the span earlier runs (or the
        # history) folded, no longer known one by one; and, with the logs written since the
        # oldest one's time, when the session's own logs hold requests from before those read.
        folded = keep_from_ns(now_ns), now_ns - RECENT_NS
        refold = (
            since
            if cache.state and any(folded[0] <= r[0] < folded[1] for r in new.values())
            else None
        )
        read_from = since if fresh_since is None else min(since, fresh_since)
        own = (r[0] for r in new.values() if r[2] == session_id and r[0] < read_from)
        refold = min(own, default=refold)
        if refold is None:
            rows = rows | new if rows else new
            cache.recent = _fold(cache, list(rows.values()), now_ns)
    finally:
        if collecting:
            gc.enable()
    if refold is not None:
        return session_figures(
            dirs, prices, cache_file, session_id, now_ns, transcript=transcript, fresh_since=refold
        )
    figures = _figures(cache, session_id, now_ns, reader)
    cache.state = reader.save_state()
    try:
        ensure_dir(cache_file.parent)
        # no fsync: Claude Code waits for the line, and a cache lost to a power cut is read
        # again (``_load`` passes over a bad one)
        data = msgspec.msgpack.encode(cache)
        atomic_write(cache_file, data, temp_prefix=".tmp-statusline-", durable=False)
    except OSError:
        pass  # the figures stand; the next run reads again what this one read
    return figures


def _forget_quiet_files(reader: ClaudeLogReader, keep_from: int) -> None:
    """Drop the history's offsets of the files not written since ``keep_from``: their sessions'
    requests are not in the seed, so a session resumed in one of them is read whole then, as
    a run without a seed reads it."""
    files = reader.tailer.files
    for name in [n for n, state in files.items() if state.mtime_ns < keep_from]:
        del files[name]


def _day_bounds(now_ns: int) -> list[tuple[int, int]]:
    """(local midnight, the next one) of today and the three days before (what ``days`` keeps)."""
    midnights = sorted({today_start_ns(now_ns - d * 24 * NS_PER_HOUR) for d in range(4)})
    return [(m, today_start_ns(m + 36 * NS_PER_HOUR)) for m in midnights]


def _fold(cache: _Cache, rows: list[Row], now_ns: int) -> list[Row]:
    """Fold the requests older than ``RECENT_NS`` into the per-session, per-day and
    per-minute sums; returns the recent ones. (A first run folds a hundred thousand: one pass
    in time order, each sum kept in a local list until the end.)"""
    cutoff = now_ns - RECENT_NS
    recent = [r for r in rows if r[0] >= cutoff]
    # by time alone: two requests of one instant would compare a cost with None (unpriced)
    old = sorted((r for r in rows if r[0] < cutoff), key=_TIME) if len(recent) != len(rows) else []
    if not old:
        return recent
    bounds = _day_bounds(now_ns)
    first_minute = (now_ns - BLOCK_CHAIN_NS) // NS_PER_MINUTE
    sessions: dict[str, list[float]] = {}
    days: dict[int, list[float]] = {}
    minutes: dict[int, list[float]] = {}
    day_at = 0
    for ts, cost, session, _key, tokens in old:
        spent = cost or 0.0
        unpriced = cost is None
        acc = sessions.get(session)
        if acc is None:
            sessions[session] = [spent, unpriced]
        else:
            acc[0] += spent
            acc[1] += unpriced
        while day_at < len(bounds) and ts >= bounds[day_at][1]:
            day_at += 1
        if day_at < len(bounds) and ts >= bounds[day_at][0]:
            acc = days.get(bounds[day_at][0])
            if acc is None:
                days[bounds[day_at][0]] = [spent, unpriced]
            else:
                acc[0] += spent
                acc[1] += unpriced
        minute = ts // NS_PER_MINUTE
        if minute >= first_minute:
            acc = minutes.get(minute)
            if acc is None:
                minutes[minute] = [spent, tokens, ts, ts]
            else:  # in time order: this one is the minute's last so far
                acc[0] += spent
                acc[1] += tokens
                acc[3] = ts
    for session, (cost_s, n_s) in sessions.items():
        held = cache.sessions.pop(session, (0.0, 0))  # re-inserted: the newest last
        cache.sessions[session] = (held[0] + cost_s, held[1] + int(n_s))
    if len(cache.sessions) > MAX_SESSIONS:
        cache.sessions = dict(list(cache.sessions.items())[-MAX_SESSIONS:])
    first_day = bounds[0][0]
    merged_days = {d: v for d, v in cache.days.items() if d >= first_day}
    for day, (cost_d, n_d) in days.items():
        held = merged_days.get(day, (0.0, 0))
        merged_days[day] = (held[0] + cost_d, held[1] + int(n_d))
    cache.days = merged_days
    merged = {m: v for m, v in cache.minutes.items() if m >= first_minute}
    for minute, (cost_m, tokens_m, first, last) in minutes.items():
        held_m = merged.get(minute)
        if held_m is None:
            merged[minute] = (cost_m, int(tokens_m), int(first), int(last))
        else:
            merged[minute] = (
                held_m[0] + cost_m,
                held_m[1] + int(tokens_m),
                min(held_m[2], int(first)),
                max(held_m[3], int(last)),
            )
    cache.minutes = merged
    return recent


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


def _wire_lookup(reader: ClaudeLogReader, rows: dict[str, Row]) -> None:
    """Let duplicate removal see the recent requests read by earlier runs (a streaming rewrite
    or a sidechain replay of one of them is not counted again), as the claude source does with
    its history."""
    if not rows:
        return
    keys: list[str] = []  # sorted, made on the first lookup (most runs read no known message)

    def lookup(mid: str) -> list[tuple[str, int]]:
        if not keys:
            keys.extend(sorted(rows))
        prefix = f"m:{mid}:"
        found = []
        for at in range(bisect.bisect_left(keys, prefix), len(keys)):
            if not keys[at].startswith(prefix):
                break
            found.append((keys[at][len(prefix) :], rows[keys[at]][4]))
        return found

    reader.dedup.lookup = lookup
    reader.dedup.lookup_until_ns = max(r[0] for r in rows.values()) + LOOKUP_MARGIN_NS


def _figures(
    cache: _Cache, session_id: str | None, now_ns: int, reader: ClaudeLogReader
) -> Figures:
    today = today_start_ns(now_ns)
    tomorrow = today_start_ns(today + 36 * NS_PER_HOUR)  # a day is 23 to 25 hours long
    today_cost, today_unpriced = cache.days.get(today, (0.0, 0))
    session_seen = session_id is not None and session_id in cache.sessions
    session_cost, session_unpriced = cache.sessions.get(session_id or "", (0.0, 0))
    for ts, cost, session, _key, _tokens in cache.recent:
        if today <= ts < tomorrow:  # by date, as ccusage's "today"
            today_cost += cost or 0.0
            today_unpriced += cost is None
        if session_id is not None and session == session_id:
            session_seen = True
            session_cost += cost or 0.0
            session_unpriced += cost is None
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
        block=_block(cache, now_ns),
        files_read=reader.files_seen,
        problem=problem,  # no logs at all is no problem: Claude Code may not have logged yet
    )


def _block(cache: _Cache, now_ns: int) -> UsageBlock | None:
    """The current 5-hour block, from the per-minute sums and the recent requests: each minute
    stands as its cost at its first request (and its last request's time)."""
    points: list[tuple[int, float | None, int]] = []
    for _minute, (cost, tokens, first, last) in sorted(cache.minutes.items()):
        points.append((first, cost, tokens))
        if last != first:
            points.append((last, 0.0, 0))
    # every folded minute is older than every recent request
    recent = [(ts, cost, n) for ts, cost, _s, _k, n in cache.recent if ts <= now_ns]
    points += sorted(recent, key=_TIME)
    if not points:
        return None
    # Where the last block begins, by ``model.blocks.usage_blocks_records``'s rule (a block
    # starts on the hour of its first request; a request more than 5 hours after that hour
    # or after the previous request starts the next): only that block's points become records.
    begin, hour = 0, points[0][0] - points[0][0] % NS_PER_HOUR
    for at in range(1, len(points)):
        ts = points[at][0]
        if ts - hour > BLOCK_NS or ts - points[at - 1][0] > BLOCK_NS:
            begin, hour = at, ts - ts % NS_PER_HOUR
    block = [UsageRecord(ts, "", "", 0, 0, 0, n, cost, "") for ts, cost, n in points[begin:]]
    return current_block(block, now_ns)


def logged_session_costs(
    dirs: list[Path], prices: PriceTable, cache_file: Path
) -> dict[str, float]:
    """Each session's log-derived cost as of the last status line (from its cache, nothing
    read): beside Claude Code's own figure recorded at the same moment."""
    cache = _load(cache_file, cache_key(dirs, prices))
    if cache is None:
        return {}
    costs = {session: cost for session, (cost, _n) in cache.sessions.items()}
    for _ts, cost, session, _key, _tokens in cache.recent:
        costs[session] = costs.get(session, 0.0) + (cost or 0.0)
    return costs
