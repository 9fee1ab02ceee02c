"""Grok Build CLI, Antigravity and ZCode sources end to end through burntray's own commands
(isolated HOME: tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from burntray.cli import main
from burntray.model.pricing import build_price_table
from burntray.sources.antigravity.paths import antigravity_dirs
from burntray.sources.antigravity.reader import AntigravityReader
from burntray.sources.grok.logs import GrokLogReader, session_log
from burntray.sources.grok.paths import grok_homes
from burntray.sources.zcode.paths import zcode_homes
from tests.agent_logs_support import (
    antigravity_db,
    antigravity_put,
    antigravity_response,
    grok_chunk,
    grok_turn,
    zcode_call,
    zcode_db,
)

# ---- Grok Build CLI -------------------------------------------------------------------------


def test_grok_session_logs_are_told_by_their_place(tmp_path: Path) -> None:
    """``sessions/<cwd>/<id>/updates.jsonl`` is a session's log, told from the paths' text; a
    file elsewhere (deeper, shallower, another name, a sibling folder sharing the name's start)
    is not one, and asking is no error."""
    root = tmp_path / "sessions"
    reader = GrokLogReader([tmp_path], build_price_table())
    log = root / "%2Fw" / "s1" / "updates.jsonl"
    assert session_log(root, log) == ("%2Fw", "s1")
    assert reader.keep_name(root, str(log))  # the folder walk's text: no Path made
    for other in (root / "%2Fw" / "s1" / "x" / "updates.jsonl", root / "s1" / "updates.jsonl",
                  root / "%2Fw" / "s1" / "events.jsonl",
                  tmp_path / "sessions2" / "%2Fw" / "s1" / "updates.jsonl"):  # fmt: skip
        assert session_log(root, other) is None, other
        assert not reader.keep_name(root, str(other)), other


def test_grok_location_and_status(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert grok_homes({"HOME": str(tmp_path)}) == [tmp_path / ".grok"]
    assert grok_homes({"HOME": "/x", "GROK_HOME": f"{tmp_path}/a, {tmp_path}/b"}) == [
        tmp_path / "a", tmp_path / "b"]  # fmt: skip
    session = Path(os.environ["HOME"]) / ".grok" / "sessions" / "%2Fwork%2Fapp" / "s-1"
    session.mkdir(parents=True)
    (session / "summary.json").write_text('{"current_model_id": "grok-code-fast-1"}')
    now = int((dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3)).timestamp())
    (session / "updates.jsonl").write_text("\n".join([
        grok_chunk(now - 1),
        grok_turn(now, "a", 3000, 100, 2000),  # priced by the summary's model
        grok_turn(now, "b", 10, 10, ticks=25_000_000),  # Grok's own cost: $0.0025
        "not json",
    ]) + "\n")  # fmt: skip
    assert main(["status", "--source", "grok", "--window", "1h", "--format", "json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert totals["reqs"] == 2 and totals["unpriced_reqs"] == 0
    assert totals["cost_usd"] == pytest.approx((1000 * 0.2 + 2000 * 0.02 + 100 * 1.5) / 1e6
                                               + 0.0025)  # fmt: skip
    assert main(["report", "--by", "session", "--source", "grok", "--window", "1d",
                 "--format", "json"]) == 0  # fmt: skip
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [(r["session"], r["project"]) for r in rows] == [("s", "/work/app")]


# ---- ZCode --------------------------------------------------------------------------------


def test_zcode_location_and_status(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert zcode_homes({"HOME": str(tmp_path)}) == [tmp_path / ".zcode"]
    assert zcode_homes({"HOME": "/x", "ZCODE_HOME": f"{tmp_path}/z"}) == [tmp_path / "z"]
    assert main(["doctor"]) in {0, 1}
    assert "no ZCode cli/db/db.sqlite in " in capsys.readouterr().out
    conn = zcode_db(Path(os.environ["HOME"]) / ".zcode")
    conn.execute("INSERT INTO session VALUES ('sess_1', '/work/app', 2, NULL)")
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3)
    zcode_call(conn, "a", now.isoformat(), "claude-sonnet-4-5", 3000, 100, 2000)
    zcode_call(conn, "b", now.isoformat(), "glm-4.6", 10, 10)  # not in the bundled table
    zcode_call(conn, "c", now.isoformat(), "claude-sonnet-4-5", 10, 10, status="cancelled")
    conn.close()
    assert main(["status", "--source", "zcode", "--window", "1h", "--format", "json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert totals["reqs"] == 2 and totals["unpriced_reqs"] == 1
    assert totals["cost_usd"] == pytest.approx((1000 * 3 + 2000 * 0.3 + 100 * 15) / 1e6)
    assert main(["report", "--by", "session", "--source", "zcode", "--window", "1d",
                 "--format", "json"]) == 0  # fmt: skip
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [(r["session"], r["project"]) for r in rows] == [("sess_1", "/work/app")]


# ---- Antigravity --------------------------------------------------------------------------


def test_antigravity_location_and_status(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert antigravity_dirs({"HOME": str(tmp_path)})[:2] == [
        tmp_path / ".gemini" / "antigravity", tmp_path / ".gemini" / "antigravity-cli"]  # fmt: skip
    assert antigravity_dirs({"HOME": "/x", "ANTIGRAVITY_DATA_DIR": f"{tmp_path}/a"}) == [
        tmp_path / "a"]  # fmt: skip
    folder = Path(os.environ["HOME"]) / ".gemini" / "antigravity-cli"
    conn = antigravity_db(folder, "conv-1", None)
    now = int((dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3)).timestamp())
    antigravity_put(conn, 0, antigravity_response(now, 1000, 100, 2000, 0, 50, "r1",
                                                  "gemini-2.5-pro"))  # fmt: skip
    antigravity_put(conn, 1, b"\x0a\x05ab")  # cut off: skipped, the rest counts
    antigravity_put(conn, 2, antigravity_response(now, 10, 10, response="r2"))  # keeps the label
    conn.close()
    assert main(["status", "--source", "antigravity", "--window", "1h", "--format", "json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert totals["reqs"] == 2 and totals["unpriced_reqs"] == 0
    assert totals["cost_usd"] == pytest.approx(
        (1010 * 1.25 + 2000 * 0.125 + 160 * 10) / 1e6, abs=1e-6
    )  # the JSON rounds to 6 places
    assert main(["report", "--by", "session", "--source", "antigravity", "--window", "1d",
                 "--format", "json"]) == 0  # fmt: skip
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [r["session"] for r in rows] == ["conv-1"]


def test_antigravity_resumes_reading_only_changed_conversations(tmp_path: Path) -> None:
    """A new process (a new reader given the saved state) reads only the conversations that
    changed since: the others' records are in the history already."""
    day = int(dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC).timestamp())
    convs = []
    for n in range(3):
        conn = antigravity_db(tmp_path, f"conv-{n}", day)
        antigravity_put(conn, 0, antigravity_response(day + n, 1000, 10, response=f"r{n}"))
        convs.append(conn)
    first = AntigravityReader([tmp_path], build_price_table())
    assert sorted(r.key for r in first.read_new()) == ["ag:r0", "ag:r1", "ag:r2"]
    state = first.save_state()
    again = AntigravityReader([tmp_path], build_price_table())
    again.load_state(state)
    assert again.read_new() == []
    antigravity_put(convs[1], 1, antigravity_response(day + 60, 500, 5, response="r9"))
    assert sorted(r.key for r in again.read_new()) == ["ag:r1", "ag:r9"]
    # a conversation deleted is forgotten; a state not ours means reading everything again
    convs[2].close()
    (tmp_path / "conversations" / "conv-2.db").unlink()
    again.read_new()
    assert "conv-2" not in again.save_state()
    fresh = AntigravityReader([tmp_path], build_price_table())
    fresh.load_state('{"read": 5}')
    assert len(fresh.read_new()) == 3
    for conn in convs[:2]:
        conn.close()


def test_zcode_calls_without_a_start_time_are_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """ccusage 20.0.24 drops a completed call with no start time without a word; burntray
    does not count it either (it has no day), and says how many it left out, in every run."""
    conn = zcode_db(Path(os.environ["HOME"]) / ".zcode")
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3)
    sonnet = "claude-sonnet-4-5"
    for call in ("a", "b", "c", "d", "e", "f"):
        zcode_call(conn, call, now.isoformat(), sonnet, 1000, 100)
    conn.execute("UPDATE model_usage SET started_at = NULL WHERE id IN ('b', 'e')")
    conn.execute("UPDATE model_usage SET started_at = 'soon' WHERE id = 'c'")
    conn.execute("UPDATE model_usage SET started_at = started_at + 0.5 WHERE id = 'd'")  # counts
    conn.execute("UPDATE model_usage SET model_id = NULL WHERE id = 'e'")  # no model: none
    conn.commit()
    conn.close()
    for run in range(2):  # the second run starts from the saved state: still said
        assert main(["status", "--source", "zcode", "--window", "1h", "--format", "json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert doc["totals"]["reqs"] == 3, run  # a, d, f
        facts = {f["label"]: f["value"] for f in doc["facts"]}
        assert facts["Malformed lines"].startswith("2 skipped (first: "), run
        assert "model_usage b: no start time (started_at is NULL)" in facts["Malformed lines"]
