"""The claude and codex sources end to end: history, resume after a restart, live wake, `all`."""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
from pathlib import Path

import pytest

from burntray.cli import main
from burntray.model.pricing import build_price_table
from burntray.sources.agent_logs.source import claude_source
from burntray.sources.codex.source import codex_source
from burntray.store.history import HistoryStore
from tests.agent_logs_support import claude_line, write_claude_fixture, write_codex_fixture

SONNET = "claude-sonnet-4-5-20250929"
DAY_NS = 86_400 * 10**9
# the fixtures' requests are on 2026-11-20..22; "now" a day later
NOW_NS = int(dt.datetime(2026, 11, 23, tzinfo=dt.UTC).timestamp()) * 10**9
WEEK_NS = 7 * DAY_NS


def _append(path: Path, text: str) -> None:
    with path.open("a") as fh:
        fh.write(text)


def test_claude_source_keeps_records_in_history_and_resumes(tmp_path: Path) -> None:
    files = write_claude_fixture(tmp_path / "claude")
    history = HistoryStore(tmp_path / "h.sqlite3")
    source = claude_source([tmp_path / "claude"], build_price_table(), history, lambda: NOW_NS)
    assert source.poll()
    snap = source.snapshot(WEEK_NS)
    assert snap.status.state == "ok" and snap.history_used
    assert snap.totals.reqs == 11 and snap.totals.unpriced_reqs == 1
    assert snap.totals.input_tokens == 250_185 + 7 + 1002
    assert snap.capabilities.real_tokens
    labels = {f.label for f in snap.facts}
    assert {"Log files", "Prices"} <= labels and "Malformed lines" in labels
    source.close()
    history.close()
    # a restart: the offsets come back from the history, only the new line is read
    _append(files["other"], claude_line("2026-11-22T20:00:00Z", "new", "r", SONNET, 1, 2) + "\n")
    history = HistoryStore(tmp_path / "h.sqlite3")
    again = claude_source([tmp_path / "claude"], build_price_table(), history, lambda: NOW_NS)
    again.poll()
    assert again.reader.tailer.stats.bytes_read < 2000
    assert again.snapshot(WEEK_NS).totals.reqs == 12
    history.close()


def test_no_logs_is_empty_not_an_error(tmp_path: Path) -> None:
    source = codex_source([tmp_path / "nowhere"], build_price_table(), None, lambda: NOW_NS)
    source.poll()
    assert source.status.state == "empty"
    assert "no Codex sessions folder" in source.status.detail


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux only")
def test_claude_source_wakes_on_an_appended_line(tmp_path: Path) -> None:
    files = write_claude_fixture(tmp_path / "claude")
    woke = threading.Event()
    source = claude_source([tmp_path / "claude"], build_price_table(), None, lambda: NOW_NS)
    source.start(woke.set)
    try:
        source.poll()
        woke.clear()
        _append(
            files["subagent"], claude_line("2026-11-22T21:00:00Z", "x", "y", SONNET, 1, 1) + "\n"
        )
        assert woke.wait(30)
        assert source.poll()
        assert source.snapshot(WEEK_NS).totals.reqs == 12
        live = next(f.value for f in source.facts() if f.label == "Live")
        assert live.startswith("inotify on")
    finally:
        source.close()


def test_cli_status_all_counts_the_logs_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    now = dt.datetime.now(dt.UTC)
    claude_dir = tmp_path / "claude"
    log = claude_dir / "projects" / "p" / "s.jsonl"
    log.parent.mkdir(parents=True)
    stamp = (now - dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    log.write_text(claude_line(stamp, "a", "b", SONNET, 1000, 100, 0, 0) + "\n")
    write_codex_fixture(tmp_path / "codex")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude_dir))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))
    assert main(["status", "--source", "claude", "--window", "1h", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["totals"]["reqs"] == 1
    assert out["totals"]["cost_usd"] == pytest.approx((1000 * 3 + 100 * 15) / 1e6)
    assert main(["status", "--source", "all", "--window", "1h", "--format", "json"]) == 0
    combined = json.loads(capsys.readouterr().out)
    assert combined["totals"]["reqs"] == 1  # codex's fixture is older than the window


_RECENT_MINUTES = (90, 30, 10)  # how long ago ``_recent_logs``' three requests were made


def _recent_logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dt.datetime:
    """Three Claude requests in the last two hours (one unpriced), as the current block."""
    now = dt.datetime.now(dt.UTC)
    log = tmp_path / "claude" / "projects" / "p" / "sess-1.jsonl"
    log.parent.mkdir(parents=True)

    def stamp(minutes_ago: int) -> str:
        return (now - dt.timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    log.write_text(
        claude_line(stamp(_RECENT_MINUTES[0]), "a", "1", SONNET, 1_000_000, 0) + "\n"
        + claude_line(stamp(_RECENT_MINUTES[1]), "b", "2", SONNET, 0, 100_000) + "\n"
        + claude_line(stamp(_RECENT_MINUTES[2]), "c", "3", "claude-imaginary-9", 5, 5) + "\n"
    )  # fmt: skip
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    return now


def test_status_json_has_the_current_5_hour_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _recent_logs(tmp_path, monkeypatch)
    assert main(["status", "--source", "claude", "--window", "1h", "--format", "json"]) == 0
    block = json.loads(capsys.readouterr().out)["block"]
    assert block["reqs"] == 3 and block["unpriced_reqs"] == 1
    # 1M input (tiered: 200k at $3, 800k at $6) + 100k output at $15
    assert block["cost_usd"] == pytest.approx(0.6 + 4.8 + 1.5)
    assert block["burn_usd_per_hour"] == pytest.approx(6.9 / (80 / 60), rel=1e-3)
    assert block["projected_cost_usd"] > block["cost_usd"]
    start = dt.datetime.fromisoformat(block["start"])
    assert start.minute == 0 and start.second == 0  # blocks start on the hour
    # the tray menu shows it among the source's facts
    source = claude_source([tmp_path / "claude"], build_price_table(), None, watch=False)
    source.poll()
    fact = next(f.value for f in source.facts() if f.label == "5-hour block")
    assert "$6.90" in fact and "/h" in fact and "projected" in fact and "1 unpriced" in fact


def test_report_and_status_by_day_and_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    now = _recent_logs(tmp_path, monkeypatch)
    assert main(["report", "--by", "session", "--source", "claude", "--window", "1d",
                 "--format", "json"]) == 0  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert [r["session"] for r in doc["rows"]] == ["sess-1"]
    assert doc["rows"][0]["project"] == "p" and doc["totals"]["reqs"] == 3
    assert doc["totals"]["input_tokens"] == 1_000_005
    out_file = tmp_path / "days.csv"
    assert main(["report", "--by", "day", "--source", "all", "--window", "1d",
                 "--format", "csv", "--out", str(out_file)]) == 0  # fmt: skip
    assert capsys.readouterr().out.strip() == str(out_file)
    header, *rows = out_file.read_text().splitlines()
    assert header.startswith("date,reqs,input_tokens,output_tokens,cache_write_tokens")
    assert sum(int(r.split(",")[1]) for r in rows) == 3
    # a row per local day the requests fell on (two of them just after midnight)
    days = {(now - dt.timedelta(minutes=m)).astimezone().strftime("%Y-%m-%d")
            for m in _RECENT_MINUTES}  # fmt: skip
    assert {r.split(",")[0] for r in rows} == days
    assert main(["status", "--by", "day", "--source", "claude", "--window", "1d"]) == 0
    table = capsys.readouterr().out
    assert table.startswith("DATE") and "Total" in table and "+1?" in table
    assert main(["status", "--source", "claude", "--format", "csv"]) == 2  # csv needs --by
    assert "--by" in capsys.readouterr().err


def test_codex_source_says_when_it_guessed_the_model(tmp_path: Path) -> None:
    write_codex_fixture(tmp_path / "codex")
    source = codex_source([tmp_path / "codex"], build_price_table(), None, lambda: NOW_NS)
    source.poll()
    facts = {f.label: f.value for f in source.facts()}
    assert facts["Model guessed"].startswith("1 turns")
    assert source.snapshot(WEEK_NS).totals.reqs == 5


def test_after_a_restart_rewrites_and_replays_of_earlier_requests_count_once(
    tmp_path: Path,
) -> None:
    files = write_claude_fixture(tmp_path / "claude")
    history = HistoryStore(tmp_path / "h.sqlite3")
    first = claude_source([tmp_path / "claude"], build_price_table(), history, lambda: NOW_NS)
    first.poll()
    before = first.snapshot(WEEK_NS).totals
    history.close()
    # msg_1/req_1 was read with 250 output tokens. After the restart: a smaller streaming
    # rewrite of it (ignored), a sidechain replay of msg_3 (counted once), a larger rewrite of
    # msg_o1 (replaces it).
    rewrite = claude_line("2026-11-20T09:00:03Z", "msg_1", "req_1", SONNET, 10, 5, 500, 0)
    replay = claude_line(
        "2026-11-20T11:40:00Z", "msg_3", "req_x", SONNET, 10, 999, 0, 0, sidechain=True
    )
    opus = "claude-opus-4-1-20250805"
    larger = claude_line("2026-11-22T08:00:01Z", "msg_o1", "req_o1", opus, 1000, 9000, 3000, 4000)
    _append(files["main"], rewrite + "\n")
    _append(files["subagent"], replay + "\n")
    _append(files["other"], larger + "\n")
    history = HistoryStore(tmp_path / "h.sqlite3")
    again = claude_source([tmp_path / "claude"], build_price_table(), history, lambda: NOW_NS)
    again.poll()
    after = again.snapshot(WEEK_NS).totals
    assert after.reqs == before.reqs
    assert after.output_tokens == before.output_tokens + (9000 - 2000)
    history.close()


def test_config_dirs_override_the_upstream_rule_and_all_covers_cburn(tmp_path: Path) -> None:
    from burntray.config import load_settings
    from burntray.paths import app_paths
    from burntray.sources.all import counted_sources
    from burntray.sources.base import SourceContext
    from burntray.sources.build import build_source
    from burntray.sources.registry import REGISTRY

    write_claude_fixture(tmp_path / "elsewhere")
    write_codex_fixture(tmp_path / "codex-home")
    config = tmp_path / "config.toml"
    claude_dirs, codex_dirs = tmp_path / "elsewhere", tmp_path / "codex-home"
    config.write_text(f'[claude]\ndirs = "{claude_dirs}"\n[codex]\ndirs = "{codex_dirs}"\n')
    settings = load_settings(config)
    # the environment points somewhere else: the config wins
    env = {"HOME": str(tmp_path), "CLAUDE_CONFIG_DIR": str(tmp_path / "nothing")}
    ctx = SourceContext(settings, app_paths(), build_price_table(), env=env)
    assert REGISTRY.get("claude").probe(ctx)[0]
    assert REGISTRY.get("codex").probe(ctx)[0]
    source = build_source("claude", ctx)
    source.poll()
    assert source.snapshot(WEEK_NS, NOW_NS).totals.reqs == 11
    source.close()
    # cburn and ctm summarise the same Claude Code logs: `all` counts ours, shows them covered
    specs = [REGISTRY.get(name) for name in ("cburn", "ctm", "claude", "codex")]
    assert counted_sources(specs) == {"cburn": "claude", "ctm": "claude", "claude": "", "codex": ""}
