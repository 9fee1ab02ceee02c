"""The status line's first run, started from what burntray's history already holds.

A tray (or any ``burntray status``) that follows Claude Code's logs keeps every request in
burntray's history with the log offsets it read to, in one transaction. The status line's first
run (no cache of its own yet) takes from there, when it can at once, the offsets, the requests
since ``keep_from`` and the older totals of the sessions active since, and reads only the log
bytes written after: the first line comes in a fraction of a full read.

Never at the price of waiting: the history is opened read-only with a busy timeout of a few
milliseconds, in one read transaction (the offsets and the records agree), and anything amiss
(no history, another version's, locked by a writer, not a database) is no seed: the logs are
read as they would be without it.
"""

from __future__ import annotations

import sqlite3
import urllib.parse
from pathlib import Path

from burntray.io.bounded_read import UnsafeFileError, check_regular_file
from burntray.store.history import RESUME_STATE_PREFIX
from burntray.store.usage_events import EVENTS

SOURCE = "claude"
BUSY_TIMEOUT_S = 0.05

# (ts_ns, cost or None, session, key, tokens): a ``statusline_costs`` row
Row = tuple[int, float | None, str, str, int]
Seed = tuple[str, list[Row], dict[str, tuple[float, int]]]

_RECENT = (
    f"SELECT ts_ns, cost, session, key, input + output + cache_read + cache_write "  # noqa: S608
    f"FROM {EVENTS} WHERE source = ? AND ts_ns >= ?"
)
_OLDER = (
    f"SELECT session, total(cost), sum(cost IS NULL) FROM {EVENTS} "  # noqa: S608
    "WHERE source = ? AND ts_ns < ? AND session IN "
    f"(SELECT DISTINCT session FROM {EVENTS} WHERE source = ? AND ts_ns >= ?) GROUP BY session"
)


def _row(raw: tuple[object, ...]) -> Row | None:
    ts, cost, session, key, tokens = raw
    if not (isinstance(ts, int) and isinstance(session, str) and isinstance(key, str)):
        return None
    if not (cost is None or isinstance(cost, float | int)) or not isinstance(tokens, int):
        return None
    return ts, None if cost is None else float(cost), session, key, tokens


def seed_from_history(history_db: Path, keep_from_ns: int) -> Seed | None:
    """(log offsets, requests since ``keep_from_ns``, older totals of their sessions) as the
    history holds them; None when it cannot tell at once."""
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
        rows = [_row(r) for r in conn.execute(_RECENT, (SOURCE, keep_from_ns))]
        older: dict[str, tuple[float, int]] = {}
        args = (SOURCE, keep_from_ns, SOURCE, keep_from_ns)
        for session, cost, unpriced in conn.execute(_OLDER, args):
            if isinstance(session, str) and isinstance(cost, float) and isinstance(unpriced, int):
                older[session] = (cost, unpriced)
        conn.execute("COMMIT")
    except sqlite3.Error:  # locked, not a database, another version's tables
        return None
    finally:
        conn.close()
    return state[0], [r for r in rows if r is not None], older
