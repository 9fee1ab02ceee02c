"""Goose read by separate ``burntray status`` processes, its resume state kept in parts (issue
24), against the real ccusage 20.0.24 on the same database: per day, tokens equal exactly and
cost within 0.5 %, after a session grows between two processes and after a part of the state
is damaged in the history (read whole again, the same answer)."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from burntray.store.history import RESUME_STATE_PREFIX
from tests.agent_logs_support import ccusage_binary, goose_put, run_ccusage, write_goose_fixture
from tests.processes import burntray, require_tool

pytestmark = pytest.mark.slow

SONNET = "claude-sonnet-4-5-20250929"


def _days() -> dict[str, dict[str, float]]:
    done = burntray("status", "--by", "day", "--source", "goose", "--window", "all", "--format",
                    "json", "--timezone", "UTC", timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return {row["date"]: row for row in json.loads(done.stdout)["rows"]}


def _compare(ours: dict[str, dict[str, float]], theirs: dict[str, object]) -> None:
    daily = theirs["daily"]
    assert isinstance(daily, list) and daily
    assert sorted(ours) == sorted(d["date"] for d in daily)
    for day in daily:
        mine = ours[day["date"]]
        assert mine["input_tokens"] == day["inputTokens"], day["date"]
        assert mine["output_tokens"] == day["totalTokens"] - day["inputTokens"], day["date"]
        assert mine["cost_usd"] == pytest.approx(day["totalCost"], rel=0.005, abs=1e-9)


def test_goose_across_processes_and_a_damaged_part_matches_ccusage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_tool("npm")  # skips without npm (fails in CI, where .ci/run installs it)
    binary = ccusage_binary()
    assert binary is not None
    root = tmp_path / "goose-root"
    db = root / "data" / "sessions" / "sessions.db"
    conn = write_goose_fixture(db)
    monkeypatch.setenv("GOOSE_PATH_ROOT", str(root))
    monkeypatch.setenv("TZ", "UTC")
    _days()  # the first process records every session
    goose_put(conn, "20261120_1", SONNET, "anthropic", "2026-11-20 09:00:00",
              (20_000, 1_500, 21_600), updated="2026-11-20 15:00:00")  # fmt: skip
    theirs = run_ccusage(binary, "goose", {"GOOSE_PATH_ROOT": str(root)}, tmp_path / "home")
    _compare(_days(), theirs)  # the next one only what the session added

    history = Path(os.environ["BURNTRAY_HOME"]) / "data" / "history.sqlite3"
    with sqlite3.connect(history) as kept:
        state = kept.execute("SELECT value FROM meta WHERE key = ?",
                             (f"{RESUME_STATE_PREFIX}goose",)).fetchone()[0]  # fmt: skip
        assert json.loads(state)["v"] == 2
        parts = kept.execute("UPDATE meta SET value = 'damaged' WHERE key LIKE ?",
                             (f"{RESUME_STATE_PREFIX}goose/s:%",)).rowcount  # fmt: skip
        assert parts > 0
    kept.close()
    goose_put(conn, "20261120_1", SONNET, "anthropic", "2026-11-20 09:00:00",
              (21_000, 1_600, 22_700), updated="2026-11-20 16:00:00")  # fmt: skip
    conn.close()
    theirs = run_ccusage(binary, "goose", {"GOOSE_PATH_ROOT": str(root)}, tmp_path / "home")
    _compare(_days(), theirs)
