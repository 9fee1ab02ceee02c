"""Grok Build CLI, Antigravity and ZCode sources against the real ccusage on the same data.

Per UTC day: input, cache read and cache write tokens equal exactly, output with ccusage's
reasoning beyond its four fields, cost within 0.5 % (``compare`` of ``test_agents_parity``).
The data is written by our generators in each agent's real layout, with its traps, and appended
while it is read.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from burntray.model.pricing import build_price_table
from burntray.model.usage import UsageRecord
from burntray.sources.grok.logs import GrokLogReader
from tests.agent_logs_support import grok_turn, per_day, run_ccusage, write_grok_fixture
from tests.e2e.test_agents_parity import accumulate, compare

pytestmark = pytest.mark.slow


def test_grok_daily_matches_ccusage(ccusage: Path, tmp_path: Path) -> None:
    home = tmp_path / "grok"
    files = write_grok_fixture(home)
    reader = GrokLogReader([home], build_price_table())
    seen: dict[str, UsageRecord] = {}
    accumulate(seen, reader.read_new())
    assert reader.malformed_lines == 1  # the cut line, named
    assert [k for k, r in seen.items() if r.cost_usd is None] == ["g:e7#unknown"]  # no ticks
    mine = {k: v for k, v in seen.items() if k.startswith("g:e4#")}
    assert sorted(r.model for r in mine.values()) == ["grok-4", "grok-code-fast-1"]
    # Grok Build goes on while we read: a turn is appended in two writes
    line = grok_turn(1795338000, "e8", 40_000, 900, 30_000, ticks=123_456_789)
    with files["other"].open("a") as fh:
        fh.write(line[:50])
    accumulate(seen, reader.read_new())
    e8 = "g:e8#unknown"  # s-2 has no summary: no model
    assert e8 not in seen
    with files["other"].open("a") as fh:
        fh.write(line[50:] + "\n")
    before = reader.tailer.stats.bytes_read
    accumulate(seen, reader.read_new())
    assert reader.tailer.stats.bytes_read - before == len(line) + 1  # only the new line
    assert seen[e8].cost_usd == pytest.approx(0.0123456789)
    assert seen[e8].cost_from_upstream and seen[e8].session == "s"  # the notification's own
    e1 = seen["g:e1#grok-code-fast-1"]  # the summary's model
    assert (e1.input_tokens, e1.cache_read_tokens, e1.cache_write_tokens) == (15_000, 80_000, 5_000)
    assert e1.project == "/work/app" and seen["g:e1#unknown"].project == "/work/api"
    theirs = run_ccusage(ccusage, "grok", {"GROK_HOME": str(home)}, tmp_path / "home")
    compare(per_day(seen.values()), theirs, "grok")
