"""roder source benchmark (issue 11): a roder analytics database of 1,000,000 token_usage rows.

The database is written with roder's own schema and upserts (``tests.store_writers``), the
rows spread evenly over 90 days (about 11,000 turns a day, a heavy user; a 7 d window then
holds about 78,000 rows). A second database puts all 1,000,000 rows inside the last 7 days (the
worst case for a 7 d window). Figures:

- first window query on a fresh source (loads the window's rows; once per run);
- window query after a change: a writer connection commits one new turn with roder's upserts
  (WAL), then ``poll`` (notices the change, reads the new row, checks the database still holds
  what was loaded) plus ``snapshot`` - target <= 20 ms median;
- window query with the database unchanged (``snapshot`` alone, window moved on);
- unchanged-database ``poll`` - target <= 1 ms;
- roder's own ``stats tokens --group model`` query for the same window, for reference.

Then, for the cost of ctm and yoi in a monitor tick: a ctm store of 200,000 rows over 30 days
(500 sessions) and 200 yoi session logs of 100 requests each: first read, an unchanged poll, a
query with nothing changed and (ctm) after a commit.

``BURNTRAY_BENCH_RODER_ROWS`` overrides the row count (for a quick run).
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.store_writers import (  # noqa: E402
    RODER_TOKENS_BY_MODEL,
    RODER_UPSERT_TURN,
    RODER_UPSERT_USAGE,
    roder_bulk,
)

from burntray.model.pricing import build_price_table  # noqa: E402
from burntray.sources.roder.source import RoderSource  # noqa: E402

ROWS = int(os.environ.get("BURNTRAY_BENCH_RODER_ROWS", "1000000"))
CTM_ROWS = 200_000
YOI_LOGS, YOI_LINES = 200, 100
DAY_MS = 86_400_000
HOUR_NS = 3600 * 10**9
WEEK_NS = 7 * 24 * HOUR_NS
REPEATS = 25


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def _target(value: float, target_s: float) -> str:
    verdict = "" if value <= target_s else "  MISSED"
    return f"{_ms(value)} (target <= {_ms(target_s)}){verdict}"


def _median(fn: Callable[[], object], repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _roder_query(db: Path, since_ms: int, until_ms: int) -> float:
    """Median time of roder's own query for the window (5 runs)."""
    reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return _median(
            lambda: reader.execute(RODER_TOKENS_BY_MODEL, (since_ms, until_ms)).fetchall(), 5
        )
    finally:
        reader.close()


def _scenario(folder: Path, name: str, span_ms: int) -> list[tuple[str, str]]:
    db = folder / name / "analytics" / "usage.sqlite3"
    end_ms = int(time.time() * 1000)
    started = time.perf_counter()
    roder_bulk(db, ROWS, end_ms, span_ms)
    rows: list[tuple[str, str]] = [
        (f"[{name}] database written ({ROWS:,} rows)", f"{time.perf_counter() - started:.1f} s")
    ]
    clock = [end_ms * 1_000_000]
    source = RoderSource(db, build_price_table(), clock_ns=lambda: clock[0])
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA synchronous=NORMAL")
    counter = [0]

    def commit_turn() -> None:
        counter[0] += 1
        clock[0] += 1_000_000
        ms = clock[0] // 1_000_000 - 1
        turn = (f"bench{counter[0]}", "t", "openai", "gpt-5", None, ms - 10, ms, "completed", None)
        writer.execute(RODER_UPSERT_TURN, turn)
        writer.execute(RODER_UPSERT_USAGE, (turn[0], "t", None, None, ms, 1200, 300, 1500, 200))

    try:
        for label, window in (("1 h", HOUR_NS), ("7 d", WEEK_NS)):
            started = time.perf_counter()
            source.poll()
            snap = source.snapshot(window, clock[0])
            rows.append(
                (
                    f"[{name}] {label}: first query (loads {snap.totals.reqs:,} rows)",
                    _ms(time.perf_counter() - started),
                )
            )

            times = []
            for _ in range(REPEATS):
                commit_turn()
                started = time.perf_counter()
                source.poll()
                source.snapshot(window, clock[0])
                times.append(time.perf_counter() - started)
            rows.append(
                (
                    f"[{name}] {label}: query after a commit (poll + snapshot)",
                    _target(statistics.median(times), 0.020),
                )
            )
            times = []
            for _ in range(REPEATS):
                clock[0] += 1_000_000
                started = time.perf_counter()
                source.snapshot(window, clock[0])
                times.append(time.perf_counter() - started)
            rows.append(
                (f"[{name}] {label}: query, database unchanged", _ms(statistics.median(times)))
            )
            roder_s = _roder_query(db, (clock[0] - window) // 1_000_000, clock[0] // 1_000_000)
            rows.append((f"[{name}] {label}: roder's own stats query (reference)", _ms(roder_s)))
        source.poll()
        rows.append(
            (f"[{name}] unchanged-database poll", _target(_median(source.poll, 1000), 0.001))
        )
        assert source.cache.loads <= 3, source.cache.loads  # changes were read incrementally
    finally:
        writer.close()
    return rows


def _ctm_and_yoi(folder: Path) -> list[tuple[str, str]]:
    """What ctm and yoi cost a monitor tick when nothing changed (they join `all`)."""
    import random

    from tests.store_writers import ctm_insert, ctm_open, yoi_append

    from burntray.sources.ctm.source import CtmSource
    from burntray.sources.yoi.source import YoiSource
    from burntray.store.history import HistoryStore

    rng = random.Random(2)
    end_ms = int(time.time() * 1000)
    rows: list[tuple[str, str]] = []
    db = folder / "ctm" / "ctm.db"
    conn = ctm_open(db)
    conn.execute("BEGIN")
    totals: dict[str, list[int]] = {}
    for i in range(CTM_ROWS):
        name = f"s{rng.randrange(500)}"
        acc = totals.setdefault(name, [0, 0])
        acc[0] += rng.randrange(1, 5000)
        acc[1] += rng.randrange(1, 500)
        conn.execute(
            "INSERT INTO cost_points VALUES (?, ?, ?, ?, ?, ?)",
            (end_ms - 30 * DAY_MS + i * (30 * DAY_MS // CTM_ROWS), name, acc[0], acc[1], 0, 0),
        )
    conn.execute("COMMIT")
    conn.close()
    clock = [end_ms * 1_000_000]
    ctm = CtmSource(db, clock_ns=lambda: clock[0])
    started = time.perf_counter()
    ctm.poll()
    ctm.snapshot(WEEK_NS, clock[0])
    rows.append(
        (
            f"[ctm {CTM_ROWS:,} rows, 500 sessions] 7 d: first query",
            _ms(time.perf_counter() - started),
        )
    )
    rows.append(("[ctm] unchanged-database poll", _ms(_median(ctm.poll, 1000))))

    def ctm_moved() -> None:
        clock[0] += 1_000_000
        ctm.snapshot(WEEK_NS, clock[0])

    rows.append(("[ctm] 7 d query, database unchanged", _ms(_median(ctm_moved))))
    writer = ctm_open(db)
    times = []
    for i in range(REPEATS):
        clock[0] += 1_000_000
        ctm_insert(
            writer,
            {
                "ts_ms": clock[0] // 1_000_000 - 1,
                "session": "s1",
                "input": 10**9 + i,
                "output": 10**8,
            },
        )
        started = time.perf_counter()
        ctm.poll()
        ctm.snapshot(WEEK_NS, clock[0])
        times.append(time.perf_counter() - started)
    writer.close()
    rows.append(("[ctm] 7 d query after a commit (poll + snapshot)", _ms(statistics.median(times))))

    data = folder / "yoi"
    for s in range(YOI_LOGS):
        log = data / "sessions" / f"s{s}" / "seg.jsonl"
        yoi_append(log, {"kind": "session_start", "ts": end_ms, "config": {"model": "gpt-4.1"}})
        for _ in range(YOI_LINES):
            yoi_append(
                log,
                {
                    "kind": "llm_usage",
                    "ts": end_ms - rng.randrange(DAY_MS),
                    "history_len": 1,
                    "input_total_tokens": 3000,
                    "cache_read_tokens": 1000,
                    "cache_write_tokens": 0,
                    "output_tokens": 200,
                },
            )
    history = HistoryStore(folder / "history.sqlite3")
    yoi = YoiSource(data, build_price_table(), history=history)
    started = time.perf_counter()
    yoi.poll()
    rows.append(
        (
            f"[yoi {YOI_LOGS} logs, {YOI_LOGS * YOI_LINES:,} requests] first read",
            _ms(time.perf_counter() - started),
        )
    )
    rows.append(("[yoi] idle poll", _ms(_median(yoi.poll, 200))))
    rows.append(("[yoi] 1 h query (history)", _ms(_median(lambda: yoi.snapshot(HOUR_NS)))))
    return rows


def run() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory(prefix="burntray-bench-roder-") as tmp:
        folder = Path(tmp)
        rows = _scenario(folder, "90 d", 90 * DAY_MS)
        rows += _scenario(folder, "7 d dense", 7 * DAY_MS - 60_000)
        rows += _ctm_and_yoi(folder)
    return rows


if __name__ == "__main__":
    for figure, value in run():
        print(f"  {figure:<64} {value}")
