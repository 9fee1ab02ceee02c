"""The agents that keep SQLite databases or whole JSON files (OpenCode, ...) end to end: their
location rules, the command line, history and resume, read-only access, bad input."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from burntray.app import AppContext
from burntray.cli import main
from burntray.model.pricing import build_price_table
from burntray.sources.agent_logs.stores import StoreSource
from burntray.sources.ampcode.paths import amp_data_dirs
from burntray.sources.build import build_source
from burntray.sources.codebuff.paths import codebuff_project_dirs
from burntray.sources.copilot.paths import copilot_exporter_file, copilot_otel_dir
from burntray.sources.droid.paths import droid_session_dirs
from burntray.sources.gemini.paths import gemini_data_dirs
from burntray.sources.gemini.reader import GeminiReader
from burntray.sources.goose.paths import goose_databases
from burntray.sources.hermes.paths import hermes_state_dbs
from burntray.sources.kilo.paths import kilo_data_dirs
from burntray.sources.kimi.paths import kimi_data_dirs
from burntray.sources.openclaw.paths import openclaw_dirs
from burntray.sources.opencode import WATCHED
from burntray.sources.opencode.paths import opencode_data_dirs
from burntray.sources.opencode.reader import OpenCodeReader
from burntray.sources.pi_agent.paths import pi_session_dirs
from burntray.sources.qwen.paths import qwen_data_dirs
from burntray.store.history import HistoryStore
from tests.agent_logs_support import (
    _compact,
    amp_reply,
    amp_thread,
    codebuff_reply,
    copilot_agent_span,
    copilot_chat_span,
    copilot_inference_log,
    copilot_usage,
    droid_settings,
    droid_usage,
    gemini_reply,
    gemini_session,
    gemini_tokens,
    goose_db,
    goose_put,
    hermes_db,
    hermes_put,
    kimi_status,
    openclaw_message,
    opencode_db,
    opencode_message,
    opencode_put,
    pi_message,
    qwen_reply,
    write_gemini_fixture,
    write_opencode_fixture,
)
from tests.cburn_daemon import free_port
from tests.otel_senders import Sender, gemini_request
from tests.processes import wait_for

SONNET = "claude-sonnet-4-5-20250929"
NOW_NS = int(dt.datetime(2026, 11, 23, tzinfo=dt.UTC).timestamp()) * 10**9
WEEK_NS = 7 * 86_400 * 10**9
HOUR_NS = 3600 * 10**9


def _now_ms(minutes_ago: int = 0) -> int:
    return int((dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)).timestamp() * 1000)


def test_opencode_location_follows_its_env_and_xdg_rules(tmp_path: Path) -> None:
    home = {"HOME": str(tmp_path)}
    assert opencode_data_dirs(home) == [tmp_path / ".local" / "share" / "opencode"]
    xdg = {**home, "XDG_DATA_HOME": str(tmp_path / "data")}
    assert opencode_data_dirs(xdg) == [tmp_path / "data" / "opencode"]
    both = {**xdg, "OPENCODE_DATA_DIR": f"{tmp_path}/a, {tmp_path}/b"}
    assert opencode_data_dirs(both) == [tmp_path / "a", tmp_path / "b"]


def test_opencode_status_counts_its_messages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The isolated XDG_DATA_HOME is where OpenCode keeps its data: no setting needed."""
    data = Path(os.environ["XDG_DATA_HOME"]) / "opencode"
    conn = opencode_db(data / "opencode.db")
    opencode_put(conn, "m1", "s1", opencode_message(_now_ms(10), "anthropic", SONNET, 1000, 100))
    opencode_put(conn, "m2", "s1", opencode_message(_now_ms(5), "openai", "gpt-5", 10, 20,
                                                   cost=0.25))  # fmt: skip
    opencode_put(conn, "m3", "s2", opencode_message(_now_ms(4), "acme", "imaginary-9", 1, 1))
    conn.close()
    assert main(["status", "--source", "opencode", "--window", "1h", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    totals = out["totals"]
    assert totals["reqs"] == 3 and totals["unpriced_reqs"] == 1
    assert totals["cost_usd"] == pytest.approx((1000 * 3 + 100 * 15) / 1e6 + 0.25)
    assert main(["status", "--by", "session", "--source", "opencode", "--window", "1h"]) == 0
    table = capsys.readouterr().out
    assert "s1" in table and "s2" in table
    assert main(["status", "--source", "all", "--window", "1h", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["reqs"] == 3


def test_opencode_source_keeps_history_resumes_and_never_writes(tmp_path: Path) -> None:
    data = tmp_path / "opencode"
    conn = write_opencode_fixture(data)
    conn.close()  # OpenCode quits: its -wal is checkpointed away
    before = sorted(os.listdir(data))
    history = HistoryStore(tmp_path / "h.sqlite3")
    reader = OpenCodeReader([data], build_price_table())
    source = StoreSource("opencode", "OpenCode", reader, [data], history, lambda: NOW_NS)
    assert source.poll()
    snap = source.snapshot(WEEK_NS)
    assert snap.status.state == "ok" and snap.totals.reqs == 6
    assert snap.totals.unpriced_reqs == 1
    facts = {f.label: f.value for f in snap.facts}
    assert facts["Malformed lines"].startswith("2 skipped")
    source.close()
    history.close()
    assert sorted(os.listdir(data)) == before  # nothing created beside their database
    # a restart: nothing changed, nothing is read again; a new message is
    conn = sqlite3.connect(data / "opencode.db")
    opencode_put(conn, "msg_new", "ses_a", opencode_message(
        int(NOW_NS / 1e6) - 60_000, "anthropic", SONNET, 1, 2))  # fmt: skip
    conn.close()
    history = HistoryStore(tmp_path / "h.sqlite3")
    reader = OpenCodeReader([data], build_price_table())
    again = StoreSource("opencode", "OpenCode", reader, [data], history, lambda: NOW_NS)
    assert again.poll()
    assert again.snapshot(WEEK_NS).totals.reqs == 7
    # the rows updated at or after the newest one read before, and no JSON file again
    assert reader.rows_read <= 2 and reader.files_read == 0
    history.close()


def test_opencode_bad_database_is_named_and_json_messages_still_count(tmp_path: Path) -> None:
    data = tmp_path / "opencode"
    legacy = data / "storage" / "message" / "s"
    legacy.mkdir(parents=True)
    (data / "opencode.db").write_bytes(b"not a database at all" * 10)
    msg = opencode_message(NOW_NS // 10**6 - 60_000, "anthropic", SONNET, 5, 5, msg_id="m")
    (legacy / "m.json").write_text(json.dumps(msg))
    reader = OpenCodeReader([data], build_price_table())
    source = StoreSource("opencode", "OpenCode", reader, [data], None, lambda: NOW_NS, watch=False)
    source.poll()
    snap = source.snapshot(WEEK_NS)
    assert snap.totals.reqs == 1
    assert snap.status.partial and "not a SQLite database" in snap.status.detail


def test_opencode_source_wakes_when_the_database_changes(tmp_path: Path) -> None:
    data = tmp_path / "opencode"
    conn = write_opencode_fixture(data)
    woke = threading.Event()
    reader = OpenCodeReader([data], build_price_table())
    source = StoreSource("opencode", "OpenCode", reader, [data], None, lambda: NOW_NS,
                         watch_suffixes=WATCHED)  # fmt: skip
    source.start(woke.set)
    try:
        source.poll()
        woke.clear()
        opencode_put(conn, "msg_live", "ses_a", opencode_message(
            int(NOW_NS / 1e6) - 1000, "anthropic", SONNET, 1, 1))  # fmt: skip
        assert woke.wait(30)
        assert source.poll()
        assert source.snapshot(WEEK_NS).totals.reqs == 7
    finally:
        source.close()
        conn.close()


# ---- Gemini CLI ---------------------------------------------------------------------------


def test_gemini_location_follows_its_env_rules(tmp_path: Path) -> None:
    home = {"HOME": str(tmp_path)}
    assert gemini_data_dirs(home) == [tmp_path / ".gemini" / "tmp"]
    cli_home = {**home, "GEMINI_CLI_HOME": str(tmp_path / "g")}
    assert gemini_data_dirs(cli_home) == [tmp_path / "g" / ".gemini" / "tmp"]
    both = {**cli_home, "GEMINI_DATA_DIR": f"{tmp_path}/x"}
    assert gemini_data_dirs(both) == [tmp_path / "x"]


def _gemini_now(home: Path, minutes_ago: int, msg_id: str, inp: int, out: int) -> Path:
    chats = home / ".gemini" / "tmp" / "hash1" / "chats"
    chats.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)
    ts = stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    path = chats / "session-now.json"
    messages = json.loads(path.read_text())["messages"] if path.exists() else []
    messages.append(gemini_reply(msg_id, ts, "gemini-2.5-pro", gemini_tokens(inp, out)))
    path.write_text(gemini_session("sess-now", ts, messages))
    return path


def test_gemini_files_and_its_otlp_events_count_once_under_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Gemini CLI writes its chats and (with telemetry on) pushes the same requests over OTLP:
    ``all`` counts them once, from its files, and shows the receiver's copy apart."""
    home = Path(os.environ["HOME"])
    _gemini_now(home, 5, "g1", 1000, 100)
    assert main(["status", "--source", "gemini", "--window", "1h", "--format", "json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert totals["reqs"] == 1 and totals["cost_usd"] == pytest.approx(
        (1000 * 1.25 + 100 * 10) / 1e6
    )
    ctx = AppContext.load()
    port = free_port()
    on = ctx.source_context(ctx.settings.replace(
        options={"otel.listen": f"127.0.0.1:{port}", "otel.enabled": True}))  # fmt: skip
    combined = build_source("all", on)
    try:
        combined.start(lambda: None)
        with Sender("gemini-cli", f"http://127.0.0.1:{port}", "protobuf", "delta") as sender:
            gemini_request(sender, session="sess-now", model="gemini-2.5-pro", inp=1000,
                           cached=0, out=100, thoughts=0)  # fmt: skip

        def both_seen() -> bool:
            combined.poll()
            parts = {p.source: p for p in combined.snapshot(HOUR_NS).by_source}
            otel = parts.get("otel/gemini-cli")
            return otel is not None and otel.totals.reqs == 1

        wait_for(both_seen, 10, "the OTLP copy of the Gemini CLI request")
        snap = combined.snapshot(HOUR_NS)
        assert snap.totals.reqs == 1  # once, not twice
        parts = {p.source: p for p in snap.by_source}
        assert parts["gemini"].covered_by == "" and parts["otel/gemini-cli"].covered_by == "gemini"
    finally:
        combined.close()
        ctx.close()


def test_gemini_source_reads_only_changed_files_and_names_bad_ones(tmp_path: Path) -> None:
    data = tmp_path / "gemini"
    files = write_gemini_fixture(data)
    (data / "huge-but-fine.json").write_text("{" + " " * 100 + "}")
    bad = data / "not-json.json"
    bad.write_text("{nope")
    reader = GeminiReader([data], build_price_table())
    source = StoreSource("gemini", "Gemini CLI", reader, [data], None, lambda: NOW_NS, watch=False)
    source.poll()
    first = reader.files_read
    snap = source.snapshot(WEEK_NS)
    assert snap.totals.reqs == 8 and snap.totals.unpriced_reqs == 1
    facts = {f.label: f.value for f in snap.facts}
    assert facts["Malformed lines"].startswith("2 skipped")  # the bad file and the cut line
    source.poll()
    assert reader.files_read == first  # nothing changed: nothing read
    with files["lines"].open("a") as fh:
        line = gemini_reply("b9", "2026-11-22T12:00:00Z", "gemini-2.5-flash", gemini_tokens(10, 5))
        fh.write(json.dumps(line) + "\n")
    source.poll()
    assert reader.files_read == first + 1
    assert source.snapshot(WEEK_NS).totals.reqs == 9


# ---- GitHub Copilot CLI -------------------------------------------------------------------


def test_copilot_location_follows_its_env_rules(tmp_path: Path) -> None:
    home = {"HOME": str(tmp_path)}
    assert copilot_otel_dir(home) == tmp_path / ".copilot" / "otel"
    assert (
        copilot_otel_dir({**home, "COPILOT_HOME": str(tmp_path / "c")}) == tmp_path / "c" / "otel"
    )
    assert copilot_exporter_file(home) is None
    single = {**home, "COPILOT_OTEL_FILE_EXPORTER_PATH": str(tmp_path / "x.jsonl")}
    assert copilot_exporter_file(single) == tmp_path / "x.jsonl"


def test_copilot_status_counts_its_model_calls_once(capsys: pytest.CaptureFixture[str]) -> None:
    otel = Path(os.environ["HOME"]) / ".copilot" / "otel"
    otel.mkdir(parents=True)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    stamp = old.strftime("%Y-%m-%dT%H:%M:%SZ")
    usage = copilot_usage(1000, 100)
    (otel / "s.jsonl").write_text(
        copilot_inference_log("t1", "c1", stamp, "claude-sonnet-4.5", usage, response="r") + "\n"
        + copilot_chat_span("t1", "c1", stamp, "claude-sonnet-4.5", usage, response="r") + "\n"
        + copilot_agent_span("t1", stamp, "claude-sonnet-4.5", usage) + "\n"
    )  # fmt: skip
    assert main(["status", "--source", "copilot", "--window", "1h", "--format", "json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert totals["reqs"] == 1
    assert totals["cost_usd"] == pytest.approx((1000 * 3 + 100 * 15) / 1e6)


# ---- Amp ----------------------------------------------------------------------------------


def test_amp_location_and_status(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert amp_data_dirs({"HOME": str(tmp_path)}) == [tmp_path / ".local" / "share" / "amp"]
    xdg = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "d")}
    assert amp_data_dirs(xdg) == [tmp_path / "d" / "amp"]
    assert amp_data_dirs({**xdg, "AMP_DATA_DIR": str(tmp_path / "a")}) == [tmp_path / "a"]
    threads = Path(os.environ["XDG_DATA_HOME"]) / "amp" / "threads"
    threads.mkdir(parents=True)
    ts = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    (threads / "T-1.json").write_text(amp_thread("T-1", [amp_reply(1, ts, SONNET, 1000, 100)]))
    assert main(["status", "--source", "ampcode", "--window", "1h", "--format", "json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert totals["reqs"] == 1
    assert totals["cost_usd"] == pytest.approx((1000 * 3 + 100 * 15) / 1e6)


# ---- Qwen Code ----------------------------------------------------------------------------


def test_qwen_location_and_status(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert qwen_data_dirs({"HOME": str(tmp_path)}) == [tmp_path / ".qwen"]
    assert qwen_data_dirs({"HOME": "/x", "QWEN_DATA_DIR": f"{tmp_path}/a"}) == [tmp_path / "a"]
    chats = Path(os.environ["HOME"]) / ".qwen" / "projects" / "-w" / "chats"
    chats.mkdir(parents=True)
    ts = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    (chats / "s.jsonl").write_text(
        qwen_reply(ts, "s", "gpt-5", 3000, 100, 2000) + "\n"
        + qwen_reply(ts, "s", "qwen3-coder-plus", 10, 10) + "\n"
    )  # fmt: skip
    assert main(["status", "--source", "qwen", "--window", "1h", "--format", "json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert totals["reqs"] == 2 and totals["unpriced_reqs"] == 1  # no Qwen model is priced
    assert totals["cost_usd"] == pytest.approx((1000 * 1.25 + 2000 * 0.125 + 100 * 10) / 1e6)
    assert main(["report", "--by", "session", "--source", "qwen", "--window", "1d",
                 "--format", "json"]) == 0  # fmt: skip
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [(r["session"], r["project"]) for r in rows] == [("s", "/work/app")]  # its cwd


# ---- Kimi CLI -----------------------------------------------------------------------------


def test_kimi_location_model_and_status(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert kimi_data_dirs({"HOME": str(tmp_path)}) == [tmp_path / ".kimi"]
    assert kimi_data_dirs({"HOME": "/x", "KIMI_DATA_DIR": f"{tmp_path}/k"}) == [tmp_path / "k"]
    root = Path(os.environ["HOME"]) / ".kimi"
    wire = root / "sessions" / "g" / "s1" / "wire.jsonl"
    wire.parent.mkdir(parents=True)
    ts = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    wire.write_text(kimi_status(ts, "m1", 1000, 100) + "\n")
    # no config.json: Kimi's default model, which no table prices (unpriced, not $0)
    assert main(["status", "--source", "kimi", "--window", "1h", "--format", "json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert totals["reqs"] == 1 and totals["unpriced_reqs"] == 1
    (root / "config.json").write_text('{"model": "kimi-k2"}')  # steps read from now on
    with wire.open("a") as fh:
        fh.write(kimi_status(ts, "m2", 1000, 100) + "\n")
    assert main(["status", "--source", "kimi", "--window", "1h", "--format", "json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert totals["reqs"] == 2 and totals["unpriced_reqs"] == 1
    assert totals["cost_usd"] == pytest.approx((1000 * 0.6 + 100 * 2.5) / 1e6)


# ---- Factory Droid ------------------------------------------------------------------------


def test_droid_counts_what_a_session_adds_across_restarts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert droid_session_dirs({"HOME": str(tmp_path)}) == [tmp_path / ".factory" / "sessions"]
    sessions = Path(os.environ["HOME"]) / ".factory" / "sessions" / "-w"
    sessions.mkdir(parents=True)
    at = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    settings = sessions / "s1.settings.json"
    settings.write_text(
        droid_settings("claude-sonnet-4-5", "anthropic", at, droid_usage(1000, 100))
    )
    assert main(["status", "--source", "droid", "--window", "1h", "--format", "json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert (totals["reqs"], totals["input_tokens"]) == (1, 1000)
    # the session goes on; the next run (a restart) records only what it added
    settings.write_text(
        droid_settings("claude-sonnet-4-5", "anthropic", at, droid_usage(1500, 300))
    )
    assert main(["status", "--source", "droid", "--window", "1h", "--format", "json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert (totals["reqs"], totals["input_tokens"], totals["output_tokens"]) == (2, 1500, 300)
    assert totals["cost_usd"] == pytest.approx((1500 * 3 + 300 * 15) / 1e6)


# ---- Codebuff -----------------------------------------------------------------------------


def test_codebuff_location_and_status(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    home = {"HOME": str(tmp_path)}
    assert codebuff_project_dirs(home) == [
        tmp_path / ".config" / c / "projects"
        for c in ("manicode", "manicode-dev", "manicode-staging")
    ]
    env = {**home, "CODEBUFF_DATA_DIR": f"{tmp_path}/a,{tmp_path}/b/projects"}
    assert codebuff_project_dirs(env) == [tmp_path / "a" / "projects", tmp_path / "b" / "projects"]
    chat = (Path(os.environ["HOME"]) / ".config" / "manicode" / "projects" / "app" / "chats"
            / "2026-01-01T00-00-00.000Z" / "chat-messages.json")  # fmt: skip
    chat.parent.mkdir(parents=True)
    ts = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    usage = {"inputTokens": 1000, "outputTokens": 100}
    chat.write_text(json.dumps([codebuff_reply("m1", ts, SONNET, usage)]))
    assert main(["status", "--source", "codebuff", "--window", "1h", "--format", "json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert totals["reqs"] == 1
    assert totals["cost_usd"] == pytest.approx((1000 * 3 + 100 * 15) / 1e6)


# ---- pi -----------------------------------------------------------------------------------


def test_pi_location_and_status(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert pi_session_dirs({"HOME": str(tmp_path)}) == [tmp_path / ".pi" / "agent" / "sessions"]
    assert pi_session_dirs({"HOME": "/x", "PI_AGENT_DIR": f"{tmp_path}/s"}) == [tmp_path / "s"]
    log = Path(os.environ["HOME"]) / ".pi" / "agent" / "sessions" / "--w--" / "t_s1.jsonl"
    log.parent.mkdir(parents=True)
    ts = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    log.write_text(pi_message(ts, "anthropic", SONNET, 1000, 100) + "\n"
                   + pi_message(ts, "openai", "gpt-5", 1, 1, cost=0.5) + "\n")  # fmt: skip
    assert main(["status", "--source", "pi-agent", "--window", "1h", "--format", "json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert totals["reqs"] == 2
    assert totals["cost_usd"] == pytest.approx((1000 * 3 + 100 * 15) / 1e6 + 0.5)


# ---- Kilo ---------------------------------------------------------------------------------


def test_kilo_location_and_status(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert kilo_data_dirs({"HOME": str(tmp_path)}) == [tmp_path / ".local" / "share" / "kilo"]
    xdg = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "d")}
    assert kilo_data_dirs(xdg) == [tmp_path / "d" / "kilo"]
    assert kilo_data_dirs({**xdg, "KILO_DATA_DIR": str(tmp_path / "k")}) == [tmp_path / "k"]
    conn = opencode_db(Path(os.environ["XDG_DATA_HOME"]) / "kilo" / "kilo.db")
    seconds = int(time.time()) - 120  # Kilo may write seconds
    opencode_put(conn, "m1", "s1", opencode_message(seconds, "anthropic", SONNET, 1000, 100))
    conn.close()
    assert main(["status", "--source", "kilo", "--window", "1h", "--format", "json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert totals["reqs"] == 1
    assert totals["cost_usd"] == pytest.approx((1000 * 3 + 100 * 15) / 1e6)


# ---- Goose --------------------------------------------------------------------------------


def test_goose_location_and_what_a_session_adds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert goose_databases({"HOME": "/h", "GOOSE_PATH_ROOT": str(tmp_path)}) == [
        tmp_path / "data" / "sessions" / "sessions.db"
    ]
    assert goose_databases({"HOME": str(tmp_path)})[0] == (
        tmp_path / ".local" / "share" / "goose" / "sessions" / "sessions.db"
    )
    db = Path(os.environ["XDG_DATA_HOME"]) / "goose" / "sessions" / "sessions.db"
    conn = goose_db(db)
    created = int(time.time()) - 1800
    goose_put(conn, "s1", SONNET, "anthropic", str(created), (1000, 100, 1100))
    conn.close()
    assert main(["status", "--source", "goose", "--window", "1h", "--format", "json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert (totals["reqs"], totals["input_tokens"]) == (1, 1000)
    conn = sqlite3.connect(db)
    goose_put(conn, "s1", SONNET, "anthropic", str(created), (1500, 300, 1800))
    conn.close()
    assert main(["status", "--source", "goose", "--window", "1h", "--format", "json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert (totals["reqs"], totals["input_tokens"], totals["output_tokens"]) == (2, 1500, 300)
    assert totals["cost_usd"] == pytest.approx((1500 * 3 + 300 * 15) / 1e6)


# ---- Hermes Agent -------------------------------------------------------------------------


def test_hermes_location_and_status(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert hermes_state_dbs({"HOME": str(tmp_path)}) == [tmp_path / ".hermes" / "state.db"]
    two = {"HOME": "/h", "HERMES_HOME": f"{tmp_path}/a,{tmp_path}/b"}
    assert hermes_state_dbs(two) == [tmp_path / "a" / "state.db", tmp_path / "b" / "state.db"]
    conn = hermes_db(Path(os.environ["HOME"]) / ".hermes" / "state.db")
    hermes_put(conn, "s1", SONNET, "anthropic", time.time() - 600, (1000, 100, 0, 0, 0))
    hermes_put(conn, "s2", SONNET, "anthropic", time.time() - 600, (1, 1, 0, 0, 0), cost=0.5)
    conn.close()
    assert main(["status", "--source", "hermes", "--window", "1h", "--format", "json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert totals["reqs"] == 2
    assert totals["cost_usd"] == pytest.approx((1000 * 3 + 100 * 15) / 1e6 + 0.5)


# ---- OpenClaw -----------------------------------------------------------------------------


def test_openclaw_location_and_status(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert openclaw_dirs({"HOME": str(tmp_path)})[0] == tmp_path / ".openclaw"
    assert openclaw_dirs({"HOME": "/h", "OPENCLAW_DIR": f"{tmp_path}/o"}) == [tmp_path / "o"]
    sessions = Path(os.environ["HOME"]) / ".clawdbot" / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True)
    now_ms = int(time.time() * 1000) - 60_000
    (sessions / "s1.jsonl").write_text(
        _compact({"type": "model_change", "provider": "anthropic", "modelId": SONNET}) + "\n"
        + openclaw_message(now_ms, 1000, 100) + "\n"
    )  # fmt: skip
    assert main(["status", "--source", "openclaw", "--window", "1h", "--format", "json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert totals["reqs"] == 1
    assert totals["cost_usd"] == pytest.approx((1000 * 3 + 100 * 15) / 1e6)
