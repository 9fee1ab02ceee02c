"""Claude Code and Codex log readers: parsing, dedup, cost, incremental tailing, locations."""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import threading
from pathlib import Path

import pytest

from burntray.io.log_tail import LogTailer
from burntray.io.tree_watch import TreeWatcher
from burntray.model.pricing import Price, PriceTable, build_price_table
from burntray.model.rates import priced, rates_of
from burntray.sources.agent_logs.values import ModelPrices
from burntray.sources.claude.dedup import Dedup
from burntray.sources.claude.lines import entry_cost
from burntray.sources.claude.logs import ClaudeEntry, ClaudeLogReader, parse_line
from burntray.sources.claude.paths import claude_config_dirs
from burntray.sources.codex.logs import CodexLogReader
from burntray.sources.codex.paths import codex_homes
from tests.agent_logs_support import (
    claude_line,
    codex_token_count,
    codex_turn_context,
    codex_usage,
    per_day,
    write_claude_fixture,
    write_codex_fixture,
)

SONNET = "claude-sonnet-4-5-20250929"
PRICES = build_price_table()


def _append(path: Path, text: str) -> None:
    with path.open("a") as fh:
        fh.write(text)


# ---- prices --------------------------------------------------------------------------------


def test_tiered_cost_prices_each_field_above_200k_at_the_tier_rate() -> None:
    price = Price(3.0, 15.0, 0.3, 3.75, input_above_200k=6.0, output_above_200k=22.5,
                  cache_read_above_200k=0.6, cache_write_above_200k=7.5)  # fmt: skip
    # 300k input: 200k at $3 + 100k at $6; 10 output at $15
    assert price.tiered_cost(300_000, 10, 0, 0) == pytest.approx((0.6 + 0.6) + 10 * 15e-6)
    # exactly 200k stays in the base tier
    assert price.tiered_cost(200_000, 0, 0, 0) == pytest.approx(0.6)
    # 1-hour cache writes: twice the input rate (and twice the tier rate past 200k)
    assert price.tiered_cost(0, 0, 0, 0, 1000) == pytest.approx(1000 * 6e-6)
    assert price.tiered_cost(0, 0, 0, 0, 300_000) == pytest.approx(200_000 * 6e-6 + 100_000 * 12e-6)


def test_missing_cache_rates_follow_anthropics_ratios_and_fast_multiplies() -> None:
    price = Price(2.0, 8.0, fast_multiplier=6.0)
    assert price.tiered_cost(0, 0, 1_000_000, 1_000_000) == pytest.approx(0.2 + 2.5)
    assert price.tiered_cost(1_000_000, 0, 0, 0, fast=True) == pytest.approx(12.0)


def _rate_cases() -> list[Price]:
    """A table's own model, one without cache rates (fast), one with every rate past the tier."""
    sonnet = PRICES.lookup("anthropic", SONNET)
    assert sonnet is not None
    return [sonnet, Price(2.0, 8.0, fast_multiplier=6.0),
            Price(3.0, 15.0, 0.3, 3.75, input_above_200k=6.0, output_above_200k=22.5,
                  cache_read_above_200k=0.6, cache_write_above_200k=7.5)]  # fmt: skip


def test_a_scans_per_model_rates_price_exactly_as_the_table() -> None:
    """``entry_cost`` with the per-model rates a scan caches: the very float
    ``Price.tiered_cost`` gives, below the tier, past it in any field, fast or not, with and
    without the table's cache rates."""
    rng = random.Random(22)
    prices = _rate_cases()
    for _ in range(3000):
        price = rng.choice(prices)
        top = rng.choice([2_000, 200_000, 200_001, 900_000])
        inp, out, read, w5, w1 = (rng.randint(0, top) for _ in range(5))
        fast = rng.random() < 0.2
        entry = ClaudeEntry(0, "m", "r", "x", inp, out, w5 + w1, w5, w1, read, None, False,
                            fast, fast)  # fmt: skip
        want = price.tiered_cost(inp, out, read, w5, w1, fast=fast)
        assert entry_cost(entry, {"x": rates_of(price)}) == (want, False)
    unpriced = ClaudeEntry(0, "m", "r", "x", 1, 1, 0, 0, 0, 0, None, False, False, False)
    assert entry_cost(unpriced, {"x": rates_of(None)}) == (None, False)


def test_an_agents_per_model_rates_price_exactly_as_the_table() -> None:
    """``ModelPrices.cost`` (every agent's pricing, its rates worked out once per model): the
    very float ``Price.tiered_cost`` gives, below the tier and past it in any field, with and
    without the table's cache rates; an unknown model unpriced."""
    rng = random.Random(24)
    prices = _rate_cases()
    for _ in range(3000):
        price = rng.choice(prices)
        top = rng.choice([2_000, 200_000, 200_001, 900_000])
        inp, out, read, write = (rng.randint(0, top) for _ in range(4))
        table = PriceTable(prices={"m": price})
        assert ModelPrices(table).cost("m", inp, out, read, write) == price.tiered_cost(
            inp, out, read, write
        )
    assert ModelPrices(PRICES, "anthropic").cost("claude-imaginary-9", 1, 1, 0, 0) is None


def test_input_and_output_alone_price_exactly_as_the_table() -> None:
    """``priced`` as Goose prices a request (input and output only): the very float of
    ``Price.tiered_cost`` with no cache tokens, below the tier and past it in either field, with
    and without the table's cache rates (``repr``: a -0.0 or NaN term would show too)."""
    rng = random.Random(27)
    prices = [*_rate_cases(), Price(3.0, 15.0, float("inf"), -0.0)]
    for _ in range(3000):
        price = rng.choice(prices)
        top = rng.choice([0, 2_000, 200_000, 200_001, 900_000])
        inp, out = rng.randint(0, top), rng.randint(0, top)
        rates = rates_of(price)
        assert rates is not None
        got = priced(rates, inp, out, 0, 0, 0, False)
        assert repr(got) == repr(price.tiered_cost(inp, out, 0, 0))


def test_snapshot_has_the_tiers_and_keeps_unknown_models_unpriced() -> None:
    sonnet = PRICES.lookup("anthropic", SONNET)
    assert sonnet is not None and sonnet.origin == "table"
    assert (sonnet.input, sonnet.input_above_200k, sonnet.cache_write) == (3.0, 6.0, 3.75)
    assert PRICES.lookup("anthropic", "claude-imaginary-9") is None
    assert PRICES.sources == ("bundled table",)


# ---- claude: lines, dedup, cost -------------------------------------------------------------


def test_parse_line_reads_usage_and_skips_what_ccusage_skips() -> None:
    entry = parse_line(
        claude_line("2026-11-20T09:00:00.500Z", "m", "r", SONNET, 1, 2, 30, 4, write_1h=10).encode()
    )
    assert entry is not None
    assert (entry.input_tokens, entry.output_tokens, entry.cache_write_tokens) == (1, 2, 30)
    assert (entry.cache_write_5m, entry.cache_write_1h, entry.cache_read_tokens) == (20, 10, 4)
    expected = dt.datetime(2026, 11, 20, 9, 0, 0, 500_000, tzinfo=dt.UTC)
    assert entry.ts_ns == int(expected.timestamp()) * 10**9 + 500_000_000
    assert parse_line(b'{"type":"user","message":{"content":"x"}}') is None  # no usage
    no_ts = claude_line("2026-11-20T09:00:00Z", "m", "r", SONNET, 1, 1).replace(
        '"timestamp":"2026-11-20T09:00:00Z"', '"timestamp":"yesterday"'
    )
    with pytest.raises(ValueError):  # not a time: malformed (ccusage skips it too)
        parse_line(no_ts.encode())
    naive = no_ts.replace('"yesterday"', '"2026-11-20T09:00:00"')
    assert parse_line(naive.encode()) is None  # no offset: not RFC 3339, skipped
    null_model = claude_line("2026-11-20T09:00:00Z", "m", "r", SONNET, 1, 1).replace(
        f'"model":"{SONNET}"', '"model":null'
    )
    assert parse_line(null_model.encode()) is None
    bad_version = claude_line("2026-11-20T09:00:00Z", "m", "r", SONNET, 1, 1).replace(
        '"version":"2.0.14"', '"version":"dev"'
    )
    assert parse_line(bad_version.encode()) is None
    synthetic = parse_line(
        claude_line("2026-11-20T09:00:00Z", "m", "r", "<synthetic>", 0, 0).encode()
    )
    assert synthetic is not None and synthetic.model == ""
    with pytest.raises(ValueError):
        parse_line(b'{"message":{"usage":{"input_tokens":1,')
    with pytest.raises(ValueError):  # negative counts are not usage
        parse_line(claude_line("2026-11-20T09:00:00Z", "m", "r", SONNET, -1, 1).encode())


def _entry(mid: str | None, rid: str, out: int, *, sidechain: bool = False, cache_read: int = 0):  # type: ignore[no-untyped-def]
    line = claude_line("2026-11-20T09:00:00Z", mid, rid, SONNET, 1, out, 0, cache_read,
                       sidechain=sidechain)  # fmt: skip
    entry = parse_line(line.encode())
    assert entry is not None
    return entry


def test_dedup_streaming_duplicates_keep_the_largest_under_one_key() -> None:
    dedup = Dedup()
    first = dedup.add(_entry("m1", "r1", 5), "l:1")
    assert first is not None and first[0] == "m:m1:r1"
    bigger = dedup.add(_entry("m1", "r1", 50), "l:2")
    assert bigger is not None and bigger[0] == "m:m1:r1" and bigger[1].output_tokens == 50
    assert dedup.add(_entry("m1", "r1", 20), "l:3") is None  # smaller: dropped


def test_dedup_sidechain_replay_counts_once_and_the_parent_wins() -> None:
    dedup = Dedup()
    assert dedup.add(_entry("m1", "r1", 10, cache_read=20), "a") is not None
    # a sidechain replay with another request id and more tokens: still the parent's request
    assert dedup.add(_entry("m1", "replay", 10, sidechain=True, cache_read=50_000), "b") is None
    # a sidechain's own message counts
    assert dedup.add(_entry("m2", "r2", 30, sidechain=True), "c") is not None
    # the replay first, then the parent: the parent replaces it under the same key
    dedup = Dedup()
    replay = dedup.add(_entry("m9", "replay", 10, sidechain=True, cache_read=50_000), "d")
    parent = dedup.add(_entry("m9", "r9", 10, cache_read=20), "e")
    assert replay is not None and parent is not None and replay[0] == parent[0]
    assert parent[1].cache_read_tokens == 20


def test_dedup_lines_without_message_id_always_count() -> None:
    dedup = Dedup()
    assert dedup.add(_entry(None, "r", 1), "l:a:1") == ("l:a:1", _entry(None, "r", 1))
    kept = dedup.add(_entry(None, "r", 1), "l:a:2")
    assert kept is not None and kept[0] == "l:a:2"


def test_claude_reader_on_the_fixture(tmp_path: Path) -> None:
    write_claude_fixture(tmp_path / "claude")
    reader = ClaudeLogReader([tmp_path / "claude"], PRICES)
    records = reader.read_new()
    by_key = {r.key: r for r in records}
    assert by_key["m:msg_1:req_1"].output_tokens == 250  # largest duplicate, replay not added
    assert by_key["m:msg_2:req_2"].cost_usd == 0.5 and by_key["m:msg_2:req_2"].cost_from_upstream
    assert by_key["m:msg_5:req_5"].cost_usd is None  # unknown model: unpriced, never $0
    sub = by_key["m:msg_s1:req_s1"]
    assert (sub.project, sub.session) == ("-work-project", "s1")  # subagent file counts
    # the cut usage line; "not json at all" holds no usage marker and is never decoded
    assert reader.malformed_lines == 1
    one_h = by_key["m:msg_3:req_3"]
    # 1 h writes at 2x input ($6/M), 5 m writes at $3.75/M, reads at $0.30/M
    assert one_h.cost_usd == pytest.approx(
        (20 * 3 + 30 * 15 + 1000 * 3.75 + 3000 * 6 + 1000 * 0.3) / 1e6
    )
    assert sum(1 for r in records if r.key.startswith("l:")) == 2  # no message id: both count
    assert reader.read_new() == []  # nothing new: nothing read
    assert per_day(records)["2026-11-21"]["input"] == 7


def test_claude_reader_reports_a_missing_projects_folder(tmp_path: Path) -> None:
    reader = ClaudeLogReader([tmp_path / "nowhere"], PRICES)
    assert reader.read_new() == []
    assert "no Claude Code projects folder" in reader.missing and "nowhere" in reader.missing


# ---- tailing --------------------------------------------------------------------------------


def _collect(tailer: LogTailer, path: Path) -> list[tuple[bytes, int]]:
    lines: list[tuple[bytes, int]] = []
    tailer.read(path, lambda line, off: lines.append((line, off)))
    return lines


def test_tailer_reads_only_appended_complete_lines(tmp_path: Path) -> None:
    log = tmp_path / "a.jsonl"
    log.write_bytes(b'{"usage":{1}\n{"other":1}\n{"usage":{2}\n{"usage":{par')
    tailer = LogTailer([b'"usage":{'], chunk_bytes=8)  # tiny chunks: lines span reads
    assert _collect(tailer, log) == [(b'{"usage":{1}', 0), (b'{"usage":{2}', 25)]
    read_before = tailer.stats.bytes_read
    assert _collect(tailer, log) == []  # unchanged: not even opened
    assert tailer.stats.bytes_read == read_before
    _append(log, 'tial}\n{"usage":{3}\n')
    assert _collect(tailer, log) == [(b'{"usage":{partial}', 38), (b'{"usage":{3}', 57)]
    assert tailer.stats.bytes_read - read_before == len(b'{"usage":{partial}\n{"usage":{3}\n')


def test_tailer_rereads_truncated_and_replaced_files(tmp_path: Path) -> None:
    log = tmp_path / "a.jsonl"
    log.write_bytes(b'{"usage":{1}\n{"usage":{2}\n')
    tailer = LogTailer([b'"usage":{'])
    resets: list[int] = []
    assert len(_collect(tailer, log)) == 2
    log.write_bytes(b'{"usage":{9}\n')  # truncated in place and rewritten
    lines: list[tuple[bytes, int]] = []
    tailer.read(
        log, lambda line, off: lines.append((line, off)), lambda old: resets.append(old.offset)
    )
    assert lines == [(b'{"usage":{9}', 0)] and resets == [26]
    replacement = tmp_path / "b.tmp"
    replacement.write_bytes(b'{"usage":{7}\n{"usage":{8}\n{"usage":{9}\n')
    os.replace(replacement, log)  # a new inode with more bytes than we read
    assert [off for _l, off in _collect(tailer, log)] == [0, 13, 26]


def test_tailer_skips_an_overlong_line_and_goes_on(tmp_path: Path) -> None:
    log = tmp_path / "a.jsonl"
    log.write_bytes(b'{"usage":{' + b"x" * 5000 + b'}\n{"usage":{ok}\n')
    tailer = LogTailer([b'"usage":{'], chunk_bytes=512, max_line=1024)
    assert _collect(tailer, log) == [(b'{"usage":{ok}', 5012)]
    assert tailer.stats.overlong_lines == 1


def test_tailer_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    tailer = LogTailer([b"x"])
    assert _collect(tailer, fifo) == []  # never blocks
    assert "regular file" in tailer.stats.unreadable[str(fifo)]


def test_resume_state_reads_only_what_is_new(tmp_path: Path) -> None:
    files = write_claude_fixture(tmp_path / "claude")
    first = ClaudeLogReader([tmp_path / "claude"], PRICES)
    assert len(first.read_new()) > 5
    state = first.save_state()
    _append(files["other"], claude_line("2026-11-23T01:00:00Z", "new", "r", SONNET, 1, 2) + "\n")
    second = ClaudeLogReader([tmp_path / "claude"], PRICES)
    second.load_state(state)
    assert [r.key for r in second.read_new()] == ["m:new:r"]
    assert second.tailer.stats.bytes_read < 1000


# ---- codex ----------------------------------------------------------------------------------


def test_codex_reader_on_the_fixture(tmp_path: Path) -> None:
    write_codex_fixture(tmp_path / "codex")
    reader = CodexLogReader([tmp_path / "codex"], PRICES)
    records = reader.read_new()
    days = per_day(records)
    # 1000/200 + delta 4000/2800 + 20000/18000: uncached 4000, cached 21000 (archived copy once)
    assert (days["2026-11-20"]["input"], days["2026-11-20"]["cache_read"]) == (4000, 21000)
    assert days["2026-11-21"]["unpriced"] == 1  # gpt-imaginary-9
    fallback = [r for r in records if r.session.startswith("rollout-2026-11-22")]
    assert [r.model for r in fallback] == ["gpt-5"] and reader.fallback_model_turns == 1
    first = next(r for r in records if r.input_tokens == 800)
    assert first.cost_usd == pytest.approx((800 * 1.25 + 200 * 0.125 + 300 * 10) / 1e6)


def test_codex_resume_keeps_the_running_total_and_model(tmp_path: Path) -> None:
    home = tmp_path / "codex"
    session = home / "sessions" / "s.jsonl"
    session.parent.mkdir(parents=True)
    session.write_text(
        codex_turn_context("2026-11-20T09:00:00Z", "gpt-5-mini") + "\n"
        + codex_token_count("2026-11-20T09:00:01Z", None, codex_usage(100, 0, 10)) + "\n"
    )  # fmt: skip
    first = CodexLogReader([home], PRICES)
    assert [r.input_tokens for r in first.read_new()] == [100]
    state = first.save_state()
    _append(
        session, codex_token_count("2026-11-20T09:00:02Z", None, codex_usage(160, 0, 15)) + "\n"
    )
    second = CodexLogReader([home], PRICES)
    second.load_state(state)
    [rec] = second.read_new()
    assert (rec.input_tokens, rec.output_tokens, rec.model) == (60, 5, "gpt-5-mini")


# ---- locations ------------------------------------------------------------------------------


def test_location_rules(tmp_path: Path) -> None:
    home = {"HOME": str(tmp_path), "USERPROFILE": str(tmp_path)}
    assert claude_config_dirs(home) == [tmp_path / ".config" / "claude", tmp_path / ".claude"]
    xdg = {**home, "XDG_CONFIG_HOME": str(tmp_path / "x")}
    assert claude_config_dirs(xdg)[0] == tmp_path / "x" / "claude"
    assert claude_config_dirs({**home, "CLAUDE_CONFIG_DIR": " /a , ,/b"}) == [
        Path("/a"),
        Path("/b"),
    ]
    assert codex_homes(home) == [tmp_path / ".codex"]
    assert codex_homes({**home, "CODEX_HOME": "/c,/d"}) == [Path("/c"), Path("/d")]


# ---- live: inotify on the folder tree -------------------------------------------------------


def _drain(event: threading.Event, quiet_s: float = 0.2) -> None:
    """Clear ``event`` until it stays clear for ``quiet_s`` (bounded: 50 rounds)."""
    for _ in range(50):
        event.clear()
        if not event.wait(quiet_s):
            return
    raise AssertionError("the watcher never went quiet")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux only")
def test_tree_watcher_wakes_on_appends_and_on_folders_created_later(tmp_path: Path) -> None:
    woke = threading.Event()
    watcher = TreeWatcher(woke.set)
    project = tmp_path / "projects" / "p"
    project.mkdir(parents=True)
    log = project / "s.jsonl"
    log.write_text("")
    assert watcher.start()
    try:
        watcher.sync([str(tmp_path / "projects"), str(project)])
        _append(log, "{}\n")
        assert woke.wait(30), "no wake on an append"
        _drain(woke)  # the append's later events (close-write) may still be on their way
        (project / "notes.txt").write_text("x")  # not a log: no wake
        assert not woke.wait(0.3)
        sub = project / "s" / "subagents"
        sub.mkdir(parents=True)
        assert woke.wait(30), "no wake on a new folder"
        woke.clear()
        watcher.sync([str(tmp_path / "projects"), str(project), str(project / "s"), str(sub)])
        _append(sub / "agent.jsonl", "{}\n")
        assert woke.wait(30), "no wake in a folder created later"
        assert watcher.watched == 4
    finally:
        watcher.stop()
    assert not watcher.active


def test_codex_replaced_file_starts_its_running_total_afresh(tmp_path: Path) -> None:
    home = tmp_path / "codex"
    session = home / "sessions" / "s.jsonl"
    session.parent.mkdir(parents=True)
    first = codex_token_count("2026-11-20T09:00:01Z", None, codex_usage(1000, 0, 100)) + "\n"
    session.write_text(first)
    reader = CodexLogReader([home], PRICES)
    assert [r.input_tokens for r in reader.read_new()] == [1000]
    # the file is rewritten (another inode) with a smaller running total: counted from zero,
    # not as a negative (or zero) difference against the old file's total
    replacement = tmp_path / "new.jsonl"
    replacement.write_text(
        codex_token_count("2026-11-20T10:00:01Z", None, codex_usage(300, 0, 30)) + "\n"
    )
    os.replace(replacement, session)
    [rec] = reader.read_new()
    assert (rec.input_tokens, rec.output_tokens) == (300, 30)


def test_a_projects_folder_that_cannot_be_listed_is_named(tmp_path: Path) -> None:
    (tmp_path / "claude").mkdir()
    (tmp_path / "claude" / "projects").write_text("not a folder")
    reader = ClaudeLogReader([tmp_path / "claude"], PRICES)
    assert reader.read_new() == []
    assert "projects" in reader.missing and "Not a directory" in reader.missing


def test_dedup_forgets_old_groups_and_asks_the_history_only_about_old_entries() -> None:
    day = 86_400 * 10**9

    def at(ts_ns: int, mid: str, rid: str, out: int, *, sidechain: bool = False) -> ClaudeEntry:
        return _entry(mid, rid, out, sidechain=sidechain)._replace(ts_ns=ts_ns)

    history: dict[str, list[tuple[str, int]]] = {}
    asked: list[str] = []

    def lookup(mid: str) -> list[tuple[str, int]]:
        asked.append(mid)
        return history.get(mid, [])

    dedup = Dedup()
    dedup.lookup = lookup
    for n in range(10):
        kept = dedup.add(at(n * day, f"m{n}", "r", 10), "-")
        assert kept is not None
        history[f"m{n}"] = [("r", kept[1].total)]
    assert asked == []  # nothing was forgotten yet: no query
    assert dedup.compact(8 * day) == 8 and len(dedup) == 2
    # a sidechain replay of a forgotten request: the history knows it, it counts once
    assert dedup.add(at(3 * day, "m3", "replay", 99, sidechain=True), "-") is None
    # a smaller rewrite of a forgotten request: not a new request, not a replacement
    assert dedup.add(at(2 * day, "m2", "r", 1), "-") is None
    assert asked == ["m3", "m2"]
    # a request newer than what was forgotten is new: no query for it
    assert dedup.add(at(20 * day, "new", "r", 5), "-") is not None
    assert asked == ["m3", "m2"]


def test_codex_priority_tier_costs_double_from_config_or_as_recorded(tmp_path: Path) -> None:
    home = tmp_path / "codex"
    session = home / "sessions" / "s.jsonl"
    session.parent.mkdir(parents=True)
    session.write_text(
        codex_turn_context("2026-11-20T09:00:00Z", "gpt-5") + "\n"
        + codex_token_count("2026-11-20T09:00:01Z", codex_usage(1000, 0, 100), None) + "\n"
    )  # fmt: skip
    standard = (1000 * 1.25 + 100 * 10) / 1e6
    [rec] = CodexLogReader([home], PRICES).read_new()
    assert rec.cost_usd == pytest.approx(standard)
    (home / "config.toml").write_text('model = "gpt-5"\nservice_tier = "priority" # faster\n')
    [rec] = CodexLogReader([home], PRICES).read_new()
    assert rec.cost_usd == pytest.approx(2 * standard)
    # a tier the session recorded wins over the config
    recorded = codex_turn_context("2026-11-20T10:00:00Z", "gpt-5").replace(
        '"model":"gpt-5"', '"model":"gpt-5","service_tier":"default"'
    )
    _append(session, recorded + "\n")
    _append(
        session, codex_token_count("2026-11-20T10:00:01Z", codex_usage(1000, 0, 100), None) + "\n"
    )
    records = CodexLogReader([home], PRICES).read_new()
    assert [r.cost_usd for r in records] == pytest.approx([2 * standard, standard])


def test_a_polling_pass_looks_only_at_new_and_recently_written_files(tmp_path: Path) -> None:
    files = write_claude_fixture(tmp_path / "claude")
    old = 1_700_000_000  # files last written long ago
    for f in files.values():
        os.utime(f, (old, old))
    reader = ClaudeLogReader([tmp_path / "claude"], PRICES)
    assert len(reader.read_new()) == 11  # the first pass is a full one
    since = (old + 3600) * 10**9
    # an append to a quiet file: a polling pass does not even stat it; a full pass reads it
    _append(files["other"], claude_line("2026-11-23T01:00:00Z", "late", "r", SONNET, 1, 2) + "\n")
    os.utime(files["other"], (old, old))
    # a new file is always looked at
    new = tmp_path / "claude" / "projects" / "-work-new" / "s9.jsonl"
    new.parent.mkdir()
    new.write_text(claude_line("2026-11-23T02:00:00Z", "fresh", "r", SONNET, 1, 2) + "\n")
    assert [r.key for r in reader.read_new(active_since_ns=since)] == ["m:fresh:r"]
    assert [r.key for r in reader.read_new()] == ["m:late:r"]


def test_claude_records_carry_git_branch_and_an_odd_branch_is_unknown(tmp_path: Path) -> None:
    projects = tmp_path / "claude" / "projects" / "-work-project"
    projects.mkdir(parents=True)
    lines = [
        claude_line("2026-11-20T09:00:00Z", "m1", "r1", SONNET, 1, 1, branch="feature/views"),
        claude_line("2026-11-20T09:01:00Z", "m2", "r2", SONNET, 1, 1, branch=42),  # not text
        claude_line("2026-11-20T09:02:00Z", "m3", "r3", SONNET, 1, 1),  # no gitBranch
        claude_line("2026-11-20T09:03:00Z", "m4", "r4", SONNET, 1, 1, branch="b" * 300),
    ]
    (projects / "s1.jsonl").write_text("\n".join(lines) + "\n")
    reader = ClaudeLogReader([tmp_path / "claude"], PRICES)
    branches = {r.key: r.branch for r in reader.read_new()}
    assert branches == {
        "m:m1:r1": "feature/views",
        "m:m2:r2": "",  # counted all the same
        "m:m3:r3": "",
        "m:m4:r4": "b" * 256,  # bounded
    }
    assert reader.malformed_lines == 0


def test_codex_records_carry_the_workspace_as_their_project(tmp_path: Path) -> None:
    home = tmp_path / "codex"
    session = home / "sessions" / "s.jsonl"
    session.parent.mkdir(parents=True)
    session.write_text(
        codex_turn_context("2026-11-20T09:00:00Z", "gpt-5", cwd="/home/me/alpha") + "\n"
        + codex_token_count("2026-11-20T09:00:01Z", codex_usage(100, 0, 10), None) + "\n"
        + codex_turn_context("2026-11-20T09:05:00Z", "gpt-5", cwd=7) + "\n"  # not a path
        + codex_token_count("2026-11-20T09:05:01Z", codex_usage(50, 0, 5), None) + "\n"
    )  # fmt: skip
    first = CodexLogReader([home], PRICES)
    assert [r.project for r in first.read_new()] == ["/home/me/alpha", "/home/me/alpha"]
    assert first.malformed_lines == 0
    state = first.save_state()
    _append(session, codex_token_count("2026-11-20T09:09:00Z", codex_usage(9, 0, 1), None) + "\n")
    second = CodexLogReader([home], PRICES)
    second.load_state(state)  # a restart resumes mid-session: the workspace is remembered
    assert [r.project for r in second.read_new()] == ["/home/me/alpha"]
