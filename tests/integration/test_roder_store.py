"""roder: burntray's window figures equal roder's own `stats tokens --group model` query, on a
database written by a real writer process with roder's schema and upserts (WAL mode)."""

from __future__ import annotations

import hashlib
import random
import sqlite3
from pathlib import Path

import pytest

from burntray.model.format import status_line
from burntray.model.pricing import build_price_table
from burntray.paths import roder_usage_db
from burntray.sources.roder.source import FULL_CHECK_INTERVAL_NS, RoderSource
from tests.store_writers import RODER_TOKENS_BY_MODEL, WriterProcess

MS = 1_000_000
BASE = 1_790_000_000_000  # an epoch ms


def oracle(db: Path, since_ms: int, until_ms: int) -> dict[str, tuple[int, int, int, int, int]]:
    """roder's own query, run on a connection of its own: model -> (prompt, completion,
    total, cached, turns)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(RODER_TOKENS_BY_MODEL, (since_ms, until_ms)).fetchall()
    finally:
        conn.close()
    return {r[0]: (r[1], r[2], r[3], r[4], r[5]) for r in rows}


def burntray_by_model(
    source: RoderSource, since_ms: int, until_ms: int
) -> dict[str, tuple[int, int, int, int, int]]:
    """burntray's Snapshot for the same window, grouped as roder groups it (by model):
    roder's prompt tokens are burntray's input plus cache reads."""
    snap = source.snapshot((until_ms - since_ms) * MS, until_ms * MS)
    assert snap.status.state == "ok", snap.status
    out: dict[str, list[int]] = {}
    for row in snap.by_model:
        assert row.input_tokens is not None and row.cache_read_tokens is not None
        assert row.output_tokens is not None and row.cache_write_tokens is None
        acc = out.setdefault(row.model or "(unknown)", [0, 0, 0, 0, 0])
        prompt = row.input_tokens + row.cache_read_tokens
        for i, value in enumerate(
            (prompt, row.output_tokens, row.tokens, row.cache_read_tokens, row.reqs)
        ):
            acc[i] += value
    assert snap.totals.reqs == sum(v[4] for v in out.values())
    assert snap.totals.tokens == sum(v[2] for v in out.values())
    assert snap.totals.output_tokens == sum(v[1] for v in out.values())
    assert snap.capabilities.real_tokens and not snap.tokens_estimated
    return {k: (v[0], v[1], v[2], v[3], v[4]) for k, v in out.items()}


def turn(writer: WriterProcess, n: int, ms: int, **extra: object) -> None:
    usage = extra.pop("usage", {"prompt": 1000 + n, "completion": 100 + n, "cached": n % 500})
    writer.send(op="turn", thread=f"t{n // 7}", turn=f"u{n}", recorded_ms=ms, usage=usage, **extra)


@pytest.fixture
def roder_db(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = isolated_env / "roder-data"
    monkeypatch.setenv("RODER_DATA_DIR", str(data))
    return roder_usage_db()


def folder_state(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def test_location_rules(isolated_env: Path) -> None:
    home = Path(isolated_env / "home")
    assert roder_usage_db({"HOME": str(home)}) == home / ".roder/analytics/usage.sqlite3"
    env = {"HOME": str(home), "RODER_DATA_DIR": "/d", "RODER_CONFIG_DIR": "/c"}
    assert roder_usage_db(env) == Path("/c/analytics/usage.sqlite3")
    assert roder_usage_db({"HOME": str(home), "RODER_DATA_DIR": "/d"}) == Path(
        "/d/analytics/usage.sqlite3"
    )
    cfg = isolated_env / "rc"
    cfg.mkdir()
    (cfg / "config.toml").write_text('[analytics]\nstore = "elsewhere/u.db"\n')
    assert roder_usage_db({"RODER_CONFIG_DIR": str(cfg)}) == cfg / "elsewhere/u.db"


def test_window_parity_with_roder_query(roder_db: Path) -> None:
    models = [("anthropic", "claude-sonnet-4-5"), ("openai", "gpt-4.1-mini"), (None, None)]
    with WriterProcess("roder", roder_db) as writer:
        for n in range(120):
            provider, model = models[n % 3]
            extra: dict[str, object] = {"provider": provider, "model": model}
            if n % 11 == 0:
                extra["status"] = "failed"  # failed turns carry usage too
            turn(writer, n, BASE + n * 60_000 + (n % 7), **extra)
        # a turn without usage and an all-zero usage: no token_usage row (roder skips them)
        writer.send(
            op="turn", thread="z", turn="z1", recorded_ms=BASE + 5, provider="openai", model="gpt-5"
        )
        turn(writer, 999, BASE + 6, usage={"prompt": 0, "completion": 0})
        # a replayed terminal event: an upsert of the same turn, counted once
        turn(writer, 5, BASE + 5 * 60_000 + 5, provider="openai", model="gpt-4.1-mini")
        # rows exactly on the window edges
        edge_since, edge_until = BASE + 30 * 60_000, BASE + 90 * 60_000
        turn(writer, 2000, edge_since, provider="openai", model="gpt-5")
        turn(writer, 2001, edge_since - 1, provider="openai", model="gpt-5")
        turn(writer, 2002, edge_until - 1, provider="openai", model="gpt-5")
        turn(writer, 2003, edge_until, provider="openai", model="gpt-5")

        clock = [BASE * MS]
        source = RoderSource(roder_db, build_price_table(), clock_ns=lambda: clock[0])
        assert source.poll()
        windows = [
            (edge_since, edge_until),
            (BASE, BASE + 120 * 60_000),
            (edge_since + 1, edge_until + 1),
            (BASE + 17 * 60_000 + 3, BASE + 18 * 60_000 + 3),
            (BASE - 10**9, BASE + 10**9),
        ]
        for since, until in windows:
            assert burntray_by_model(source, since, until) == oracle(roder_db, since, until)
        rng = random.Random(4)
        for _ in range(150):  # any window, whole minutes or not, down to a few ms
            since = BASE + rng.randrange(-100_000, 130 * 60_000)
            until = since + rng.choice((1, 7, 59_999, 60_000, 61_001, rng.randrange(1, 10**7)))
            got = burntray_by_model(source, since, until)
            assert got == oracle(roder_db, since, until), (since - BASE, until - BASE)

        # live: new turns committed by the writer are seen after a poll, incrementally
        loads = source.cache.loads
        assert not source.poll()  # unchanged: nothing to do
        for n in range(3000, 3010):
            turn(writer, n, BASE + 100 * 60_000 + n, provider="anthropic", model="claude-opus-4-1")
        assert source.poll()
        assert source.cache.loads == loads  # new rows read by rowid, no reload
        for since, until in windows:
            assert burntray_by_model(source, since, until) == oracle(roder_db, since, until)

        # a turn re-recorded at a new time (a second terminal event): noticed, reloaded
        turn(
            writer,
            3005,
            BASE + 100 * 60_000 + 99_000,
            provider="anthropic",
            model="claude-opus-4-1",
            usage={"prompt": 5, "completion": 5},
        )
        assert source.poll()
        assert source.cache.loads == loads + 1
        for since, until in windows:
            assert burntray_by_model(source, since, until) == oracle(roder_db, since, until)
        loads += 1

        # retention deletes rows older than the recent span: not seen by the per-change check,
        # the count check (at most once a minute) notices and the range is reloaded
        turn(writer, 4000, BASE + 400 * 60_000, provider="openai", model="gpt-5")
        windows.append((BASE + 300 * 60_000, BASE + 500 * 60_000))
        assert source.poll()
        assert source.cache.loads == loads
        writer.send(
            op="sql",
            sql="DELETE FROM token_usage WHERE recorded_at_ms < ?",
            args=[BASE + 40 * 60_000],
        )
        assert source.poll()
        assert source.cache.loads == loads  # within the minute: not counted yet
        assert not source.poll()  # nothing changed since
        clock[0] += FULL_CHECK_INTERVAL_NS
        assert source.poll()  # the count is due: it runs although nothing changed since
        assert source.cache.loads == loads + 1
        for since, until in windows:
            assert burntray_by_model(source, since, until) == oracle(roder_db, since, until)


def test_cost_from_price_table_and_unknown_models_unpriced(roder_db: Path) -> None:
    with WriterProcess("roder", roder_db) as writer:
        writer.send(
            op="turn",
            thread="a",
            turn="1",
            recorded_ms=BASE,
            provider="anthropic",
            model="claude-sonnet-4-5",
            usage={"prompt": 1_000_000, "completion": 100_000, "cached": 400_000},
        )
        writer.send(
            op="turn",
            thread="a",
            turn="2",
            recorded_ms=BASE + 1,
            provider="acme",
            model="no-such-model",
            usage={"prompt": 10, "completion": 10},
        )
        writer.send(
            op="turn",
            thread="a",
            turn="3",
            recorded_ms=BASE + 2,
            usage={"prompt": 10, "completion": 10},
        )
    prices = build_price_table()
    price = prices.lookup("anthropic", "claude-sonnet-4-5")
    assert price is not None and price.cache_read is not None
    source = RoderSource(roder_db, prices)
    snap = source.snapshot(10 * 60 * 10**9, (BASE + 60_000) * MS)
    expected = (600_000 * price.input + 400_000 * price.cache_read + 100_000 * price.output) / 1e6
    assert snap.totals.cost_usd == pytest.approx(expected)
    assert snap.totals.reqs == 3
    assert snap.totals.unpriced_reqs == 2
    unknown = [r for r in snap.by_model if r.cost_usd is None]
    assert {(r.provider, r.model) for r in unknown} == {("acme", "no-such-model"), ("", "")}


def test_reads_create_nothing_in_roder_folder(roder_db: Path) -> None:
    with WriterProcess("roder", roder_db) as writer:
        turn(writer, 1, BASE, provider="openai", model="gpt-5")
    folder = roder_db.parent
    before = folder_state(folder)
    assert set(before) == {"usage.sqlite3"}  # roder closed: no -wal/-shm left
    source = RoderSource(roder_db, build_price_table())
    source.poll()
    snap = source.snapshot(3600 * 10**9, (BASE + 1) * MS)
    assert snap.totals.reqs == 1
    assert folder_state(folder) == before  # nothing created, nothing changed

    # a writer that starts again is followed (its own -wal/-shm are then used, read-only)
    with WriterProcess("roder", roder_db) as writer:
        turn(writer, 2, BASE + 10, provider="openai", model="gpt-5")
        during = folder_state(folder)
        assert source.poll()
        assert source.snapshot(3600 * 10**9, (BASE + 11) * MS).totals.reqs == 2
        after = folder_state(folder)
        assert after["usage.sqlite3"] == during["usage.sqlite3"]
        assert after["usage.sqlite3-wal"] == during["usage.sqlite3-wal"]


def test_a_symlinked_database_is_read_beside_its_target(roder_db: Path, tmp_path: Path) -> None:
    """``roder.db`` may point at a link: SQLite keeps the WAL beside the target, so burntray
    looks for it there (and creates nothing in either folder)."""
    real = tmp_path / "elsewhere" / "usage.sqlite3"
    with WriterProcess("roder", real) as writer:
        turn(writer, 1, BASE, provider="openai", model="gpt-5")
        link_dir = tmp_path / "links"
        link_dir.mkdir()
        (link_dir / "usage.sqlite3").symlink_to(real)
        source = RoderSource(link_dir / "usage.sqlite3", build_price_table())
        assert source.snapshot(3600 * 10**9, (BASE + 1) * MS).totals.reqs == 1
        turn(writer, 2, BASE + 5, provider="openai", model="gpt-5")
        assert source.poll()  # the target's WAL grew: noticed through the link
        assert source.snapshot(3600 * 10**9, (BASE + 6) * MS).totals.reqs == 2
    before = folder_state(real.parent)
    assert set(before) == {"usage.sqlite3"}
    source = RoderSource(link_dir / "usage.sqlite3", build_price_table())
    assert source.snapshot(3600 * 10**9, (BASE + 6) * MS).totals.reqs == 2
    assert folder_state(real.parent) == before
    assert sorted(p.name for p in link_dir.iterdir()) == ["usage.sqlite3"]


def test_an_exclusive_wal_writer_makes_the_figures_stale_not_current(roder_db: Path) -> None:
    """A writer in ``locking_mode=EXCLUSIVE`` keeps its WAL index in memory (no ``-shm``): its
    commits cannot be read, so what can be read (the checkpointed part) is shown as stale with
    the reason, and as current again once the writer has closed."""
    with WriterProcess("roder", roder_db) as writer:
        for n in range(100):
            turn(writer, n, BASE + n * 1000, provider="openai", model="gpt-5")
    assert not roder_db.with_name(roder_db.name + "-wal").exists()  # checkpointed on close
    clock = [(BASE + 400_000) * MS]
    source = RoderSource(roder_db, build_price_table(), clock_ns=lambda: clock[0])
    window = 3600 * 1000 * MS
    writer = WriterProcess("roder-exclusive", roder_db)
    try:
        for n in range(100, 300):
            turn(writer, n, BASE + n * 1000, provider="openai", model="gpt-5")
        assert roder_db.with_name(roder_db.name + "-wal").stat().st_size > 32
        assert not roder_db.with_name(roder_db.name + "-shm").exists()
        source.poll()
        snap = source.snapshot(window, clock[0])
        # what its checkpoints have moved into the database so far, not what it wrote
        assert 100 <= snap.totals.reqs < 300
        assert snap.status.state == "ok" and snap.status.stale
        assert snap.status.detail == (
            f"roder analytics database {roder_db}: database is held exclusively by its"
            " writer; figures may be old"
        )
        assert "stale: roder analytics database" in status_line(snap)
    finally:
        writer.close()
    assert source.poll()
    snap = source.snapshot(window, clock[0])
    assert snap.totals.reqs == 300
    assert snap.status.state == "ok" and not snap.status.stale
