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
from itertools import chain

CHUNK = 256  # rows per statement, at most (fewer when SQLite allows fewer bound values)

# (head, width, tail, select list, rows) -> the statement's text, built once per process
_Text = tuple[str, int, str, str, int]
_TEXTS: dict[_Text, str] = {}


def _text(key: _Text) -> str:
    text = _TEXTS.get(key)
    if text is None:
        head, width, tail, select, n = key
        rows = ",".join(["(" + ",".join("?" * width) + ")"] * n)
        if select:  # the rows' columns placed among the values bound once (?1, ?2...)
            columns = ", ".join(f"column{c}" for c in range(1, width + 1))
            # WHERE: an upsert after a SELECT needs one (SQLite's grammar)
            picked = select.format(columns)
            text = f"{head} SELECT {picked} FROM (VALUES {rows}) WHERE true{tail}"  # noqa: S608
        else:
            text = f"{head} VALUES {rows}{tail}"
        _TEXTS[key] = text
    return text


def insert_rows(
    conn: sqlite3.Connection,
    head: str,
    width: int,
    rows: Sequence[Sequence[object]],
    inserted: list[int] | None = None,
    *,
    tail: str = "",
    shared: Sequence[object] = (),
    select: str = "",
) -> int:
    """Run ``head`` (``"INSERT INTO t (a, b)"``) for ``rows`` of ``width`` values each;
    returns the number of statements run (``insert_values`` says how)."""
    values = list(chain.from_iterable(rows))
    return insert_values(
        conn, head, width, values, inserted, tail=tail, shared=shared, select=select
    )


def insert_values(
    conn: sqlite3.Connection,
    head: str,
    width: int,
    values: Sequence[object],
    inserted: list[int] | None = None,
    *,
    tail: str = "",
    shared: Sequence[object] = (),
    select: str = "",
) -> int:
    """Run ``head`` (``"INSERT INTO t (a, b)"``) for ``values``, ``width`` per row, one
    row after the other; returns the number of statements run. Chunks of ``CHUNK`` rows, the
    rest in chunks of powers of two: at most nine statement texts, all of them kept in
    sqlite3's statement cache. ``inserted`` (if given) gets the rows inserted appended, and the
    first statement that inserted fewer than its rows (``OR IGNORE`` passed some over) is the
    last one run.

    ``tail`` ends each statement (an ``ON CONFLICT`` clause: an upsert of many rows in one
    step). ``shared`` values are bound once per statement as ``?1``, ``?2``...: ``select`` says
    where each row's values (``{}``: its columns) go among them (``"?1, {}, ?2"``), so a value
    every row has (a source's name) is not bound again for each row. (Numbered placeholders in
    each row would do it too, but SQLite then takes 25 ms to prepare the statement, a tenth of a
    short command's write.) Flat values, not a tuple per row: a first scan's 240,000 tuples kept
    the cyclic collector busy."""
    limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) - len(shared)
    cap = min(CHUNK, max(1, limit // width))
    rows = len(values) // width
    start = statements = done = 0
    while start < rows:
        left = rows - start
        n = cap if left >= cap else 1 << (left.bit_length() - 1)
        params = [*shared, *values[start * width : (start + n) * width]]
        # rowcount: the rows this statement inserted (not what a trigger of theirs wrote)
        count = conn.execute(_text((head, width, tail, select, n)), params).rowcount
        start += n
        statements += 1
        done += count
        if inserted is not None and count != n:
            break
    if inserted is not None:
        inserted.append(done)
    return statements
