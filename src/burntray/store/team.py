"""The history's side of a team: what this machine still owes its hub, and a hub's per-host sums.

A machine (``[team] hub``) queues every record it writes in ``team_outbox`` (its writer does,
``store.rollup``); ``TeamOutbox`` turns the queue on (queuing the records kept before, once),
hands out the oldest queued records in bounded batches and forgets the ones the hub
acknowledged. The queue and the cursor are in the history, so an offline spell, a crash or a
restart loses nothing: what was not acknowledged is sent again, and the hub counts a record
once by its id.
"""

# ruff: noqa: S608 - SQL here names only constant tables; values are bound

from __future__ import annotations

from typing import NamedTuple

from burntray.model.usage import UsageRecord
from burntray.store.history import HistoryStore
from burntray.store.schema import EVENTS, TEAM_OUTBOX

OUTBOX = TEAM_OUTBOX.name
_CURSOR = "hub"


class Queued(NamedTuple):
    seq: int  # the queue's sequence number: acknowledging it acknowledges all before it
    source: str
    record: UsageRecord


class TeamOutbox:
    """The send queue of one machine; thread safety and transactions come from HistoryStore."""

    def __init__(self, history: HistoryStore) -> None:
        self.history = history

    def enable(self) -> int:
        """Start queuing (once): the records already kept are queued, oldest first, in the same
        transaction that turns the trigger on. Returns how many were queued now (0 when the
        queue was on already)."""
        with self.history.transaction() as conn:
            if conn.execute("SELECT 1 FROM team_cursor WHERE name = ?", (_CURSOR,)).fetchone():
                return 0
            conn.execute("INSERT INTO team_cursor VALUES (?, 0)", (_CURSOR,))
            return int(
                conn.execute(
                    f"INSERT INTO {OUTBOX} (source, key) SELECT source, key FROM {EVENTS} "
                    "WHERE host = '' ORDER BY ts_ns"
                ).rowcount
            )

    def is_on(self) -> bool:
        """Whether the queue is on (``enable`` ran since the last ``disable``)."""
        return bool(self.history.execute("SELECT 1 FROM team_cursor WHERE name = ?", (_CURSOR,)))

    def disable(self) -> bool:
        """Stop queuing and forget the queue (reporting was turned off: a queue nobody sends
        would grow with every record). True when it was on. Turned on again, ``enable`` queues
        every record kept; the hub counts those it has once, by their ids."""
        if not self.history.execute("SELECT 1 FROM team_cursor WHERE name = ?", (_CURSOR,)):
            return False  # the common case: a read, no write
        with self.history.transaction() as conn:
            conn.execute("DELETE FROM team_cursor WHERE name = ?", (_CURSOR,))
            conn.execute(f"DELETE FROM {OUTBOX}")
        return True

    def cursor(self) -> int:
        rows = self.history.execute("SELECT seq FROM team_cursor WHERE name = ?", (_CURSOR,))
        return int(rows[0][0]) if rows else 0  # type: ignore[call-overload]

    def pending(self) -> int:
        rows = self.history.execute(f"SELECT count(*) FROM {OUTBOX}")
        return int(str(rows[0][0]))

    def batch(self, limit: int) -> tuple[int, list[Queued]]:
        """The oldest ``limit`` queued entries: (the last sequence number read, the records
        still kept among them). Entries whose record was pruned since are skipped (their
        sequence number still counts, so acknowledging the batch drops them)."""
        rows = self.history.execute(
            "SELECT q.seq, q.source, e.ts_ns, e.provider, e.model, e.input, e.output, "
            "e.cache_read, e.cache_write, e.cost, e.key, e.session, e.project, "
            f"e.upstream_cost, e.branch FROM (SELECT seq, source, key FROM {OUTBOX} "
            f"ORDER BY seq LIMIT ?) q LEFT JOIN {EVENTS} e "
            "ON e.source = q.source AND e.key = q.key AND e.host = '' ORDER BY q.seq",
            (limit,),
        )
        last = 0
        out: list[Queued] = []
        for r in rows:
            last = int(r[0])  # type: ignore[call-overload]
            if r[2] is None:
                continue
            out.append(
                Queued(
                    last,
                    str(r[1]),
                    UsageRecord(
                        ts_ns=int(r[2]),  # type: ignore[call-overload]
                        provider=str(r[3]),
                        model=str(r[4]),
                        input_tokens=int(r[5]),  # type: ignore[call-overload]
                        output_tokens=int(r[6]),  # type: ignore[call-overload]
                        cache_read_tokens=int(r[7]),  # type: ignore[call-overload]
                        cache_write_tokens=int(r[8]),  # type: ignore[call-overload]
                        cost_usd=None if r[9] is None else float(r[9]),  # type: ignore[arg-type]
                        key=str(r[10]),
                        session=str(r[11]),
                        project=str(r[12]),
                        cost_from_upstream=bool(r[13]),
                        branch=str(r[14]),
                    ),
                )
            )
        return last, out

    def acknowledge(self, seq: int) -> None:
        """The hub holds every queued entry up to ``seq``: forget them and move the cursor."""
        with self.history.transaction() as conn:
            conn.execute(f"DELETE FROM {OUTBOX} WHERE seq <= ?", (seq,))
            conn.execute("UPDATE team_cursor SET seq = max(seq, ?) WHERE name = ?", (seq, _CURSOR))


class HostTotals(NamedTuple):
    host: str
    user: str
    reqs: int
    input: int
    output: int
    cache_read: int
    cache_write: int
    cost: float
    unpriced: int
    estimated: int = 0  # tokens estimated from bytes (a byte-counting source's minutes)
    sent: int = 0
    recv: int = 0


def by_host(history: HistoryStore, source: str, start_ns: int, end_ns: int) -> list[HostTotals]:
    """A hub's figures per (host, user) for ``start <= ts < end`` (records of ``source``)."""
    rows = history.execute(
        "SELECT host, user, count(*), sum(input), sum(output), sum(cache_read), "
        f"sum(cache_write), total(cost), sum(cost IS NULL) FROM {EVENTS} "
        "WHERE source = ? AND ts_ns >= ? AND ts_ns < ? GROUP BY host, user ORDER BY host, user",
        (source, start_ns, end_ns),
    )
    return [HostTotals(*r) for r in rows]  # type: ignore[arg-type]
