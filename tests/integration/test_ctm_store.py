"""ctm: burntray's figures on a cost store written by a real writer process with ctm's schema and
write pattern (session-cumulative input/output, per-turn cache, ComputeCostMicros per row)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from burntray.paths import ctm_db
from burntray.sources.ctm.source import CtmSource, cost_micros
from tests.store_writers import CTM_TOTALS, WriterProcess, ctm_cost_micros

MS = 1_000_000
BASE = 1_790_000_000_000


def ctm_totals(db: Path, since_ms: int = 0) -> tuple[int, int, int, int]:
    """ctm's own Totals(since), run on a connection of its own."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(CTM_TOTALS, (since_ms,)).fetchone()
    finally:
        conn.close()


def rows_of(db: Path) -> list[tuple[int, int, str, int, int, int]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(
            "SELECT rowid, ts, session, input_tokens, output_tokens, cost_usd_micros"
            " FROM cost_points"
        ).fetchall()
    finally:
        conn.close()


def expected_window(db: Path, since_ms: int, until_ms: int) -> tuple[int, int, int]:
    """The rule, stated directly: per run of a session name (a run ends where input or output
    drops), the last row in the window minus the last row of that run before the window."""
    by_session: dict[str, list[tuple[int, int, int, int, int]]] = {}
    for rowid, ts, session, inp, out, cost in rows_of(db):
        by_session.setdefault(session, []).append((ts, rowid, inp, out, cost))
    total = [0, 0, 0]
    for rows in by_session.values():
        rows.sort()
        runs: list[list[tuple[int, int, int, int, int]]] = []
        for row in rows:
            if not runs or row[2] < runs[-1][-1][2] or row[3] < runs[-1][-1][3]:
                runs.append([])
            runs[-1].append(row)
        for run in runs:
            inside = [r for r in run if since_ms <= r[0] < until_ms]
            if not inside:
                continue
            before = [r for r in run if r[0] < since_ms]
            base = before[-1] if before else (0, 0, 0, 0, 0)
            for i in range(3):
                total[i] += inside[-1][2 + i] - base[2 + i]
    return total[0], total[1], total[2]


def burntray_window(source: CtmSource, since_ms: int, until_ms: int) -> tuple[int, int, int]:
    """burntray's Snapshot for the window: (input, output, cost micros)."""
    snap = source.snapshot((until_ms - since_ms) * MS, until_ms * MS)
    assert snap.status.state == "ok", snap.status
    t = snap.totals
    assert t.input_tokens is not None and t.output_tokens is not None
    assert t.cache_read_tokens is None and t.cache_write_tokens is None  # per turn in ctm
    assert t.tokens == t.input_tokens + t.output_tokens
    assert snap.capabilities.upstream_cost
    return t.input_tokens, t.output_tokens, round(t.cost_usd * 1e6)


@pytest.fixture
def db(isolated_env: Path) -> Path:
    return ctm_db()


def write_sessions(writer: WriterProcess, rng: random.Random, sessions: int, updates: int) -> int:
    """Cumulative updates for several sessions, interleaved; some only change the cache (a
    context-only update), some share a millisecond. Returns the last ts."""
    state = {f"s{i}": [0, 0] for i in range(sessions)}
    ts = BASE
    for _ in range(updates):
        name = f"s{rng.randrange(sessions)}"
        if rng.random() < 0.8:
            state[name][0] += rng.randrange(0, 5000)
            state[name][1] += rng.randrange(1, 800)
        ts += rng.choice((0, 1, 7, 1000, 60_000))
        writer.send(
            op="point",
            ts_ms=ts,
            session=name,
            input=state[name][0],
            output=state[name][1],
            cache=rng.randrange(0, 90_000),
        )
    return ts


def test_location_rule(isolated_env: Path) -> None:
    home = isolated_env / "home"
    assert ctm_db() == home / ".config/ctm/ctm.db"
    assert ctm_db({"HOME": "/elsewhere", "XDG_CONFIG_HOME": "/x"}) == Path(
        "/elsewhere/.config/ctm/ctm.db"
    )


def test_cost_formula_is_ctms() -> None:
    for inp, out, cache in ((0, 0, 0), (1, 1, 1), (3, 7, 9), (123_457, 9_876, 333_333)):
        assert cost_micros(inp, out, cache) == ctm_cost_micros(inp, out, cache)
    assert cost_micros(0, 0, 3) == 0  # 0.9 micros floors to 0, as in Go


def test_all_time_equals_ctm_totals(db: Path) -> None:
    rng = random.Random(11)
    with WriterProcess("ctm", db) as writer:
        last = write_sessions(writer, rng, 5, 300)
        # make each session's latest row unique in time, as ctm's MAX(ts) join needs
        for i in range(5):
            writer.send(
                op="point",
                ts_ms=last + 10_000 + i,
                session=f"s{i}",
                input=10**7 + i,
                output=10**6,
                cache=i,
            )
    inp, out, _cache, cost = ctm_totals(db)
    source = CtmSource(db)
    assert source.poll()
    assert burntray_window(source, 0, last + 10**9) == (inp, out, cost)


def test_windows_follow_increases_resets_and_edges(db: Path) -> None:
    rng = random.Random(5)
    with WriterProcess("ctm", db) as writer:
        last = write_sessions(writer, rng, 4, 200)
        source = CtmSource(db)
        source.poll()
        windows = [
            (BASE, last + 1),
            (BASE + 3 * 60_000, BASE + 9 * 60_000),
            (BASE + 3 * 60_000 + 1, BASE + 9 * 60_000 + 7),
            (last - 5 * 60_000, last),
        ]
        for since, until in windows:
            assert burntray_window(source, since, until) == expected_window(db, since, until)

        # a reused session name: its counters start over; the first run is not lost, the
        # second is not counted as a drop
        writer.send(op="point", ts_ms=last + 100, session="s0", input=50, output=5, cache=0)
        writer.send(op="point", ts_ms=last + 200, session="s0", input=90, output=9, cache=1)
        # rows exactly on a window's edges
        writer.send(op="point", ts_ms=last + 300, session="edge", input=1000, output=10)
        writer.send(op="point", ts_ms=last + 400, session="edge", input=3000, output=30)
        writer.send(op="point", ts_ms=last + 500, session="edge", input=7000, output=70)
        loads = source.cache.loads
        assert source.poll()
        assert source.cache.loads == loads  # appended rows read by rowid
        assert not source.poll()
        windows += [(last + 150, last + 250), (last + 300, last + 500), (last + 301, last + 501)]
        for since, until in windows:
            assert burntray_window(source, since, until) == expected_window(db, since, until)
        for since, until in windows:  # loaded from each window's start: baselines by seek
            fresh = CtmSource(db)
            assert burntray_window(fresh, since, until) == expected_window(db, since, until)
            assert fresh.cache.lo_ms == since
        reset_window = burntray_window(source, last + 50, last + 250)
        assert reset_window[:2] == (90, 9)  # from zero, not 90 - (the old s0 total)
        edge = burntray_window(source, last + 300, last + 500)
        assert edge[:2] == (3000, 30)  # the row at the window end is outside it


def test_snapshot_says_ctm_prices_everything_as_sonnet(db: Path) -> None:
    with WriterProcess("ctm", db) as writer:
        writer.send(op="point", ts_ms=BASE, session="a", input=1_000_000, output=100_000)
        writer.send(op="point", ts_ms=BASE + 1, session="a", input=0, output=0, cache=0)
    source = CtmSource(db)
    snap = source.snapshot(3600 * 10**9, (BASE + 10) * MS)
    assert "Sonnet 4.5" in snap.note
    assert snap.cost_estimated
    assert snap.totals.cost_usd == pytest.approx(3.0 + 1.5)
    assert [(r.reqs, r.tokens) for r in snap.by_model] == [(1, 1_100_000)]


def test_an_exclusive_wal_writer_makes_the_figures_stale(db: Path) -> None:
    """ctm with ``locking_mode=EXCLUSIVE`` (no ``-shm``): the figures read are marked stale
    with the reason until it closes the store."""
    with WriterProcess("ctm", db) as writer:
        writer.send(op="point", ts_ms=BASE, session="s", input=1000, output=100)
    source = CtmSource(db)
    window = 3600 * 1000 * MS
    writer = WriterProcess("ctm-exclusive", db)
    try:
        writer.send(op="point", ts_ms=BASE + 1000, session="s", input=5000, output=900)
        assert not db.with_name(db.name + "-shm").exists()
        source.poll()
        snap = source.snapshot(window, (BASE + 2000) * MS)
        assert snap.status.state == "ok" and snap.status.stale
        assert snap.status.detail.endswith(
            f"{db}: database is held exclusively by its writer; figures may be old"
        )
    finally:
        writer.close()
    assert source.poll()
    snap = source.snapshot(window, (BASE + 2000) * MS)
    assert not snap.status.stale
    assert (snap.totals.input_tokens, snap.totals.output_tokens) == (5000, 900)
