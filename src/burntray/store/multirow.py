"""Many rows in a few multi-row INSERT statements instead of one step per row.

sqlite3's ``executemany`` runs the statement once per row, and each run lets go of the GIL and
takes it back. While other threads are busy (an OTLP receiver decoding a stream of exports),
each taking back can wait for a whole switch interval (5 ms): a write of a few thousand rows
then took seconds, and the figures fell behind what was acknowledged (issue 22). A multi-row
INSERT steps once per chunk.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

CHUNK = 256  # rows per statement, at most (fewer when SQLite allows fewer bound values)


def insert_rows(
    conn: sqlite3.Connection,
    head: str,
    width: int,
    rows: Sequence[Sequence[object]],
    inserted: list[int] | None = None,
) -> int:
    """Run ``head`` (``"INSERT INTO t (a, b) VALUES"``) for ``rows`` of ``width`` values each;
    returns the number of statements run. Chunks of ``CHUNK`` rows, the rest in chunks of powers
    of two: at most nine statement texts, all of them kept in sqlite3's statement cache.
    ``inserted`` (if given) gets the rows inserted appended, and the first statement that
    inserted fewer than its rows (``OR IGNORE`` passed some over) is the last one run."""
    cap = min(CHUNK, max(1, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width))
    one = "(" + ",".join("?" * width) + ")"
    start = statements = done = 0
    while start < len(rows):
        left = len(rows) - start
        n = cap if left >= cap else 1 << (left.bit_length() - 1)
        values = [value for row in rows[start : start + n] for value in row]
        # rowcount: the rows this statement inserted (not what a trigger of theirs wrote)
        count = conn.execute(f"{head} {','.join([one] * n)}", values).rowcount
        start += n
        statements += 1
        done += count
        if inserted is not None and count != n:
            break
    if inserted is not None:
        inserted.append(done)
    return statements
