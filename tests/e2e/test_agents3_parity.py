"""Grok Build CLI, Antigravity and ZCode sources against the real ccusage on the same data.

Per UTC day: input, cache read and cache write tokens equal exactly, output with ccusage's
reasoning beyond its four fields, cost within 0.5 % (``compare`` of ``test_agents_parity``).
The data is written by our generators in each agent's real layout, with its traps, and appended
while it is read.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from burntray.model.pricing import build_price_table
from burntray.model.usage import UsageRecord
from burntray.sources.antigravity.reader import AntigravityReader
from burntray.sources.grok.logs import GrokLogReader
from burntray.sources.zcode.reader import ZCodeReader
from tests.agent_logs_support import (
    antigravity_put,
    antigravity_response,
    grok_turn,
    per_day,
    run_ccusage,
    write_antigravity_fixture,
    write_grok_fixture,
    write_zcode_fixture,
    zcode_call,
    zcode_db,
)
from tests.e2e.test_agents_parity import accumulate, compare, compare_priced

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


def test_zcode_daily_matches_ccusage(ccusage: Path, tmp_path: Path) -> None:
    home = tmp_path / "zcode"
    conn = write_zcode_fixture(home)
    # a start time written as a real counts (as in ccusage); a call without one counts in
    # neither, and burntray says it left it out
    zcode_call(conn, "c12", "2026-11-21T10:00:00+00:00", "claude-sonnet-4-5", 2_000, 20)
    zcode_call(conn, "c13", "2026-11-21T10:00:00+00:00", "claude-sonnet-4-5", 900, 9)
    conn.execute("UPDATE model_usage SET started_at = started_at + 0.5 WHERE id = 'c12'")
    conn.execute("UPDATE model_usage SET started_at = NULL WHERE id = 'c13'")
    conn.commit()
    # a second home (a synced copy) holding one of the calls: it counts once
    other = zcode_db(tmp_path / "zcode-2")
    zcode_call(other, "c1", "2026-11-20T09:00:00+00:00", "glm-4.6", 20_000, 800, 15_000, 1_000)
    zcode_call(other, "d1", "2026-11-22T06:00:00+00:00", "claude-sonnet-4-5", 700, 70, 200)
    reader = ZCodeReader([home, tmp_path / "zcode-2"], build_price_table())
    seen: dict[str, UsageRecord] = {}
    accumulate(seen, reader.read_new())
    assert sorted(seen) == ["z:c1", "z:c12", "z:c2", "z:c3", "z:c7", "z:c8", "z:d1"]
    assert reader.malformed_lines == 1 and "model_usage c13: no start time" in (
        reader.first_malformed)  # fmt: skip
    assert seen["z:c7"].cost_usd is None and seen["z:c1"].cost_usd is None  # glm: not in table
    c2 = seen["z:c2"]
    assert (c2.input_tokens, c2.cache_read_tokens, c2.cache_write_tokens, c2.output_tokens) == (
        8_000, 20_000, 2_000, 800)  # fmt: skip
    assert (c2.session, c2.project) == ("sess_1", "/work/app")
    # ZCode goes on while we read: the running call completes, a new one starts and completes
    zcode_call(conn, "c6", "2026-11-21T08:02:00+00:00", "claude-sonnet-4-5", 4_000, 40, 1_000)
    zcode_call(conn, "c11", "2026-11-22T09:00:00+00:00", "glm-4.6", 1_000, 10)
    again = reader.read_new()
    assert {"z:c6", "z:c11"} <= {r.key for r in again}
    accumulate(seen, again)
    assert reader.read_new() == []  # nothing changed: nothing read
    theirs = run_ccusage(
        ccusage, "zcode", {"ZCODE_HOME": f"{home},{tmp_path / 'zcode-2'}"}, tmp_path / "home"
    )
    # ccusage prices ZCode's cache writes at the input rate; burntray at the cache-write rate
    prices = build_price_table()
    daily = theirs["daily"]
    assert isinstance(daily, list)
    for day in daily:
        for model in day["modelBreakdowns"]:
            price = prices.lookup("", model["modelName"])
            if price is not None and price.cache_write is not None:
                premium = price.cache_write - price.input
                day["totalCost"] += model["cacheCreationTokens"] * premium / 1e6
    compare_priced(list(seen.values()), theirs, "zcode")


def test_antigravity_daily_matches_ccusage(ccusage: Path, tmp_path: Path) -> None:
    folder = tmp_path / "antigravity"
    conn = write_antigravity_fixture(folder)
    reader = AntigravityReader([folder], build_price_table())
    seen: dict[str, UsageRecord] = {}
    accumulate(seen, reader.read_new())
    assert reader.malformed_lines == 1  # the blob that is not protobuf, named
    assert "gen_metadata 6" in reader.first_malformed
    # r1 repeated, and again in the second conversation: counted once, in the first
    assert sorted(seen) == ["ag:11111111-aaaa:7", "ag:11111111-aaaa:s2", "ag:11111111-aaaa:s3",
                            "ag:22222222-bbbb:1", "ag:r1", "ag:r2", "ag:r3", "ag:r4", "ag:r7",
                            "ag:s1"]  # fmt: skip
    # r3's step repeats it with more output: each count at its largest, at r3's own time
    r3, r3_at = seen["ag:r3"], dt.datetime(2026, 11, 20, 9, 2, 0, 250_000, tzinfo=dt.UTC)
    assert (r3.input_tokens, r3.output_tokens) == (5_000, 900)
    assert r3.ts_ns == int(r3_at.timestamp()) * 10**9 + 250_000_000
    assert seen["ag:s1"].model == "gemini-2.5-flash"  # a step: the conversation's last label
    assert seen["ag:r1"].session == "11111111-aaaa"
    assert seen["ag:r2"].model == "gemini-2.5-pro"  # the conversation's last label
    assert seen["ag:r1"].output_tokens == 420  # output and thinking
    assert seen["ag:22222222-bbbb:1"].model == "gemini-2.5-pro"  # the copy's label stays
    assert (seen["ag:r7"].model, seen["ag:r7"].cost_usd) == ("unknown", None)  # no label
    # Antigravity goes on while we read: a new response in the open conversation
    day = int(dt.datetime(2026, 11, 22, 9, tzinfo=dt.UTC).timestamp())
    antigravity_put(conn, 8, antigravity_response(day, 4_000, 60, 3_000, 200, 10, "r9",
                                                  "gemini-2.5-flash"))  # fmt: skip
    again = reader.read_new()
    assert "ag:r9" in {r.key for r in again}
    accumulate(seen, again)
    assert reader.read_new() == []  # nothing changed: nothing read
    # ccusage stops at a blob that is not protobuf (burntray skips it): without it for ccusage
    conn.execute("DELETE FROM gen_metadata WHERE idx = 6")
    conn.commit()
    theirs = run_ccusage(ccusage, "antigravity", {"ANTIGRAVITY_DATA_DIR": str(folder)},
                         tmp_path / "home")  # fmt: skip
    compare_priced(list(seen.values()), theirs, "antigravity")
