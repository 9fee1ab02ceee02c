"""burntray's 5-hour blocks, from its history's rollups and time index, against the real
ccusage's ``claude blocks`` on the same logs: the same blocks (start, last request, requests,
tokens), cost within 0.5 % (as the daily parity test)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from burntray.model.pricing import build_price_table
from burntray.sources.agent_logs.source import claude_source
from burntray.store.blocks import BlockSums, all_block_sums
from burntray.store.history import HistoryStore
from tests.agent_logs_support import claude_line, generate_heavy_week

pytestmark = pytest.mark.slow

SONNET, OPUS = "claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805"


def _ccusage_blocks(binary: Path, config: Path, home: Path) -> list[dict[str, object]]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "TZ": "UTC",
           "CLAUDE_CONFIG_DIR": str(config)}  # fmt: skip
    done = subprocess.run(
        [str(binary), "claude", "blocks", "--json", "--offline", "--timezone", "UTC"],
        env=env, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    blocks = json.loads(done.stdout)["blocks"]
    return [b for b in blocks if not b["isGap"]]


def _ours(config: Path, tmp_path: Path) -> list[BlockSums]:
    store = HistoryStore(tmp_path / "history.sqlite3")
    source = claude_source([config], build_price_table(), store, watch=False)
    source.poll()
    assert source._events is not None
    blocks = all_block_sums(source._events, "claude", 0, 2**62)
    store.close()
    return blocks


def _utc_ms(ns: int) -> str:
    """ccusage's times: RFC 3339 in UTC with milliseconds."""
    ms = ns // 1_000_000
    when = dt.datetime.fromtimestamp(ms // 1000, dt.UTC)
    return f"{when:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def _compare(ours: list[BlockSums], theirs: list[dict[str, object]]) -> None:
    assert len(ours) == len(theirs), ([_utc_ms(b.start_ns) for b in ours],
                                      [b["startTime"] for b in theirs])  # fmt: skip
    for mine, block in zip(ours, theirs, strict=True):
        assert _utc_ms(mine.start_ns) == block["startTime"]
        assert _utc_ms(mine.last_ns) == block["actualEndTime"], block["id"]
        assert mine.reqs == block["entries"], block["id"]
        assert mine.tokens == block["totalTokens"], block["id"]
        cost = block["costUSD"]
        assert isinstance(cost, float)
        assert mine.cost_usd == pytest.approx(cost, rel=0.005), block["id"]


def test_blocks_with_gaps_and_edges_match_ccusage(ccusage: Path, tmp_path: Path) -> None:
    config = tmp_path / "claude"
    one = config / "projects" / "-work-one" / "a.jsonl"
    two = config / "projects" / "-work-two" / "b.jsonl"
    one.parent.mkdir(parents=True)
    two.parent.mkdir(parents=True)
    day1 = [
        ("2026-11-20T09:17:00.000Z", SONNET),
        ("2026-11-20T10:05:30.250Z", OPUS),
        ("2026-11-20T13:59:59.999Z", SONNET),
        ("2026-11-20T14:00:00.000Z", SONNET),  # exactly 5 h after 09:00: still that block
        ("2026-11-20T14:00:00.001Z", SONNET),  # past it, in the same minute: the 14:00 block
        ("2026-11-20T16:30:00.000Z", OPUS),
        ("2026-11-20T21:30:00.000Z", SONNET),  # 5 h after the last request: a new block
    ]
    day2 = [  # after a night: a gap of more than 5 h
        ("2026-11-21T07:42:10.000Z", SONNET),
        ("2026-11-21T08:10:00.000Z", OPUS),
        ("2026-11-21T12:00:00.000Z", SONNET),
        ("2026-11-21T12:41:00.000Z", SONNET),  # past 07:00 + 5 h: the 12:00 block
        ("2026-11-21T12:42:00.000Z", OPUS),
    ]
    lines_one, lines_two = [], []
    for n, (ts, model) in enumerate(day1 + day2):
        line = claude_line(ts, f"msg_{n}", f"req_{n}", model, 10 + n, 100 * n, 50, 2000 + n)
        (lines_one if n % 2 else lines_two).append(line)
        if n % 3 == 0:  # a streamed request: its first, smaller line is not counted twice
            lines_one.append(claude_line(ts, f"msg_{n}", f"req_{n}", model, 10 + n, 1, 50, 2000))
    one.write_text("\n".join(lines_one) + "\n")
    two.write_text("\n".join(lines_two) + "\n")
    (tmp_path / "home").mkdir(exist_ok=True)
    ours = _ours(config, tmp_path)
    assert [b.reqs for b in ours] == [4, 2, 1, 3, 2]
    _compare(ours, _ccusage_blocks(ccusage, config, tmp_path / "home"))


def test_a_generated_week_of_blocks_matches_ccusage(ccusage: Path, tmp_path: Path) -> None:
    config = tmp_path / "claude"
    generate_heavy_week(
        config, requests=3000, total_bytes=3000 * 500, sessions=3, end_ts=1_796_617_650.0
    )
    (tmp_path / "home").mkdir(exist_ok=True)
    ours = _ours(config, tmp_path)
    assert len(ours) > 14  # several blocks a day, for seven days
    _compare(ours, _ccusage_blocks(ccusage, config, tmp_path / "home"))


def test_the_current_block_after_days_around_the_clock_matches_ccusage(
    ccusage: Path, tmp_path: Path
) -> None:
    """Three days without a 5-hour gap, up to now: the active block is ccusage's active one
    (its chain followed from the first request)."""
    config = tmp_path / "claude"
    log = config / "projects" / "-work-busy" / "c.jsonl"
    log.parent.mkdir(parents=True)
    now_ns = time.time_ns()
    first = now_ns - 3 * 86_400 * 10**9 + 17 * 60 * 10**9
    step = 7 * 60 * 10**9
    lines = []
    for n in range((now_ns - first) // step):
        stamp = _utc_ms(first + n * step + (n % 5) * 10**9)
        lines.append(claude_line(stamp, f"msg_{n}", f"req_{n}", SONNET, 10, 100 + n, 50, 2000))
    log.write_text("\n".join(lines) + "\n")
    store = HistoryStore(tmp_path / "history.sqlite3")
    source = claude_source([config], build_price_table(), store, watch=False)
    source.poll()
    ours = source.current_block()
    store.close()
    (tmp_path / "home").mkdir(exist_ok=True)
    active = [b for b in _ccusage_blocks(ccusage, config, tmp_path / "home") if b["isActive"]]
    assert ours is not None and len(active) == 1
    assert _utc_ms(ours.start_ns) == active[0]["startTime"]
    assert _utc_ms(ours.last_ns) == active[0]["actualEndTime"]
    assert ours.reqs == active[0]["entries"]
    assert ours.tokens == active[0]["totalTokens"]
