"""Which rows of an agent's ``sessions`` table can have changed since it was last read, told by
SQLite itself, so a warm read hands Python a few rows instead of every session of a long-used
agent (20,000 rows: most of a warm ``status``).

Each row has a digest SQLite works out from its totals: their weighted sum (modulo a prime)
times a weight of its rowid. Per database the resume state keeps the rowid read up to (``top``),
the count and sum of the digests of the rows up to it, the same per block of 256 rowids, and the
rows read but not recorded (no model or time yet, nothing used: they may be filled in later
without their totals moving, so they are read every time). A read then:

- sums the digests of the rows up to ``top`` (one pass in SQLite): unchanged, only the rows
  after ``top`` (new sessions) are read;
- else works out every block's digest and reads the blocks whose digest moved.

What the digest sees: a row added or removed (the count) and any change of one session's
totals, unless its weighted sum moved by a multiple of 2**31 - 1 tokens; changes of several
sessions at once are seen unless they cancel exactly in both the weighted sums and their rowid
weights. The agents only add to a session's totals, a row at a time. Not seen: a session
replaced by another with exactly the same totals at the same rowid between two reads, a value
rewritten as a real of the same whole value. The sums are whole numbers (exact, so the digests
of new rows add to the saved ones); a table too big for them (an overflow: over two million
rows) is read whole, as is a database never read before, one replaced (another file at the
path), one whose blocks mostly moved (``VACUUM`` renumbers rows), one with more than
``MAX_PENDING`` rows not recorded, and a table ``WITHOUT ROWID`` (the caller's rule).
"""

from __future__ import annotations

import os
import sqlite3

from msgspec import Struct

Row = tuple[object, ...]
SHIFT = 8  # blocks of 256 rowids
PRIME = 2_147_483_647  # the weighted sum of a row's totals modulo this: no overflow
WEIGHT_MOD = 1021  # a prime above the block size: the rows of a block weigh differently
MAX_PENDING = 2000  # more rows not recorded than this: the table is read whole
# a query per block, each a range of rowids, costs about as much as sorting 25 rows for a
# GROUP BY: the table's digests are worked out so when its blocks hold this many on average
MIN_BLOCK_ROWS = 64
_WEIGHTS = (1, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43)

Digest = tuple[int, int]  # rows, sum of their digests


class _Read(Struct):
    """What one database was when read."""

    file: tuple[int, int]  # (st_dev, st_ino): another file at the path is read whole
    top: int  # the rowid read up to
    whole: Digest  # of the rows up to ``top``
    blocks: dict[int, Digest]  # the same per block
    pending: list[int] = []  # rowids read but not recorded (each value its own list)


def row_digest(terms: tuple[str, ...]) -> str:
    """A row's digest, in SQL: ``terms`` are its totals as whole numbers."""
    value = " + ".join(f"{w} * ({t})" for t, w in zip(terms, _WEIGHTS, strict=False))
    return f"((({value}) % {PRIME}) * (rowid % {WEIGHT_MOD} + {WEIGHT_MOD + 1}))"


def _file_id(name: str) -> tuple[int, int] | None:
    try:
        st = os.stat(name)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _plus(a: Digest, b: Digest) -> Digest:
    return (a[0] + b[0], a[1] + b[1])


class BlockDigests:
    """What each database's rows were when read, and which rows to read now."""

    def __init__(self, terms: tuple[str, ...]) -> None:
        if len(terms) > len(_WEIGHTS):
            raise ValueError(f"at most {len(_WEIGHTS)} digest terms")
        self.digest = row_digest(terms) if terms else ""
        self._read: dict[str, _Read] = {}
        self._fresh: dict[str, _Read] = {}  # what this read found, kept by ``done``

    def changed_rows(self, conn: sqlite3.Connection, name: str, whole: str) -> list[Row]:
        """The rows of ``whole`` (a SELECT from ``sessions`` without a WHERE, the rowid last)
        that can have changed since the last read of ``name``: every row the first time. Inside
        the caller's read transaction."""
        file = _file_id(name) if self.digest else None
        if file is None:
            return conn.execute(whole).fetchall()
        try:
            return self._changed(conn, name, file, whole)
        except sqlite3.OperationalError as exc:
            if "overflow" not in str(exc):
                raise
            self._fresh.pop(name, None)  # too many rows for the sums: read whole every time
            return conn.execute(whole).fetchall()

    def _changed(
        self, conn: sqlite3.Connection, name: str, file: tuple[int, int], whole: str
    ) -> list[Row]:
        top = conn.execute("SELECT ifnull(max(rowid), 0) FROM sessions").fetchone()[0]
        before = self._read.get(name)
        if before is not None and before.file == file:
            count, total = conn.execute(
                f"SELECT count(*), ifnull(sum({self.digest}), 0) FROM sessions "  # noqa: S608
                "WHERE rowid <= ?",
                (before.top,),
            ).fetchone()
            if (count, total) == before.whole:  # only rows after ``top`` can be new
                added = self._blocks(conn, "WHERE rowid > ?", (before.top,))
                blocks = dict(before.blocks)
                for b, d in added.items():
                    blocks[b] = _plus(blocks.get(b, (0, 0)), d)
                grown = (count, total)
                for d in added.values():
                    grown = _plus(grown, d)
                self._fresh[name] = _Read(file, top, grown, blocks)
                parts = ["rowid > ?", *self._pending_part(before)]
                return conn.execute(f"{whole} WHERE {' OR '.join(parts)}", (before.top,)).fetchall()
        blocks = self._blocks(conn, "", ())
        summed = (0, 0)
        for d in blocks.values():
            summed = _plus(summed, d)
        self._fresh[name] = _Read(file, top, summed, blocks)
        if before is None or before.file != file:
            return conn.execute(whole).fetchall()
        moved = [b for b, d in blocks.items() if before.blocks.get(b) != d]
        if len(moved) * 2 > len(blocks):  # most of the table: as fast whole
            return conn.execute(whole).fetchall()
        size = 1 << SHIFT
        parts = [f"rowid BETWEEN {b * size} AND {b * size + size - 1}" for b in moved]
        parts += self._pending_part(before)
        if not parts:
            return []
        return conn.execute(f"{whole} WHERE {' OR '.join(parts)}").fetchall()

    def _blocks(
        self, conn: sqlite3.Connection, where: str, args: tuple[int, ...]
    ) -> dict[int, Digest]:
        if not where:
            spread = _dense(conn)
            if spread is not None:
                return self._blocks_by_range(conn, *spread)
        query = (
            f"SELECT rowid >> {SHIFT}, count(*), sum({self.digest}) FROM sessions "  # noqa: S608
            f"{where} GROUP BY 1"
        )
        return {b: (n, s) for b, n, s in conn.execute(query, args)}

    def _blocks_by_range(
        self, conn: sqlite3.Connection, first: int, last: int
    ) -> dict[int, Digest]:
        """``_blocks`` of the whole table, a query per block from ``first`` to ``last``: each a
        range of the rowid's b-tree, where the GROUP BY sorted every row first (on a first scan
        of 20,000 rows, ~105 M instructions against ~56 M)."""
        query = (
            f"SELECT count(*), sum({self.digest}) FROM sessions "  # noqa: S608
            "WHERE rowid BETWEEN ? AND ?"
        )
        found: dict[int, Digest] = {}
        for b in range(first, last + 1):
            rows, total = conn.execute(query, (b << SHIFT, ((b + 1) << SHIFT) - 1)).fetchone()
            if rows:
                found[b] = (rows, total)
        return found

    @staticmethod
    def _pending_part(before: _Read) -> list[str]:
        return [f"rowid IN ({','.join(map(str, before.pending))})"] if before.pending else []

    def done(self, name: str, pending: list[int]) -> None:
        """The rows of the last ``changed_rows`` of ``name`` are used: keep its digests, and the
        rows read but not recorded (read again next time, even in an unchanged block)."""
        fresh = self._fresh.pop(name, None)
        if fresh is None or len(pending) > MAX_PENDING:
            self._read.pop(name, None)  # read whole next time
            return
        fresh.pending = sorted(set(pending))
        self._read[name] = fresh

    def forget(self) -> None:
        self._read = {}
        self._fresh = {}

    def saved(self) -> dict[str, object]:
        """For the resume state (JSON)."""
        return {name: _saved(r) for name, r in self._read.items()}

    def load(self, saved: object) -> None:
        """Take back ``saved``; a database whose part is not of its shape is read whole."""
        self._read = {}
        if not isinstance(saved, dict):
            return
        for name, part in saved.items():
            read = _parse(part)
            if read is not None:
                self._read[str(name)] = read


def _dense(conn: sqlite3.Connection) -> tuple[int, int] | None:
    """The first and last block of the table when its rows fill them enough that a query per
    block is the quicker way (``MIN_BLOCK_ROWS`` a block on average), else None (an empty
    table, or rowids far apart: deleted rows, rowids chosen by the agent)."""
    low = conn.execute("SELECT min(rowid) FROM sessions").fetchone()[0]
    if low is None:
        return None
    high = conn.execute("SELECT max(rowid) FROM sessions").fetchone()[0]
    rows = conn.execute("SELECT count(*) FROM sessions").fetchone()[0]  # no row read: pages
    first, last = low >> SHIFT, high >> SHIFT
    return (first, last) if (last - first + 1) * MIN_BLOCK_ROWS <= rows else None


def _saved(r: _Read) -> list[object]:
    return [list(r.file), r.top, list(r.whole), [[b, *d] for b, d in r.blocks.items()], r.pending]


def _ints(value: object, size: int | None = None) -> bool:
    return (
        isinstance(value, list)
        and (size is None or len(value) == size)
        and all(type(x) is int for x in value)
    )


def _parse(part: object) -> _Read | None:
    if not (isinstance(part, list) and len(part) == 5):
        return None
    file, top, whole, blocks, pending = part
    if not (_ints(file, 2) and type(top) is int and _ints(whole, 2) and _ints(pending)):
        return None
    if not (isinstance(blocks, list) and all(_ints(b, 3) for b in blocks)):
        return None
    return _Read(
        (file[0], file[1]), top, (whole[0], whole[1]), {b: (n, s) for b, n, s in blocks}, pending
    )
