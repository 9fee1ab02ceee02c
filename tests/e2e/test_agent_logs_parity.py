"""burntray's Claude Code and Codex readers against the real ccusage on the same files.

Per UTC day: tokens equal exactly, cost within 0.5 %. The fixtures hold duplicates, sidechain
replays, subagents, a ``costUSD`` line, a 1-hour cache write, the 200k tier, an unknown model
(ccusage counts it at $0; burntray leaves it unpriced, so its priced sum matches), malformed
lines, and a file appended while it is read (a partial line first, its end later).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from burntray.model.pricing import build_price_table
from burntray.model.usage import UsageRecord
from burntray.sources.claude.logs import ClaudeLogReader
from burntray.sources.codex.logs import CodexLogReader
from tests.agent_logs_support import (
    claude_line,
    codex_token_count,
    codex_turn_context,
    codex_usage,
    per_day,
    run_ccusage,
    write_claude_fixture,
    write_codex_fixture,
)

pytestmark = pytest.mark.slow

SONNET = "claude-sonnet-4-5-20250929"


def _compare(ours: dict[str, dict[str, float]], theirs: dict[str, object], agent: str) -> None:
    daily = theirs["daily"]
    assert isinstance(daily, list) and daily, f"ccusage found no {agent} usage"
    assert sorted(ours) == sorted(d["date"] for d in daily)
    for day in daily:
        mine = ours[day["date"]]
        assert mine["input"] == day["inputTokens"], day["date"]
        assert mine["output"] == day["outputTokens"], day["date"]
        assert mine["cache_read"] == day["cacheReadTokens"], day["date"]
        assert mine["cache_write"] == day["cacheCreationTokens"], day["date"]
        cost = day["totalCost"] if agent == "claude" else day["costUSD"]
        assert mine["cost"] == pytest.approx(cost, rel=0.005, abs=1e-9), day["date"]


def _accumulate(into: dict[str, UsageRecord], records: list[UsageRecord]) -> None:
    """What burntray's history does: a record re-read under the same key replaces the old."""
    for rec in records:
        into[rec.key] = rec


def _append(path: Path, text: str) -> None:
    with path.open("a") as fh:
        fh.write(text)


def test_claude_daily_matches_ccusage(ccusage: Path, tmp_path: Path) -> None:
    config = tmp_path / "claude"
    files = write_claude_fixture(config)
    # A second config folder: CLAUDE_CONFIG_DIR lists both.
    second = tmp_path / "claude-2"
    late = second / "projects" / "-work-late" / "s3.jsonl"
    late.parent.mkdir(parents=True)
    late.write_text(claude_line("2026-11-22T09:00:00Z", "l1", "lr1", SONNET, 5, 6, 7, 8) + "\n")
    reader = ClaudeLogReader([config, second], build_price_table())
    seen: dict[str, UsageRecord] = {}
    _accumulate(seen, reader.read_new())
    # The session goes on while we read: a partial line, then its end and a larger duplicate.
    full = claude_line("2026-11-22T10:00:00.000Z", "msg_live", "req_live", SONNET, 3, 9, 0, 100)
    _append(files["main"], full[:40])
    _accumulate(seen, reader.read_new())
    assert "m:msg_live:req_live" not in seen  # the partial line waits for its newline
    bigger = claude_line("2026-11-22T10:00:01.000Z", "msg_live", "req_live", SONNET, 3, 90, 0, 100)
    _append(files["main"], full[40:] + "\n" + bigger + "\n")
    _accumulate(seen, reader.read_new())
    assert seen["m:msg_live:req_live"].output_tokens == 90
    theirs = run_ccusage(
        ccusage, "claude", {"CLAUDE_CONFIG_DIR": f"{config},{second}"}, tmp_path / "home"
    )
    _compare(per_day(seen.values()), theirs, "claude")


def test_codex_daily_matches_ccusage(ccusage: Path, tmp_path: Path) -> None:
    home = tmp_path / "codex"
    files = write_codex_fixture(home)
    reader = CodexLogReader([home], build_price_table())
    seen: dict[str, UsageRecord] = {}
    _accumulate(seen, reader.read_new())
    more = [
        codex_turn_context("2026-11-22T11:00:00Z", "gpt-5-codex"),
        codex_token_count("2026-11-22T11:00:01Z", None, codex_usage(40_000, 30_000, 2000, 500)),
    ]
    line = "\n".join(more) + "\n"
    _append(files["session"], line[:30])  # partial
    _accumulate(seen, reader.read_new())
    _append(files["session"], line[30:])
    _accumulate(seen, reader.read_new())
    theirs = run_ccusage(ccusage, "codex", {"CODEX_HOME": str(home)}, tmp_path / "home")
    _compare(per_day(seen.values()), theirs, "codex")


def test_a_50_mb_assistant_line_counts_as_ccusage_counts_it(ccusage: Path, tmp_path: Path) -> None:
    """A line over the 32 MiB line cap (a huge text in its content) is not held whole, yet its
    request counts, with the tokens ccusage reads from it; the lines around it too."""
    from burntray.io.log_tail import MAX_LINE_BYTES

    config = tmp_path / "claude"
    log = config / "projects" / "-work-big" / "s.jsonl"
    log.parent.mkdir(parents=True)
    text = 'lorem ipsum \\"quoted\\" ' * (50 * 1024 * 1024 // 22)
    big = claude_line(
        "2026-11-21T10:00:00.000Z", "msg_big", "req_big", SONNET, 1234, 5678, 910, 1112,
        text=text, write_1h=100,
    )  # fmt: skip
    assert len(big.encode()) > MAX_LINE_BYTES
    with log.open("w") as fh:
        fh.write(claude_line("2026-11-21T09:00:00Z", "a", "ra", SONNET, 1, 2, 3, 4) + "\n")
        fh.write(big + "\n")
        fh.write(claude_line("2026-11-21T11:00:00Z", "b", "rb", SONNET, 5, 6, 7, 8) + "\n")
    del big, text
    reader = ClaudeLogReader([config], build_price_table())
    records = reader.read_new()
    assert len(records) == 3 and reader.malformed_lines == 0
    assert reader.tailer.stats.overlong_lines == 1
    theirs = run_ccusage(ccusage, "claude", {"CLAUDE_CONFIG_DIR": str(config)}, tmp_path)
    _compare(per_day(records), theirs, "claude")
