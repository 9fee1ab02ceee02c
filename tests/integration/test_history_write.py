"""The history write of a long read (issue 22): a first scan cut between two of its batches
leaves a history whose records, rollups and resume state agree, and the next run resumes it to
exactly the figures of a scan that was never cut. Real processes, real logs, real histories."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.agent_logs_support import generate_heavy_week

# A first scan that dies (the process ends at once, as on a crash or a kill) right after its
# third batch is committed, while the reader has more to hand on.
_CUT_SCAN = """
import os, sys
from pathlib import Path
from burntray.model.pricing import build_price_table
from burntray.paths import app_paths
from burntray.sources.agent_logs.source import claude_source
from burntray.sources.claude import logs
from burntray.store.history import HistoryStore
from burntray.store.usage_events import UsageEvents

logs.FLUSH_RECORDS = 150
ingest = UsageEvents.ingest
batches = []

def cut_after_three(self, *args, **kwargs):
    written = ingest(self, *args, **kwargs)
    batches.append(written)
    if len(batches) == 3:
        os._exit(3)
    return written

UsageEvents.ingest = cut_after_three
history = HistoryStore(app_paths().history_db)
source = claude_source([Path(sys.argv[1])], build_price_table(), history, watch=False)
source.reader.workers = 1
source.poll()
"""


def _history(home: Path) -> Path:
    return (
        home / "data" / "history.sqlite3"
        if (home / "data").is_dir()
        else next(home.rglob("history.sqlite3"))
    )


def _rollups_and_records(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """The records, both rollups (costs to 1e-9: sums in another order) and the same sums
    made from the records by SQLite."""
    sums = (
        "count(*), sum(input), sum(output), sum(cache_read), sum(cache_write), "
        "round(total(cost), 9), sum(cost IS NULL)"
    )
    kept = "reqs, input, output, cache_read, cache_write, round(cost, 9), unpriced"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return {
            "records": conn.execute("SELECT * FROM usage_events ORDER BY 1, 2").fetchall(),
            "minutes": conn.execute(
                f"SELECT source, minute, provider, model, {kept} FROM usage_minutes "
                "ORDER BY 1, 2, 3, 4"
            ).fetchall(),
            "minutes summed": conn.execute(
                f"SELECT source, ts_ns / 60000000000, provider, model, {sums} "
                "FROM usage_events GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
            ).fetchall(),
            "quarters": conn.execute(
                f"SELECT source, quarter, provider, model, {kept} FROM usage_quarters "
                "ORDER BY 1, 2, 3, 4"
            ).fetchall(),
            "quarters summed": conn.execute(
                f"SELECT source, ts_ns / 900000000000, provider, model, {sums} "
                "FROM usage_events GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
            ).fetchall(),
            "state": conn.execute(
                "SELECT key FROM meta WHERE key LIKE 'source_state:%'"
            ).fetchall(),
        }


def _status(env: dict[str, str]) -> tuple[int, dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "burntray", "status", "--source", "claude", "--by", "day",
         "--window", "all", "--format", "json"],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def test_a_first_scan_cut_between_batches_resumes_to_the_figures_of_an_uncut_one(
    tmp_path: Path,
) -> None:
    config = tmp_path / "claude"
    generate_heavy_week(config, requests=1800, total_bytes=900_000, sessions=6, seed=24)
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(config)}
    cut = subprocess.run(
        [sys.executable, "-c", _CUT_SCAN, str(config)],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert cut.returncode == 3, cut.stderr
    home = Path(env["BURNTRAY_HOME"])
    at_cut = _rollups_and_records(_history(home))
    # what the three batches wrote is all there, rollups and resume state with it
    assert 3 * 150 <= len(at_cut["records"]) <= 1800 - 300  # three of six files
    assert at_cut["minutes"] == at_cut["minutes summed"]
    assert at_cut["quarters"] == at_cut["quarters summed"]
    assert at_cut["state"] == [("source_state:claude",)]

    code, resumed = _status(env)  # the next run reads on from the state the cut left
    assert code == 0, resumed
    clean_env = {**env, "BURNTRAY_HOME": str(tmp_path / "clean")}
    code, clean = _status(clean_env)  # one scan that was never cut
    assert code == 0, clean
    assert resumed == clean
    after = _rollups_and_records(_history(home))
    never_cut = _rollups_and_records(_history(tmp_path / "clean"))
    assert after == never_cut
    assert after["minutes"] == after["minutes summed"]
    assert after["quarters"] == after["quarters summed"]
    assert len(after["records"]) > len(at_cut["records"])
