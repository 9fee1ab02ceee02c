"""``status --format json`` (the real command, a process of its own) on a generated week of
Claude Code logs gives the answer burntray gave before its windows and blocks came from the
rollups: the block and the totals worked out here from every record of the same history."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from burntray.model.blocks import current_block
from burntray.model.export import block_to_dict
from burntray.model.timefmt import parse_rfc3339_ns
from burntray.model.usage import summarise_records
from burntray.sources.agent_logs.source import BLOCK_LOOKBACK_NS
from burntray.store.history import HistoryStore
from burntray.store.usage_events import UsageEvents
from tests.agent_logs_support import claude_line, generate_heavy_week
from tests.processes import burntray

WEEK_NS = 7 * 86_400 * 10**9


def _answer_from_records(tmp_path: Path, as_of: int) -> tuple[dict[str, object] | None, object]:
    store = HistoryStore(tmp_path / "burntray" / "data" / "history.sqlite3")
    events = UsageEvents(store)
    block = current_block(events.records("claude", as_of - BLOCK_LOOKBACK_NS, as_of + 1), as_of)
    totals, _rows = summarise_records(events.records("claude", as_of - WEEK_NS, as_of + 1), WEEK_NS)
    store.close()
    return block_to_dict(block), totals


def _status(tmp_path: Path) -> tuple[dict[str, object], dict[str, object] | None, object]:
    done = burntray("status", "--source", "claude", "--window", "7d", "--format", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    block, totals = _answer_from_records(tmp_path, parse_rfc3339_ns(doc["as_of"]))
    return doc, block, totals


def _same(doc: dict[str, object], block: dict[str, object] | None, totals: object) -> None:
    assert block is not None and doc["block"] is not None
    got = doc["block"]
    assert isinstance(got, dict)
    for key in ("start", "end", "last_request", "reqs", "tokens", "unpriced_reqs"):
        assert got[key] == block[key], key
    for key in ("cost_usd", "burn_usd_per_hour", "projected_cost_usd"):
        assert got[key] == pytest.approx(block[key], abs=2e-6), key
    mine = doc["totals"]
    assert isinstance(mine, dict)
    assert (mine["reqs"], mine["tokens"]) == (totals.reqs, totals.tokens)  # type: ignore[attr-defined]
    assert mine["cost_usd"] == pytest.approx(totals.cost_usd, abs=2e-6)  # type: ignore[attr-defined]


def test_status_json_gives_the_answer_every_record_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "claude"
    generate_heavy_week(
        config, requests=4000, total_bytes=4000 * 500, sessions=3, end_ts=time.time() - 30
    )
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    doc, block, totals = _status(tmp_path)  # the first scan
    _same(doc, block, totals)
    assert doc["totals"]["reqs"] > 3000  # type: ignore[index]
    # warm, after one new line: the new request is in the window and the block
    log = next((config / "projects").rglob("*.jsonl"))
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    with log.open("a") as fh:
        fh.write(claude_line(stamp, "msg_new", "req_new", "claude-opus-4-1-20250805", 5, 6) + "\n")
    again, block, totals = _status(tmp_path)
    _same(again, block, totals)
    assert again["block"]["reqs"] == doc["block"]["reqs"] + 1  # type: ignore[index]
