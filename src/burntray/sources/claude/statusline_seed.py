"""The status line's first run, started from what burntray's history already holds.

A tray (or any ``burntray status``) that follows Claude Code's logs keeps every request in
burntray's history with the log offsets it read to, in one transaction. The status line's first
run (no cache of its own yet) takes from there, when it can at once, the offsets, the last
hour's requests and the sums the cache keeps of older ones (per session, day and minute, summed
by SQLite), and reads only the log bytes written after: the first line comes in a fraction of
a full read.

Never at the price of waiting: the history is opened read-only with a busy timeout of a few
milliseconds, in one read transaction (the offsets and the records agree), and anything amiss
(no history, another version's, locked by a writer, not a database) is no seed: the logs are
read as they would be without it.
"""

from __future__ import annotations

import sqlite3
import urllib.parse
from pathlib import Path

from msgspec import Struct

from burntray.io.bounded_read import UnsafeFileError, check_regular_file
from burntray.model.timefmt import NS_PER_MINUTE
from burntray.store.history import RESUME_STATE_PREFIX
from burntray.store.schema import EVENTS

SOURCE = "claude"
BUSY_TIMEOUT_S = 0.05

# (ts_ns, cost or None, session, key, tokens): a ``statusline_costs`` row
Row = tuple[int, float | None, str, str, int]


class Seed(Struct, frozen=True):
    """What the status line's cache holds, as the history tells it (see ``statusline_costs``):
    the requests since ``recent_from`` one by one, older ones summed in SQL."""

    state: str  # the log offsets
    recent: list[Row]
    sessions: dict[str, tuple[float, int]]  # all their requests before ``recent_from``
    days: dict[int, tuple[float, int]]  # per local day (its midnight), before ``recent_from``
    minutes: dict[int, tuple[float, int, int, int]]  # (cost, tokens, first ts, last ts)


_TOKENS = "input + output + cache_read + cache_write"
_RECENT = (
    f"SELECT ts_ns, cost, session, key, {_TOKENS} FROM {EVENTS} "  # noqa: S608
    "WHERE source = ? AND ts_ns >= ?"
)
# Every request before the last hour, of the sessions active since the cutoff: that is nearly the
# whole history, so it is read in the table's own order (``+ts_ns`` keeps SQLite off the time
# index, whose every entry costs a second lookup into the table: 0.28 s against 0.14 s for the
# heavy week's 240,000 requests).
_SESSIONS = (
    f"SELECT session, total(cost), sum(cost IS NULL) FROM {EVENTS} "  # noqa: S608
    "WHERE source = ? AND +ts_ns < ? AND session IN "
    f"(SELECT DISTINCT session FROM {EVENTS} WHERE source = ? AND ts_ns >= ?) GROUP BY session"
)
_DAY = (
    f"SELECT total(cost), sum(cost IS NULL) FROM {EVENTS} "  # noqa: S608
    "WHERE source = ? AND ts_ns >= ? AND ts_ns < ?"
)
_MINUTES = (
    f"SELECT ts_ns / {NS_PER_MINUTE}, total(cost), sum({_TOKENS}), min(ts_ns), max(ts_ns) "  # noqa: S608
    f"FROM {EVENTS} WHERE source = ? AND ts_ns >= ? AND ts_ns < ? GROUP BY 1"
)


def _row(raw: tuple[object, ...]) -> Row | None:
    ts, cost, session, key, tokens = raw
    if not (isinstance(ts, int) and isinstance(session, str) and isinstance(key, str)):
        return None
    if not (cost is None or isinstance(cost, float | int)) or not isinstance(tokens, int):
        return None
    return ts, None if cost is None else float(cost), session, key, tokens


def seed_from_history(
    history_db: Path,
    recent_from_ns: int,
    keep_from_ns: int,
    days: list[tuple[int, int]],
    minutes_from_ns: int,
) -> Seed | None:
    """The cache as the history holds it: requests since ``recent_from_ns`` one by one; the
    sessions active since ``keep_from_ns`` summed before that, each of ``days``' (start, end)
    and each minute since ``minutes_from_ns`` too. None when the history cannot tell at once."""
    try:
        check_regular_file(history_db)
    except (UnsafeFileError, OSError):
        return None
    uri = f"file:{urllib.parse.quote(str(history_db))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        conn.execute("BEGIN")  # one snapshot: the offsets and the records they point past
        state = conn.execute(
            "SELECT value FROM meta WHERE key = ?", (RESUME_STATE_PREFIX + SOURCE,)
        ).fetchone()
        if state is None or not isinstance(state[0], str):
            return None
        recent = [_row(r) for r in conn.execute(_RECENT, (SOURCE, recent_from_ns))]
        sessions = {
            str(session): (float(cost), int(unpriced))
            for session, cost, unpriced in conn.execute(
                _SESSIONS, (SOURCE, recent_from_ns, SOURCE, keep_from_ns)
            )
        }
        day_sums = {}
        for start, end in days:
            upto = min(end, recent_from_ns)
            cost, unpriced = conn.execute(_DAY, (SOURCE, start, upto)).fetchone()
            if cost or unpriced:  # ``sum`` is NULL for a day without a request
                day_sums[start] = (float(cost), int(unpriced or 0))
        minute_sums = {
            int(minute): (float(cost), int(tokens), int(first), int(last))
            for minute, cost, tokens, first, last in conn.execute(
                _MINUTES, (SOURCE, minutes_from_ns, recent_from_ns)
            )
        }
        conn.execute("COMMIT")
    except (sqlite3.Error, TypeError, ValueError):  # locked, not a database, not our tables
        return None
    finally:
        conn.close()
    rows = [r for r in recent if r is not None]
    return Seed(state[0], rows, sessions, day_sums, minute_sums)
