"""Issue 22: a long read's batches write records only; the rollups are summed once at its end
(``store.pending``). While a source is marked, every reader of its rollups (windows, the chart's
minutes, the day/model views, the 5-hour blocks) answers exactly as from rollups kept per batch;
the next writer that does not defer sums them, and prune, clear and the team's queue go on as
before. Each history is a real SQLite file, read back through the readers the commands use."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from burntray.model.timefmt import NS_PER_HOUR, NS_PER_MINUTE
from burntray.model.usage import UsageRecord
from burntray.store.blocks import all_block_sums, chain_start
from burntray.store.history import HistoryStore
from burntray.store.pending import pending_from_ns
from burntray.store.schema import ROLLUP_PENDING
from burntray.store.team import TeamOutbox
from burntray.store.usage_events import UsageEvents
from burntray.store.views import grouped

S = 10**9
T0 = 1_796_000_400 * S  # a quarter hour's start
MODELS = ("claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5")


def _week(seed: int, sessions: int = 3, per: int = 400) -> list[list[UsageRecord]]:
    """Sessions one after another, each spanning two days with nights between bursts (blocks
    start after the gaps), a batch per half session: every batch touches minutes all over."""
    rng = random.Random(seed)
    batches: list[list[UsageRecord]] = []
    for s in range(sessions):
        batch: list[UsageRecord] = []
        for n in range(per):
            day, at = divmod(n, per // 2)
            ts = T0 + day * 24 * NS_PER_HOUR + (at * 9 * 60 + rng.randrange(400)) * S // 2
            ts += rng.choice((0, 0, 0, 7 * NS_PER_HOUR))  # a second burst, past 5 hours
            cost = rng.choice((None, rng.random() / 10, rng.random()))
            batch.append(
                UsageRecord(ts, "anthropic", rng.choice(MODELS), rng.randint(1, 50),
                            rng.randint(1, 900), rng.randint(0, 9000), rng.randint(0, 700),
                            cost, f"m:{s}:{n}", f"session-{s}", f"-p{s % 2}")
            )  # fmt: skip
            if len(batch) == per // 2:
                batches.append(batch)
                batch = []
    return batches


def _twins(tmp_path: Path) -> tuple[UsageEvents, UsageEvents]:
    """A history written by a long read (deferred) and one written batch by batch."""
    return (
        UsageEvents(HistoryStore(tmp_path / "deferred.sqlite3")),
        UsageEvents(HistoryStore(tmp_path / "plain.sqlite3")),
    )


def _utc(first: int, end: int) -> list[tuple[int, int]]:
    return [(first, 0)]


def _plus_one_hour(first: int, end: int) -> list[tuple[int, int]]:
    return [(first, 4)]  # quarters


def _answers(events: UsageEvents, end_ns: int) -> dict[str, object]:
    """What the commands read from the history, costs to 1e-9 (sums in another order)."""
    out: dict[str, object] = {}
    edges = [T0 - NS_PER_HOUR, T0 + 7 * S, T0 + 3 * NS_PER_HOUR + 59 * S, T0 + 26 * NS_PER_HOUR,
             T0 + 30 * NS_PER_HOUR + 13 * S, end_ns]  # fmt: skip
    for lo in edges:
        for hi in edges:
            if hi > lo:
                totals, rows = events.summarise("claude", lo, hi, hi - lo)
                out[f"window {lo} {hi}"] = (
                    totals.reqs, totals.tokens, totals.unpriced_reqs, round(totals.cost_usd, 9),
                    sorted((r.model, r.reqs, r.input_tokens, round(r.cost_usd, 9)) for r in rows),
                )  # fmt: skip
    out["minutes"] = sorted(
        (m, p, model, n, t, round(c, 9), u)
        for m, p, model, n, t, c, u in events.minute_series("claude", edges[1], end_ns)
    )
    for dims in ((), ("model",), ("session",)):
        for by_period, offsets in ((True, _utc), (True, _plus_one_hour), (False, None)):
            groups = grouped(events.history, "claude", edges[1], end_ns, dims,
                             by_period=by_period, offsets=offsets)  # fmt: skip
            summed: dict[tuple[object, ...], list[float]] = {}
            for g in groups:  # a period's groups may come in parts (rollups, records)
                day = g.day if g.day is not None else (
                    (g.slot + 4) // 96 if offsets is _plus_one_hour else g.slot // 96
                )  # fmt: skip
                key = (day if by_period else 0, g.values)
                acc = summed.setdefault(key, [0, 0, 0.0, 0])
                acc[0] += g.reqs
                acc[1] += g.input_tokens + g.output_tokens
                acc[2] += g.cost_usd
                acc[3] += g.unpriced_reqs
            out[f"view {dims} {by_period} {offsets}"] = sorted(
                (k, a[0], a[1], round(a[2], 9), a[3]) for k, a in summed.items()
            )
    out["blocks"] = [
        (b.start_ns, b.first_ns, b.last_ns, b.reqs, b.tokens, round(b.cost_usd, 9),
         b.unpriced_reqs)
        for b in all_block_sums(events, "claude", 0, end_ns)
    ]  # fmt: skip
    out["chain start"] = chain_start(events, "claude", end_ns)
    return out


def _rollups(history: HistoryStore) -> dict[str, list[tuple[object, ...]]]:
    kept = "reqs, input, output, cache_read, cache_write, round(cost, 9), unpriced"
    return {
        table: history.execute(
            f"SELECT source, {col}, provider, model, {kept} FROM {table} ORDER BY 1, 2, 3, 4"
        )
        for table, col in (("usage_minutes", "minute"), ("usage_quarters", "quarter"))
    }


def _rollups_equal_the_records(history: HistoryStore) -> None:
    for table, per in (("usage_minutes", NS_PER_MINUTE), ("usage_quarters", 15 * NS_PER_MINUTE)):
        summed = history.execute(
            f"SELECT source, ts_ns / {per}, provider, model, count(*), sum(input), sum(output), "
            "sum(cache_read), sum(cache_write), round(total(cost), 9), sum(cost IS NULL) "
            "FROM usage_events GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
        )
        assert _rollups(history)[table] == summed, table


def test_readers_between_a_long_reads_batches_answer_as_from_rollups_kept_per_batch(
    tmp_path: Path,
) -> None:
    """Older records written the usual way, then a long read's batches: after each one the
    deferring history has written no rollup past its mark, and every reader answers as the
    history whose rollups were kept per batch; at the read's end both rollups are equal."""
    deferred, plain = _twins(tmp_path)
    older = [r._replace(ts_ns=r.ts_ns - 3 * 24 * NS_PER_HOUR, key="old" + r.key)
             for r in _week(7, sessions=1)[0]]  # fmt: skip
    for events in (deferred, plain):
        events.ingest("claude", older)
    end = T0 + 4 * 24 * NS_PER_HOUR
    minutes_before = len(_rollups(deferred.history)["usage_minutes"])
    for n, batch in enumerate(_week(8)):
        deferred.ingest("claude", batch, ("source_state:claude", str(n)), defer_rollup=True)
        plain.ingest("claude", batch, ("source_state:claude", str(n)))
        # marked from the quarter hour of the earliest record written; no minute written
        cut = pending_from_ns(deferred.history, "claude")
        assert cut is not None and cut <= min(r.ts_ns for r in batch)
        assert len(_rollups(deferred.history)["usage_minutes"]) == minutes_before
        assert _answers(deferred, end) == _answers(plain, end)
    assert deferred.finish_rollup("claude") is True
    assert pending_from_ns(deferred.history, "claude") is None
    assert _rollups(deferred.history) == _rollups(plain.history)
    _rollups_equal_the_records(deferred.history)
    assert _answers(deferred, end) == _answers(plain, end)
    assert deferred.finish_rollup("claude") is False  # nothing left


def test_the_next_writer_that_does_not_defer_sums_the_pending_rollups(tmp_path: Path) -> None:
    """A long read cut short (its mark left behind), changed and repeated records written
    while it is marked, then a usual write from another connection: its transaction sums the
    rollups first, and they equal the records."""
    path = tmp_path / "h.sqlite3"
    scan = UsageEvents(HistoryStore(path))
    batches = _week(9)
    scan.ingest("claude", batches[0], defer_rollup=True)
    scan.ingest("codex", batches[1], defer_rollup=True)  # another source: marked apart
    # changed records (moved earlier than the mark, another model) and a key twice: the
    # general write, deferred too; the mark goes back to the earliest minute it touched
    moved = [r._replace(ts_ns=r.ts_ns - 2 * NS_PER_HOUR, model="other") for r in batches[0][:30]]
    scan.ingest("claude", [*moved, moved[0]._replace(output_tokens=3)], defer_rollup=True)
    cut = pending_from_ns(scan.history, "claude")
    assert cut is not None and cut <= min(r.ts_ns for r in moved)
    other = UsageEvents(HistoryStore(path))  # a tray beside it, writing one new request
    assert other.ingest("claude", [batches[2][0]]) == 1
    assert pending_from_ns(other.history, "claude") is None
    assert pending_from_ns(other.history, "codex") is not None  # not this writer's source
    assert scan.ingest("codex", [batches[2][1]._replace(key="late")]) == 1
    _rollups_equal_the_records(other.history)


def test_writers_interleaved_keep_every_minute_summed(tmp_path: Path) -> None:
    """A long read's batch, a usual write from another process's connection (it sums what is
    pending), another batch of the long read, its end: nothing is counted twice or lost."""
    path = tmp_path / "h.sqlite3"
    scan, tray = UsageEvents(HistoryStore(path)), UsageEvents(HistoryStore(path))
    batches = _week(10)
    scan.ingest("claude", batches[0], defer_rollup=True)
    tray.ingest("claude", batches[1])
    scan.ingest("claude", batches[2], defer_rollup=True)
    tray.ingest("claude", batches[3][:5])
    _rollups_equal_the_records(tray.history)
    scan.ingest("claude", batches[3], defer_rollup=True)  # 5 of them stored already
    scan.ingest("claude", batches[4], defer_rollup=True)
    assert scan.finish_rollup("claude") is True
    _rollups_equal_the_records(scan.history)
    assert scan.count("claude") == sum(len(b) for b in batches[:5])


def test_prune_clear_and_the_team_queue_work_while_rollups_are_pending(tmp_path: Path) -> None:
    deferred, plain = _twins(tmp_path)
    for events in (deferred, plain):
        TeamOutbox(events.history).enable()  # this machine reports to a hub
    batches = _week(11)
    for batch in batches[:4]:
        deferred.ingest("claude", batch, defer_rollup=True)
        plain.ingest("claude", batch)
    queued = deferred.history.execute("SELECT source, key FROM team_outbox ORDER BY seq")
    assert queued == plain.history.execute("SELECT source, key FROM team_outbox ORDER BY seq")
    assert len(queued) == sum(len(b) for b in batches[:4])
    sent = TeamOutbox(deferred.history).batch(50)[1]
    assert [q.record.key for q in sent] == [k for _, k in queued[:50]]
    # a prune inside the pending part, mid-quarter: the readers still answer as the twin's
    cutoff = T0 + 20 * NS_PER_HOUR + 7 * NS_PER_MINUTE + 3 * S
    assert pending_from_ns(deferred.history, "claude") is not None
    assert deferred.prune(cutoff) == plain.prune(cutoff) > 0
    end = T0 + 4 * 24 * NS_PER_HOUR
    assert _answers(deferred, end) == _answers(plain, end)
    deferred.ingest("claude", batches[4], defer_rollup=True)
    plain.ingest("claude", batches[4])
    assert deferred.finish_rollup("claude")
    _rollups_equal_the_records(deferred.history)
    assert _answers(deferred, end) == _answers(plain, end)
    # clear: one source's mark goes with its records; "clear history" empties every mark
    deferred.ingest("claude", batches[5], defer_rollup=True)
    deferred.ingest("codex", batches[5], defer_rollup=True)
    assert deferred.clear("claude") > 0
    assert pending_from_ns(deferred.history, "claude") is None
    assert pending_from_ns(deferred.history, "codex") is not None
    deferred.history.clear_usage()
    assert deferred.history.execute(f"SELECT count(*) FROM {ROLLUP_PENDING.name}") == [(0,)]


def test_a_history_of_the_version_before_gains_the_mark_and_keeps_its_figures(
    tmp_path: Path,
) -> None:
    """A history written before ``rollup_pending`` existed opens with the table added, its
    records and rollups as they were, and a long read over it sums its rollups exactly."""
    path = tmp_path / "h.sqlite3"
    events = UsageEvents(HistoryStore(path))
    batches = _week(12)
    events.ingest("claude", batches[0])
    before = _rollups(events.history)
    events.history.close()
    conn = sqlite3.connect(path)  # as the version before left it
    conn.execute(f"DROP TABLE {ROLLUP_PENDING.name}")
    conn.execute("DELETE FROM schema_versions WHERE name = ?", (ROLLUP_PENDING.name,))
    conn.commit()
    conn.close()
    reopened = UsageEvents(HistoryStore(path))
    versions = dict(reopened.history.execute("SELECT name, version FROM schema_versions"))
    assert versions[ROLLUP_PENDING.name] == 1
    assert _rollups(reopened.history) == before
    assert pending_from_ns(reopened.history, "claude") is None
    for batch in batches[1:]:
        reopened.ingest("claude", batch, defer_rollup=True)
    assert reopened.finish_rollup("claude")
    _rollups_equal_the_records(reopened.history)


def test_a_long_reads_batch_writes_no_rollup_row(tmp_path: Path) -> None:
    """What the deferral saves, counted (no clock): the rows one batch of new records writes,
    touching minutes all over again, besides its records."""
    batches = _week(13)
    written = {}
    for defer in (False, True):
        events = UsageEvents(HistoryStore(tmp_path / f"{defer}.sqlite3"))
        events.ingest("claude", batches[0])
        changes = events.history.execute("SELECT total_changes()")[0][0]
        events.ingest("claude", batches[1], defer_rollup=defer)
        after = events.history.execute("SELECT total_changes()")[0][0]
        written[defer] = int(after) - int(changes) - len(batches[1])  # type: ignore[call-overload]
    assert written[True] == 1  # the source's pending mark
    assert written[False] > len(batches[1])  # a minute and a quarter hour row per group


def _finish_traced(events: UsageEvents) -> list[str]:
    """The statements ``finish_rollup`` ran (SQLite's own trace of the store's connection)."""
    ran: list[str] = []
    events.history._conn.set_trace_callback(ran.append)
    try:
        assert events.finish_rollup("claude")
    finally:
        events.history._conn.set_trace_callback(None)
    return ran


def _sums_the_records(ran: list[str]) -> bool:
    return any("FROM usage_events" in sql and "GROUP BY" in sql for sql in ran)


def test_a_long_read_alone_adds_its_own_sums_at_its_end(tmp_path: Path) -> None:
    """The writer that made every deferred write since its mark adds its own sums (no GROUP BY
    over the records at the end); a batch of another writer in between, or a prune, and the
    rollups are summed from the records instead - exact either way."""
    batches = _week(14)
    alone = UsageEvents(HistoryStore(tmp_path / "alone.sqlite3"))
    for batch in batches:
        alone.ingest("claude", batch, defer_rollup=True)
    assert not _sums_the_records(_finish_traced(alone))
    _rollups_equal_the_records(alone.history)

    path = tmp_path / "shared.sqlite3"
    scan, other = UsageEvents(HistoryStore(path)), UsageEvents(HistoryStore(path))
    scan.ingest("claude", batches[0], defer_rollup=True)
    other.ingest("claude", batches[1], defer_rollup=True)  # a second long read, at once
    scan.ingest("claude", batches[2], defer_rollup=True)
    assert _sums_the_records(_finish_traced(scan))
    _rollups_equal_the_records(scan.history)

    pruned = UsageEvents(HistoryStore(tmp_path / "pruned.sqlite3"))
    pruned.ingest("claude", batches[0], defer_rollup=True)
    assert pruned.prune(T0 + 20 * NS_PER_HOUR) > 0
    pruned.ingest("claude", batches[2], defer_rollup=True)  # records before the cutoff again
    assert _sums_the_records(_finish_traced(pruned))
    _rollups_equal_the_records(pruned.history)


def test_a_prune_by_the_version_before_is_caught_before_the_own_sums_are_added(
    tmp_path: Path,
) -> None:
    """A burntray of the version before, still running, prunes (it knows no mark) while a long
    read is marked, and the read then writes records from before the cutoff again: its own sums
    would bring back the minutes pruned, so the requests they count are checked against the
    records first, and the rollups summed from the records."""
    path = tmp_path / "h.sqlite3"
    scan = UsageEvents(HistoryStore(path))
    batches = _week(15)
    scan.ingest("claude", batches[0], defer_rollup=True)
    scan.ingest("claude", batches[1], defer_rollup=True)
    cutoff = (T0 + 20 * NS_PER_HOUR) // NS_PER_MINUTE
    older = sqlite3.connect(path, isolation_level=None)  # the version before's prune
    older.execute("BEGIN IMMEDIATE")
    older.execute("DELETE FROM usage_events WHERE ts_ns < ?", (cutoff * NS_PER_MINUTE,))
    older.execute("DELETE FROM usage_minutes WHERE minute < ?", (cutoff,))
    older.execute("COMMIT")
    older.close()
    scan.ingest("claude", batches[2], defer_rollup=True)
    assert _sums_the_records(_finish_traced(scan))
    _rollups_equal_the_records(scan.history)


def test_a_value_the_compact_sums_cannot_hold_leaves_the_end_to_sql(tmp_path: Path) -> None:
    """The own sums are 64-bit C arrays: a count that is not an int (a source's bug, stored as
    SQLite stores it) does not fail the batch written, and the end sums the records in SQL."""
    events = UsageEvents(HistoryStore(tmp_path / "h.sqlite3"))
    batches = _week(16)
    events.ingest("claude", batches[0], defer_rollup=True)
    odd = batches[1][0]._replace(input_tokens=10.5)  # type: ignore[arg-type]
    assert events.ingest("claude", [odd, *batches[1][1:]], defer_rollup=True) == len(batches[1])
    assert _sums_the_records(_finish_traced(events))
    _rollups_equal_the_records(events.history)
