"""burntray's agent sources (OpenCode, ...) against the real ccusage on the same data.

Per UTC day: input, cache read and cache write tokens equal exactly; output equals ccusage's
output plus what ccusage counts apart as reasoning (its ``totalTokens`` less the four fields:
burntray bills reasoning as output, as the agents do); cost within 0.5 %. The data is written by
our generators in each agent's real layout, with its traps, and appended while it is read; and,
where ccusage's tests hold data for the agent, on that data too
(``tests/fixtures/ccusage_adapters``).
An unknown model is $0 in ccusage and unpriced in burntray, so the priced sums match.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from pathlib import Path

import pytest

from burntray.model.pricing import build_price_table
from burntray.model.usage import UsageRecord
from burntray.sources.ampcode.reader import AmpReader
from burntray.sources.codebuff.reader import CodebuffReader
from burntray.sources.copilot.reader import CopilotReader
from burntray.sources.droid.reader import DroidReader
from burntray.sources.gemini.reader import GeminiReader
from burntray.sources.goose.reader import GooseReader
from burntray.sources.hermes.reader import HermesReader
from burntray.sources.kilo.reader import KiloReader
from burntray.sources.kimi.logs import KimiLogReader
from burntray.sources.openclaw.logs import OpenClawLogReader
from burntray.sources.opencode.reader import OpenCodeReader
from burntray.sources.pi_agent.logs import PiLogReader
from burntray.sources.qwen.logs import QwenLogReader
from tests.agent_logs_support import (
    _compact,
    amp_reply,
    codebuff_reply,
    copilot_chat_span,
    copilot_inference_log,
    copilot_usage,
    droid_settings,
    droid_usage,
    gemini_reply,
    gemini_tokens,
    goose_put,
    hermes_put,
    kimi_status,
    openclaw_message,
    opencode_db,
    opencode_message,
    opencode_put,
    per_day,
    pi_message,
    qwen_reply,
    run_ccusage,
    write_amp_fixture,
    write_codebuff_fixture,
    write_copilot_fixture,
    write_droid_fixture,
    write_gemini_fixture,
    write_goose_fixture,
    write_hermes_fixture,
    write_kilo_fixture,
    write_kimi_fixture,
    write_openclaw_fixture,
    write_opencode_fixture,
    write_pi_fixture,
    write_qwen_fixture,
)

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ccusage_adapters"
SONNET = "claude-sonnet-4-5-20250929"


def compare(ours: dict[str, dict[str, float]], theirs: dict[str, object], agent: str) -> None:
    daily = theirs["daily"]
    assert isinstance(daily, list) and daily, f"ccusage found no {agent} usage"
    assert sorted(ours) == sorted(d["date"] for d in daily)
    for day in daily:
        mine, date = ours[day["date"]], day["date"]
        assert mine["input"] == day["inputTokens"], date
        assert mine["cache_read"] == day["cacheReadTokens"], date
        assert mine["cache_write"] == day["cacheCreationTokens"], date
        four = (
            day["inputTokens"]
            + day["outputTokens"]
            + day["cacheReadTokens"]
            + day["cacheCreationTokens"]
        )
        reasoning = day["totalTokens"] - four
        assert mine["output"] == day["outputTokens"] + reasoning, date
        assert mine["cost"] == pytest.approx(day["totalCost"], rel=0.005, abs=1e-9), date


def accumulate(into: dict[str, UsageRecord], records: list[UsageRecord]) -> None:
    """What burntray's history does: a record re-read under the same key replaces the old."""
    for rec in records:
        into[rec.key] = rec


def _ms(stamp: str) -> int:
    return int(dt.datetime.fromisoformat(stamp).timestamp() * 1000)


def test_opencode_daily_matches_ccusage(ccusage: Path, tmp_path: Path) -> None:
    data = tmp_path / "opencode"
    conn = write_opencode_fixture(data)
    # A second data folder (a synced copy) holding a channel database: a message both hold
    # counts once; its own message counts.
    second = tmp_path / "opencode-2"
    beta = opencode_db(second / "opencode-beta.db")
    copied = conn.execute("SELECT id, session_id, data FROM message WHERE id = 'msg_02'").fetchone()
    opencode_put(beta, copied[0], copied[1], json.loads(copied[2]))
    opencode_put(beta, "msg_b1", "ses_c", opencode_message(
        _ms("2026-11-22T06:00:00+00:00"), "anthropic", SONNET, 5, 6, 7, 8))  # fmt: skip
    reader = OpenCodeReader([data, second], build_price_table())
    seen: dict[str, UsageRecord] = {}
    accumulate(seen, reader.read_new())
    assert reader.malformed_lines == 2  # the cut row and the cut JSON file, named
    assert "m:msg_08" not in seen  # still streaming: no tokens yet
    # OpenCode goes on while we read: the streaming message gets its tokens (the row is
    # updated), a new one is written; only those are read again.
    opencode_put(conn, "msg_08", "ses_b", opencode_message(
        _ms("2026-11-22T07:00:00+00:00"), "anthropic", SONNET, 30, 400, 6000, 100,
        reasoning=50))  # fmt: skip
    opencode_put(conn, "msg_09", "ses_b", opencode_message(
        _ms("2026-11-22T08:00:00+00:00"), "openai", "gpt-5", 1000, 10, 0, 0))  # fmt: skip
    again = reader.read_new()
    assert sorted(r.key for r in again) == ["m:msg_08", "m:msg_09"]
    accumulate(seen, again)
    assert reader.read_new() == []  # nothing changed: nothing read
    theirs = run_ccusage(
        ccusage, "opencode", {"OPENCODE_DATA_DIR": f"{data},{second}"}, tmp_path / "home"
    )
    compare(per_day(seen.values()), theirs, "opencode")
    conn.close()
    beta.close()


CASES = json.loads((FIXTURES / "opencode" / "cases.json").read_text())["cases"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_opencode_on_ccusage_fixtures(ccusage: Path, tmp_path: Path, case: dict) -> None:
    folder = tmp_path / "opencode"
    folder.mkdir()
    for rel, text in case["files"].items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    if case["database"]:
        db = sqlite3.connect(folder / case["database"])
        db.execute("CREATE TABLE message (id TEXT, session_id TEXT, data TEXT)")  # their schema
        db.executemany("INSERT INTO message VALUES (?, ?, ?)", case["rows"])
        db.commit()
        db.close()
    reader = OpenCodeReader([folder], build_price_table())
    seen: dict[str, UsageRecord] = {}
    accumulate(seen, reader.read_new())
    theirs = run_ccusage(ccusage, "opencode", {"OPENCODE_DATA_DIR": str(folder)}, tmp_path)
    compare(per_day(seen.values()), theirs, "opencode")


def _unpriced_models(records: list[UsageRecord]) -> set[str]:
    return {r.model for r in records if r.cost_usd is None}


def compare_priced(records: list[UsageRecord], theirs: dict[str, object], agent: str) -> None:
    """As ``compare``, with ccusage's cost less what it charges for models burntray's table
    does not price (those burntray shows as unpriced, never as $0; ``[pricing]`` adds them)."""
    unpriced = _unpriced_models(records)
    daily = theirs["daily"]
    assert isinstance(daily, list)
    for day in daily:
        for model in day.get("modelBreakdowns", []):
            if model["modelName"] in unpriced:
                day["totalCost"] -= model["cost"]
    compare(per_day(records), theirs, agent)


def test_gemini_daily_matches_ccusage(ccusage: Path, tmp_path: Path) -> None:
    data = tmp_path / "gemini-tmp"
    files = write_gemini_fixture(data)
    reader = GeminiReader([data], build_price_table())
    seen: dict[str, UsageRecord] = {}
    accumulate(seen, reader.read_new())
    assert reader.malformed_lines == 1  # the cut line, named with its file
    # Gemini CLI goes on while we read: a line appended (half, then the rest) and the whole
    # session file rewritten with one more reply.
    line = _compact(gemini_reply("b4", "2026-11-22T09:00:00.000Z", "gemini-2.5-flash",
                                 gemini_tokens(5000, 70, 4000, 20)))  # fmt: skip
    with files["lines"].open("a") as fh:
        fh.write(line[:25])
    accumulate(seen, reader.read_new())
    with files["lines"].open("a") as fh:
        fh.write(line[25:] + "\n")
    doc = json.loads(files["whole"].read_text())
    doc["messages"].append(gemini_reply("g8", "2026-11-22T10:00:00.000Z", "gemini-2.5-pro",
                                        gemini_tokens(1000, 100, 500)))  # fmt: skip
    files["whole"].write_text(json.dumps(doc))
    accumulate(seen, reader.read_new())
    assert any(k.endswith(":b4") for k in seen) and any(k.endswith(":g8") for k in seen)
    theirs = run_ccusage(ccusage, "gemini", {"GEMINI_DATA_DIR": str(data)}, tmp_path / "home")
    compare(per_day(seen.values()), theirs, "gemini")


def test_gemini_on_ccusage_fixture(ccusage: Path, tmp_path: Path) -> None:
    data = FIXTURES / "gemini"
    reader = GeminiReader([data], build_price_table())
    records = reader.read_new()
    assert [(r.input_tokens, r.cache_read_tokens) for r in records] == [(3808, 11526)]
    theirs = run_ccusage(ccusage, "gemini", {"GEMINI_DATA_DIR": str(data)}, tmp_path)
    compare_priced(records, theirs, "gemini")


def _ns(stamp: str) -> int:
    return int(dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()) * 10**9


def test_copilot_daily_matches_ccusage(ccusage: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    otel = home / ".copilot" / "otel"
    path = write_copilot_fixture(otel)
    now = [_ns("2026-11-22T12:00:00Z")]
    reader = CopilotReader(otel, None, build_price_table(), lambda: now[0])
    seen: dict[str, UsageRecord] = {}
    accumulate(seen, reader.read_new())
    assert reader.malformed_lines == 1
    # A model call's log is exported before its chat span: held back while the span may come,
    # then dropped for it (counted once), as ccusage counts the finished file.
    log = copilot_inference_log("t7", "c1", "2026-11-22T12:00:00Z", "gpt-5",
                                copilot_usage(500, 50, 1000), response="r7")  # fmt: skip
    with path.open("a") as fh:
        fh.write(log + "\n")
    now[0] += 5 * 10**9
    accumulate(seen, reader.read_new())
    assert not any("t7" in k for k in seen)  # held back
    span = copilot_chat_span("t7", "c1", "2026-11-22T12:00:00Z", "gpt-5",
                             copilot_usage(500, 50, 1000), response="r7")  # fmt: skip
    with path.open("a") as fh:
        fh.write(span[:30])  # half a line, then the rest
    accumulate(seen, reader.read_new())
    with path.open("a") as fh:
        fh.write(span[30:] + "\n")
    now[0] += 120 * 10**9  # long after: the log is settled, and its chat span is there
    accumulate(seen, reader.read_new())
    assert [k.rsplit(":", 2)[-2:] for k in seen if "t7" in k] == [["t7", "c1"]]
    # an exporter file elsewhere (COPILOT_OTEL_FILE_EXPORTER_PATH) counts too
    single = tmp_path / "exports" / "copilot.jsonl"
    single.parent.mkdir()
    single.write_text(copilot_chat_span("t9", "c1", "2026-11-23T01:00:00Z", "gpt-5",
                                        copilot_usage(10, 20, 30)) + "\n")  # fmt: skip
    reader2 = CopilotReader(otel, single, build_price_table(), lambda: now[0])
    accumulate(seen, [r for r in reader2.read_new() if str(single) in r.key])
    env = {"COPILOT_OTEL_FILE_EXPORTER_PATH": str(single)}
    theirs = run_ccusage(ccusage, "copilot", env, home)
    compare(per_day(seen.values()), theirs, "copilot")


def test_copilot_on_ccusage_fixtures(ccusage: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    otel = home / ".copilot" / "otel"
    otel.mkdir(parents=True)
    for fixture in (FIXTURES / "copilot").glob("*.jsonl"):
        (otel / fixture.name).write_bytes(fixture.read_bytes())
    reader = CopilotReader(otel, None, build_price_table())
    records = reader.read_new()
    assert sorted(r.key.rsplit("/", 1)[-1] for r in records) == [
        "chat-spans.jsonl:trace-1:span-1",
        "lower-priority-suppressed.jsonl:trace-dupe:chat-1",
        "total-only.jsonl:trace-1:span-1",
    ]
    theirs = run_ccusage(ccusage, "copilot", {}, home)
    compare_priced(records, theirs, "copilot")


def test_amp_daily_matches_ccusage(ccusage: Path, tmp_path: Path) -> None:
    data = tmp_path / "amp"
    files = write_amp_fixture(data)
    reader = AmpReader([data], build_price_table())
    seen: dict[str, UsageRecord] = {}
    accumulate(seen, reader.read_new())
    assert reader.malformed_lines == 1
    # Amp goes on while we read: the streaming reply gets its tokens and a reply is added; the
    # thread file is rewritten whole (a half-written file first: skipped, then read whole).
    doc = json.loads(files["current"].read_text())
    doc["messages"][3] = amp_reply(3, "2026-11-20T09:02:00.000Z", SONNET, 3, 900, 2000, 12_500)
    doc["messages"].append(amp_reply(6, "2026-11-22T08:00:00.000Z", SONNET, 7, 70, 0, 30_000))
    text = json.dumps(doc)
    files["current"].write_text(text[: len(text) // 2])
    accumulate(seen, reader.read_new())
    files["current"].write_text(text)
    accumulate(seen, reader.read_new())
    assert reader.malformed_lines == 1  # the half-written file is counted once it is whole
    theirs = run_ccusage(ccusage, "amp", {"AMP_DATA_DIR": str(data)}, tmp_path / "home")
    compare(per_day(seen.values()), theirs, "amp")


def test_amp_on_ccusage_fixtures(ccusage: Path, tmp_path: Path) -> None:
    data = FIXTURES / "amp"
    records = AmpReader([data], build_price_table()).read_new()
    assert len(records) == 5
    theirs = run_ccusage(ccusage, "amp", {"AMP_DATA_DIR": str(data)}, tmp_path)
    compare_priced(records, theirs, "amp")


def compare_cache_in_input(
    records: list[UsageRecord], theirs: dict[str, object], agent: str
) -> None:
    """As ``compare_priced``, for an agent whose prompt count includes its cache reads, which
    ccusage counts (and prices) twice, as input and as cache reads: its input less its cache
    reads, and its cost less those at the input rate, are what burntray counts."""
    prices = build_price_table()
    daily = theirs["daily"]
    assert isinstance(daily, list)
    for day in daily:
        day["inputTokens"] -= day["cacheReadTokens"]
        day["totalTokens"] -= day["cacheReadTokens"]
        for model in day.get("modelBreakdowns", []):
            price = prices.lookup("", model["modelName"])
            if price is not None:
                day["totalCost"] -= model["cacheReadTokens"] * price.input / 1e6
    compare_priced(records, theirs, agent)


def test_qwen_daily_matches_ccusage(ccusage: Path, tmp_path: Path) -> None:
    data = tmp_path / "qwen"
    files = write_qwen_fixture(data)
    reader = QwenLogReader([data], build_price_table())
    seen: dict[str, UsageRecord] = {}
    accumulate(seen, reader.read_new())
    assert reader.malformed_lines == 1
    line = qwen_reply("2026-11-22T09:00:00.000Z", "s1", "gpt-5", 40_000, 900, 30_000, 100)
    with files["main"].open("a") as fh:
        fh.write(line[:50])
    accumulate(seen, reader.read_new())
    with files["main"].open("a") as fh:
        fh.write(line[50:] + "\n")
    before = reader.tailer.stats.bytes_read
    accumulate(seen, reader.read_new())
    # only the appended line is read (from its start: its first half waited for its end)
    assert reader.tailer.stats.bytes_read - before == len(line) + 1
    theirs = run_ccusage(ccusage, "qwen", {"QWEN_DATA_DIR": str(data)}, tmp_path / "home")
    compare_cache_in_input(list(seen.values()), theirs, "qwen")


def test_qwen_on_ccusage_fixture(ccusage: Path, tmp_path: Path) -> None:
    data = FIXTURES / "qwen"
    records = QwenLogReader([data], build_price_table()).read_new()
    assert [(r.input_tokens, r.cache_read_tokens, r.output_tokens) for r in records] == [
        (95, 5, 60)
    ]
    theirs = run_ccusage(ccusage, "qwen", {"QWEN_DATA_DIR": str(data)}, tmp_path)
    compare_cache_in_input(records, theirs, "qwen")


# ccusage's price for kimi-k2 (LiteLLM's, per million tokens), which burntray's bundled table
# does not share (it has Moonshot's list price): given as a [pricing] override, the test checks
# the counting and the arithmetic, not whose price list is right
KIMI_K2_AS_CCUSAGE = {"kimi-k2": {"input": 0.57, "output": 2.3, "cache_read": 0.5,
                                  "cache_write": 0.7125}}  # fmt: skip


def test_kimi_daily_matches_ccusage(ccusage: Path, tmp_path: Path) -> None:
    data = tmp_path / "kimi"
    files = write_kimi_fixture(data)
    reader = KimiLogReader([data], build_price_table(KIMI_K2_AS_CCUSAGE))
    seen: dict[str, UsageRecord] = {}
    accumulate(seen, reader.read_new())
    assert reader.malformed_lines == 1  # the cut StatusUpdate line
    line = kimi_status("2026-11-22T09:00:00Z", "b2", 500, 60, 7000, 0)
    with files["other"].open("a") as fh:
        fh.write(line[:40])
    accumulate(seen, reader.read_new())
    with files["other"].open("a") as fh:
        fh.write(line[40:] + "\n")
    accumulate(seen, reader.read_new())
    assert any(":b2:" in k for k in seen)
    theirs = run_ccusage(ccusage, "kimi", {"KIMI_DATA_DIR": str(data)}, tmp_path / "home")
    compare(per_day(seen.values()), theirs, "kimi")


def test_kimi_on_ccusage_fixture(ccusage: Path, tmp_path: Path) -> None:
    data = FIXTURES / "kimi"
    records = KimiLogReader([data], build_price_table(KIMI_K2_AS_CCUSAGE)).read_new()
    assert [(r.model, r.input_tokens, r.output_tokens) for r in records] == [("kimi-k2", 100, 50)]
    theirs = run_ccusage(ccusage, "kimi", {"KIMI_DATA_DIR": str(data)}, tmp_path)
    compare(per_day(records), theirs, "kimi")


def test_droid_daily_matches_ccusage(ccusage: Path, tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    files = write_droid_fixture(sessions)
    reader = DroidReader([sessions], build_price_table())
    seen: dict[str, UsageRecord] = {}
    accumulate(seen, reader.read_new())
    assert reader.malformed_lines == 1
    # The session goes on while we read, later that day: its totals grow; what it added is a
    # record of its own at the time the file was written (ccusage, reading the file once,
    # dates the whole session at its lock time: the same day here).
    usage = droid_usage(1500, 3300, 5000, 99_000, 800)
    grown = droid_settings("custom:Claude-Sonnet-4.5-[Anthropic]", "anthropic",
                           "2026-11-20T09:00:00.000Z", usage)  # fmt: skip
    files["live"].write_text(grown)
    later = _ns("2026-11-20T15:00:00Z")
    os.utime(files["live"], ns=(later, later))
    added = reader.read_new()
    assert [(r.ts_ns, r.input_tokens, r.output_tokens, r.cache_read_tokens) for r in added] == [
        (later, 300, 400, 9_000)
    ]
    accumulate(seen, added)
    theirs = run_ccusage(ccusage, "droid", {"DROID_SESSIONS_DIR": str(sessions)}, tmp_path / "h")
    compare(per_day(seen.values()), theirs, "droid")


def test_droid_on_ccusage_fixtures(ccusage: Path, tmp_path: Path) -> None:
    data = FIXTURES / "droid"
    records = DroidReader([data], build_price_table()).read_new()
    assert sorted(r.model for r in records) == ["claude-opus-4.5-thinking", "claude-sonnet-4"]
    theirs = run_ccusage(ccusage, "droid", {"DROID_SESSIONS_DIR": str(data)}, tmp_path)
    compare_priced(records, theirs, "droid")


def _cached_in_prompts(chats: list[Path]) -> dict[str, dict[str, int]]:
    """Per day and model, the cached tokens of OpenAI-shaped usage in these chat files (counted
    inside the prompt: ccusage counts them as input and again as cache reads)."""
    found: dict[str, dict[str, int]] = {}
    for chat in chats:
        for message in json.loads(chat.read_text()):
            records = [message.get("metadata", {}).get("usage"),
                       message.get("metadata", {}).get("codebuff", {}).get("usage")]  # fmt: skip
            for usage in records:
                details = (usage or {}).get("promptTokensDetails")
                if details and message.get("timestamp"):
                    day = found.setdefault(message["timestamp"][:10], {})
                    model = message["metadata"]["model"]
                    day[model] = day.get(model, 0) + details["cachedTokens"]
    return found


def test_codebuff_daily_matches_ccusage(ccusage: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    root = home / ".config" / "manicode"
    files = write_codebuff_fixture(root)
    dirs = [home / ".config" / c / "projects" for c in ("manicode", "manicode-dev")]
    reader = CodebuffReader(dirs, build_price_table())
    seen: dict[str, UsageRecord] = {}
    accumulate(seen, reader.read_new())
    assert reader.malformed_lines == 1
    # the chat goes on while we read: the file is rewritten with one more reply
    messages = json.loads(files["chat"].read_text())
    messages.append(codebuff_reply("m7", "2026-11-22T09:00:00.000Z", SONNET,
                                   {"inputTokens": 3, "outputTokens": 30,
                                    "cacheReadInputTokens": 9_000}))  # fmt: skip
    files["chat"].write_text(json.dumps(messages))
    accumulate(seen, reader.read_new())
    assert any(k.endswith(":m7") for k in seen)
    theirs = run_ccusage(ccusage, "codebuff", {}, home)
    prices = build_price_table()
    inside = _cached_in_prompts([files["chat"], dirs[1] / files["chat"].relative_to(dirs[0])])
    for day in theirs["daily"]:
        for model, cached in inside.get(day["date"], {}).items():
            day["inputTokens"] -= cached
            day["totalTokens"] -= cached
            day["totalCost"] -= cached * prices.lookup("", model).input / 1e6
    compare_priced(list(seen.values()), theirs, "codebuff")


def test_codebuff_on_ccusage_fixtures(ccusage: Path, tmp_path: Path) -> None:
    data = FIXTURES / "codebuff"
    records = CodebuffReader([data / "a" / "projects"], build_price_table()).read_new()
    theirs = run_ccusage(ccusage, "codebuff", {"CODEBUFF_DATA_DIR": str(data / "a")}, tmp_path)
    compare_priced(records, theirs, "codebuff")
    # the OpenAI-shaped run state: burntray takes the cached tokens out of the prompt
    records = CodebuffReader([data / "b" / "projects"], build_price_table()).read_new()
    assert [(r.model, r.input_tokens, r.cache_read_tokens) for r in records] == [
        ("openai/gpt-5", 90, 10)
    ]


def test_pi_daily_matches_ccusage(ccusage: Path, tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    files = write_pi_fixture(sessions)
    reader = PiLogReader([sessions], build_price_table())
    seen: dict[str, UsageRecord] = {}
    accumulate(seen, reader.read_new())
    assert reader.malformed_lines == 1
    assert len(seen) == 4  # the fork's copy of the first message counts once
    line = pi_message("2026-11-22T09:00:00.000Z", "openai", "gpt-5", 900, 90, 9_000)
    with files["fork"].open("a") as fh:
        fh.write(line[:33])
    accumulate(seen, reader.read_new())
    with files["fork"].open("a") as fh:
        fh.write(line[33:] + "\n")
    accumulate(seen, reader.read_new())
    assert len(seen) == 5
    theirs = run_ccusage(ccusage, "pi", {"PI_AGENT_DIR": str(sessions)}, tmp_path / "home")
    compare(per_day(seen.values()), theirs, "pi")


def test_pi_on_ccusage_fixtures(ccusage: Path, tmp_path: Path) -> None:
    data = FIXTURES / "pi" / "sessions"
    records = PiLogReader([data], build_price_table()).read_new()
    costs = {r.session: r.cost_usd for r in records}
    assert costs["session-a"] == pytest.approx(333 * 10 / 1e6)  # a total only: output
    assert costs["session-b"] is None  # unknown model: unpriced, not $0
    assert costs["session-c"] == 0.05  # pi's own cost
    theirs = run_ccusage(ccusage, "pi", {"PI_AGENT_DIR": str(data)}, tmp_path)
    compare(per_day(records), theirs, "pi")


def test_kilo_daily_matches_ccusage(ccusage: Path, tmp_path: Path) -> None:
    data = tmp_path / "kilo"
    conn = write_kilo_fixture(data)
    reader = KiloReader([data], build_price_table())
    seen: dict[str, UsageRecord] = {}
    accumulate(seen, reader.read_new())
    assert reader.malformed_lines == 1 and len(seen) == 4  # the user's tokens are not a reply
    # Kilo goes on while we read: a reply is written, then updated with its final tokens
    reply = opencode_message(_ms("2026-11-22T09:00:00+00:00"), "anthropic", SONNET, 1, 2)
    del reply["cost"]
    opencode_put(conn, "k7", "s3", reply)
    accumulate(seen, reader.read_new())
    reply["tokens"] = {"input": 50, "output": 700, "reasoning": 0, "cache": {"read": 9000,
                                                                           "write": 0}}  # fmt: skip
    opencode_put(conn, "k7", "s3", reply)
    accumulate(seen, reader.read_new())
    assert [r.output_tokens for k, r in seen.items() if k.endswith(":k7")] == [700]
    theirs = run_ccusage(ccusage, "kilo", {"KILO_DATA_DIR": str(data)}, tmp_path / "home")
    compare(per_day(seen.values()), theirs, "kilo")
    conn.close()


def test_goose_daily_matches_ccusage(ccusage: Path, tmp_path: Path) -> None:
    root = tmp_path / "goose-root"
    db = root / "data" / "sessions" / "sessions.db"
    conn = write_goose_fixture(db)
    reader = GooseReader([db], build_price_table())
    seen: dict[str, UsageRecord] = {}
    accumulate(seen, reader.read_new())
    assert len(seen) == 5
    # the session goes on that afternoon: what it added is a record at the row's updated_at
    goose_put(conn, "20261120_1", SONNET, "anthropic", "2026-11-20 09:00:00",
              (20_000, 1_500, 21_600), updated="2026-11-20 15:00:00")  # fmt: skip
    added = reader.read_new()
    assert [(r.ts_ns, r.input_tokens, r.output_tokens) for r in added] == [
        (_ns("2026-11-20T15:00:00Z"), 8_000, 700)
    ]
    accumulate(seen, added)
    assert reader.read_new() == []  # nothing changed: the database is not read
    theirs = run_ccusage(ccusage, "goose", {"GOOSE_PATH_ROOT": str(root)}, tmp_path / "home")
    compare(per_day(seen.values()), theirs, "goose")
    conn.close()


def test_hermes_daily_matches_ccusage(ccusage: Path, tmp_path: Path) -> None:
    home = tmp_path / "hermes"
    conn = write_hermes_fixture(home)
    reader = HermesReader([home / "state.db"], build_price_table())
    seen: dict[str, UsageRecord] = {}
    accumulate(seen, reader.read_new())
    assert len(seen) == 6  # no model, nothing used: left out
    # the session goes on that afternoon (ended_at moves): the difference is recorded then
    start = _ms("2026-11-20T09:00:00+00:00") / 1000
    hermes_put(conn, "h1", SONNET, "anthropic", start, (150, 1_200, 40_000, 2_000, 0),
               ended=start + 6 * 3600)  # fmt: skip
    added = reader.read_new()
    assert [(r.ts_ns, r.input_tokens, r.output_tokens, r.cache_read_tokens) for r in added] == [
        (int(start + 6 * 3600) * 10**9, 30, 300, 10_000)
    ]
    accumulate(seen, added)
    theirs = run_ccusage(ccusage, "hermes", {"HERMES_HOME": str(home)}, tmp_path / "home")
    compare(per_day(seen.values()), theirs, "hermes")
    conn.close()


def test_openclaw_daily_matches_ccusage(ccusage: Path, tmp_path: Path) -> None:
    state = tmp_path / "openclaw"
    files = write_openclaw_fixture(state)
    reader = OpenClawLogReader([state], build_price_table())
    seen: dict[str, UsageRecord] = {}
    accumulate(seen, reader.read_new())
    assert len(seen) == 4  # the reset's copy adds nothing
    # the session goes on: a message with the model named earlier in the file, half then whole
    line = openclaw_message(_ms("2026-11-22T08:00:00+00:00"), 90, 900, 9_000)
    with files["log"].open("a") as fh:
        fh.write(line[:50])
    accumulate(seen, reader.read_new())
    with files["log"].open("a") as fh:
        fh.write(line[50:] + "\n")
    added = reader.read_new()
    assert [r.model for r in added] == ["gpt-5"]  # the model-snapshot kept with the offset
    accumulate(seen, added)
    theirs = run_ccusage(ccusage, "openclaw", {"OPENCLAW_DIR": str(state)}, tmp_path / "home")
    compare(per_day(seen.values()), theirs, "openclaw")
