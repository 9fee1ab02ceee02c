"""``burntray statusline`` as Claude Code runs it: a real ``python -m burntray`` process fed the
real payloads kept in ccusage's repository (and copies with ``rate_limits``), with Claude Code
logs on disk. It prints one line, exits 0 on any input, records what the session reported, and
never waits on burntray's history; a running monitor sees a new record's windows at once."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from burntray.app import AppContext
from burntray.model.snapshot import Snapshot
from burntray.runtime.monitor import Monitor
from tests.agent_logs_support import claude_line
from tests.processes import burntray

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "statusline"
PAYLOADS = sorted(FIXTURES.glob("ccusage-statusline-test*.json"))
SONNET = "claude-sonnet-4-5-20250929"
# One request of this shape costs $0.09 (6,000 output tokens at Sonnet 4.5's $15 per million).
TOKENS = (0, 6000, 0, 0)


def _stamp(ns: int) -> str:
    return dt.datetime.fromtimestamp(ns / 1e9, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def write_session(config: Path, session: str, times_ns: list[int], project: str = "-p") -> Path:
    """A Claude Code session log with one request at each of ``times_ns``."""
    path = config / "projects" / project / f"{session}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        for ts in times_ns:
            rid = f"{session}-{ts}"
            line = claude_line(_stamp(ts), f"m-{rid}", f"r-{rid}", SONNET, *TOKENS, session=session)
            fh.write(line + "\n")
    return path


@pytest.fixture
def claude_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("NO_COLOR", raising=False)
    return config


def _now_ns() -> int:
    return time.time_ns()


def _recent(n: int) -> list[int]:
    """``n`` request times within the last minutes (today, in the current 5-hour block)."""
    now = _now_ns()
    midnight = now - now % (86400 * 10**9)
    return [max(midnight + 10**9 * (k + 1), now - 10**9 * 60 * (k + 1)) for k in range(n)]


def _records(tmp_path: Path) -> dict[str, dict[str, object]]:
    folder = tmp_path / "burntray" / "data" / "statusline"
    return {p.stem: json.loads(p.read_text()) for p in folder.glob("*.json")}


@pytest.mark.parametrize("fixture", PAYLOADS, ids=lambda p: p.stem)
def test_each_real_payload_prints_one_line_and_is_recorded(
    fixture: Path, claude_config: Path, tmp_path: Path
) -> None:
    doc = json.loads(fixture.read_text())
    write_session(claude_config, doc["session_id"], _recent(3))
    write_session(claude_config, "another-session", _recent(2))
    done = burntray("statusline", "--color", "never", stdin=fixture.read_text())
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    model = doc["model"]["display_name"]
    pct = math.floor(100 * doc["context_window"]["total_input_tokens"] / 200000 + 0.5)
    # 3 requests of this session, 5 today; no rate_limits came: the block stands in
    assert lines[0].startswith(f"{model} | $0.27 session | $0.45 today | $0.45 block (")
    assert lines[0].endswith(f" | ctx {pct}%")
    record = _records(tmp_path)[doc["session_id"]]
    assert record["cost_usd"] == doc["cost"]["total_cost_usd"]
    assert record["model_id"] == doc["model"]["id"]
    assert record["limits"] is None  # no limit data from Claude Code: unknown, not 0 %


def _with_limits(rate_limits: object) -> str:
    doc = json.loads((FIXTURES / "ccusage-statusline-test.json").read_text())
    if rate_limits != "absent":
        doc["rate_limits"] = rate_limits
    return json.dumps(doc)


SOON = int(time.time()) + 2 * 3600
LATER = int(time.time()) + 3 * 86400
PASSED = int(time.time()) - 60


@pytest.mark.parametrize(
    ("rate_limits", "shown", "recorded"),
    [
        (
            {
                "five_hour": {"used_percentage": 42.3, "resets_at": SOON},
                "seven_day": {"used_percentage": 85.7, "resets_at": LATER},
            },
            "5h 42% ↻{soon} · 7d 86% ↻{later}",
            {"300": 42.3, "10080": 85.7},
        ),
        (
            {"seven_day": {"used_percentage": 12, "resets_at": LATER}},
            "7d 12% ↻{later}",
            {"10080": 12},
        ),
        ({"five_hour": None, "seven_day": None}, "$0.09 block (", {}),
        ("absent", "$0.09 block (", None),
        (None, "$0.09 block (", None),
        ({"five_hour": {"used_percentage": 99, "resets_at": PASSED}}, "5h 0% (reset)", {"300": 99}),
    ],
    ids=["both", "weekly-only", "null-windows", "none", "null", "passed-reset"],
)
def test_rate_limits_are_shown_and_recorded_as_reported(
    rate_limits: object,
    shown: str,
    recorded: dict[str, float] | None,
    claude_config: Path,
    tmp_path: Path,
) -> None:
    write_session(claude_config, "73cc9f9a-2775-4418-beec-bc36b62a1c6f", _recent(1))
    done = burntray("statusline", "--color", "never", stdin=_with_limits(rate_limits))
    assert done.returncode == 0, done.stderr
    local = dict(
        soon=dt.datetime.fromtimestamp(SOON).strftime("%H:%M"),
        later=dt.datetime.fromtimestamp(LATER).strftime("%a %H:%M"),
    )
    assert shown.format(**local) in done.stdout
    assert " 0%" not in done.stdout.replace("5h 0% (reset)", "")  # unknown is never 0 %
    record = _records(tmp_path)["73cc9f9a-2775-4418-beec-bc36b62a1c6f"]
    limits = record["limits"]
    got = None if limits is None else {k: v["used_percent"] for k, v in limits.items()}  # type: ignore[attr-defined]
    assert got == recorded


@pytest.mark.parametrize(
    ("stdin", "said"),
    [
        ("", "no input on stdin"),
        ("not json", "input is not JSON"),
        ("[1,2]", "not a JSON object"),
        ('{"model": 5, "cost": {"total_cost_usd": "x"}, "rate_limits": 7}', ""),
        ("{" * 200_000, "input is not JSON"),
        ("x" * 300_000, "over 256 KiB"),
    ],
    ids=["empty", "text", "array", "mistyped", "deep", "huge"],
)
def test_any_input_gives_a_plain_line_and_exit_0(
    stdin: str, said: str, claude_config: Path
) -> None:
    write_session(claude_config, "s", _recent(2))
    done = burntray("statusline", stdin=stdin)
    assert done.returncode == 0
    (line,) = done.stdout.splitlines()
    assert "$0.18 today" in line
    assert said in line
    assert "Traceback" not in done.stdout + done.stderr


def test_no_stdin_at_all_still_prints(claude_config: Path) -> None:
    done = burntray("statusline", "--color", "never")
    assert done.returncode == 0
    assert done.stdout == "Claude | $0.00 today | no active block | no input on stdin\n"


def test_colours_follow_the_option_and_no_color(
    claude_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = _with_limits({"five_hour": {"used_percentage": 91, "resets_at": SOON}})
    assert "\x1b[31m91%\x1b[0m" in burntray("statusline", stdin=payload).stdout
    assert "\x1b[" not in burntray("statusline", "--color", "never", stdin=payload).stdout
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in burntray("statusline", stdin=payload).stdout
    assert "\x1b[31m" in burntray("statusline", "--color", "always", stdin=payload).stdout


def test_show_picks_the_parts_and_an_unknown_one_is_said_on_the_line(claude_config: Path) -> None:
    payload = (FIXTURES / "ccusage-statusline-test-opus4.json").read_text()
    done = burntray("statusline", "--show", "today,model", stdin=payload)
    assert (done.returncode, done.stdout) == (0, "$0.00 today | Opus 4.1\n")
    bad = burntray("statusline", "--show", "model,price", stdin=payload)
    assert bad.returncode == 0
    assert "unknown part price" in bad.stdout


def test_appended_requests_are_read_on_the_next_run_and_a_bad_cache_is_rebuilt(
    claude_config: Path, tmp_path: Path
) -> None:
    payload = _with_limits("absent")
    session = "73cc9f9a-2775-4418-beec-bc36b62a1c6f"
    write_session(claude_config, session, _recent(2))
    first = burntray("statusline", "--show", "session,today", stdin=payload)
    assert first.stdout == "$0.18 session | $0.18 today\n"
    write_session(claude_config, session, [_now_ns()])
    second = burntray("statusline", "--show", "session,today", stdin=payload)
    assert second.stdout == "$0.27 session | $0.27 today\n"
    cache = tmp_path / "burntray" / "cache" / "statusline-claude.msgpack"
    assert cache.is_file()
    cache.write_bytes(b"\x93garbage")
    third = burntray("statusline", "--show", "session,today", stdin=payload)
    assert third.stdout == second.stdout


def test_a_locked_or_broken_history_never_holds_the_line_up(
    claude_config: Path, tmp_path: Path
) -> None:
    """Another process holds burntray's history in an exclusive SQLite transaction (as a tray
    writing would, only forever): the status line still prints its figures within its bound."""
    write_session(claude_config, "s", _recent(4))
    history = tmp_path / "burntray" / "data" / "history.sqlite3"
    history.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys\n"
         f"c = sqlite3.connect({str(history)!r}, isolation_level=None)\n"
         "c.execute('PRAGMA journal_mode=WAL'); c.execute('PRAGMA locking_mode=EXCLUSIVE')\n"
         "c.execute('BEGIN EXCLUSIVE'); c.execute('CREATE TABLE held (x)')\n"
         "print('held', flush=True); sys.stdin.read()\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        started = time.monotonic()
        done = burntray("statusline", "--show", "today", stdin="{}", timeout=10)
        took = time.monotonic() - started
        assert (done.returncode, done.stdout) == (0, "$0.36 today\n")
        assert took < 5.0
    finally:
        holder.kill()
        holder.wait()
    history.write_bytes(b"not a database at all" * 100)
    done = burntray("statusline", "--show", "today", stdin="{}")
    assert (done.returncode, done.stdout) == (0, "$0.36 today\n")


def test_the_line_comes_within_its_budget_and_the_read_finishes_after(
    claude_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no time for the logs, the line is printed without their figures at once; the read
    still finishes (stdout closed), so the next run has them."""
    write_session(claude_config, "s", _recent(3))
    monkeypatch.setenv("BURNTRAY_STATUSLINE_BUDGET_S", "0")
    payload = (FIXTURES / "ccusage-statusline-test-sonnet4.json").read_text()
    done = burntray("statusline", "--color", "never", "--show", "model,today", stdin=payload)
    assert done.returncode == 0
    assert done.stdout == "Sonnet 4 | logs not read in time\n"
    monkeypatch.setenv("BURNTRAY_STATUSLINE_BUDGET_S", "30")  # a loaded machine: no race
    cache = tmp_path / "burntray" / "cache" / "statusline-claude.msgpack"
    assert cache.is_file()  # written by the first run after its line was out
    again = burntray("statusline", "--show", "today", stdin=payload)
    assert again.stdout == "$0.27 today\n", again.stdout + again.stderr


def test_a_running_monitor_sees_a_new_payloads_windows_at_once(
    claude_config: Path, tmp_path: Path
) -> None:
    """The tray's monitor follows the claude source; its poll is 60 s, so only the source's
    watch on the records' folder can bring the windows within the test's deadline."""
    write_session(claude_config, "s", _recent(1))
    burntray("statusline", stdin="{}")  # the records' folder exists, as after any earlier run
    ctx = AppContext.load()
    settings = ctx.settings.replace(source="claude", poll_interval_s=60.0)
    monitor = Monitor(settings, ctx.build_source, history=ctx.history())
    seen: list[Snapshot] = []
    changed = threading.Event()

    def observe(snapshot: Snapshot) -> None:
        seen.append(snapshot)
        changed.set()

    monitor.observers.append(observe)
    monitor.start()
    try:
        deadline = time.monotonic() + 10
        while not seen and time.monotonic() < deadline:
            changed.wait(0.05)
        assert seen and seen[-1].limits == ()
        payload = _with_limits({"five_hour": {"used_percentage": 64, "resets_at": SOON}})
        sent = time.monotonic()
        assert burntray("statusline", stdin=payload).returncode == 0
        deadline = time.monotonic() + 10
        while not seen[-1].limits and time.monotonic() < deadline:
            changed.wait(0.05)
            changed.clear()
        (window,) = seen[-1].limits
        assert (window.tool, window.window, window.used_percent) == ("claude", "5h", 64.0)
        assert window.origin == "official"
        assert time.monotonic() - sent < 10
    finally:
        monitor.stop()
        ctx.close()


def test_the_record_folder_refuses_a_planted_link(claude_config: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    data = tmp_path / "burntray" / "data"
    data.mkdir(parents=True)
    os.symlink(elsewhere, data / "statusline")
    done = burntray("statusline", "--color", "never", stdin=_with_limits("absent"))
    assert done.returncode == 0
    assert "not recorded" in done.stdout
    assert list(elsewhere.iterdir()) == []


def test_claude_codes_own_session_cost_stands_beside_the_logs_never_summed(
    claude_config: Path,
) -> None:
    """Claude Code said $0.50 for a session whose logs come to $0.27 (3 requests); another
    session's own cost is within 5 % of its logs. status --by session and doctor show both
    figures with the gap, flagged only where it is over 5 %; totals stay the logs' own."""
    write_session(claude_config, "gap-session", _recent(3))
    write_session(claude_config, "close-session", _recent(2))
    for session, cost in (("gap-session", 0.5), ("close-session", 0.181)):
        payload = json.dumps({"session_id": session, "cost": {"total_cost_usd": cost}})
        assert burntray("statusline", stdin=payload).returncode == 0
    done = burntray("status", "--source", "claude", "--window", "today", "--by", "session",
                    "--format", "json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    rows = {r["session"]: r for r in doc["rows"]}
    assert rows["gap-session"]["cost_usd"] == pytest.approx(0.27)
    assert rows["gap-session"]["tool_cost_usd"] == 0.5
    assert rows["gap-session"]["cost_gap_pct"] == pytest.approx(85.19, abs=0.01)
    assert rows["close-session"]["cost_gap_pct"] == pytest.approx(0.56, abs=0.01)
    assert doc["totals"]["cost_usd"] == pytest.approx(0.45)  # the logs' alone
    text = burntray("status", "--source", "claude", "--window", "today", "--by", "session")
    gap_line = next(line for line in text.stdout.splitlines() if line.startswith("gap-session"))
    assert gap_line.endswith("$0.50 +85.2% !")
    close_line = next(line for line in text.stdout.splitlines() if line.startswith("close-"))
    assert close_line.endswith("$0.18 +0.6%")
    assert "never added" in text.stdout
    doctor = burntray("doctor")
    assert "session cost gap-session: Claude Code $0.50, logs $0.27, gap +85.2 % - over 5 %" in (
        doctor.stdout
    )
    assert "session cost close-session: Claude Code $0.18, logs $0.18, gap +0.6 %\n" in (
        doctor.stdout
    )


def test_a_writer_that_never_closes_stdin_still_gets_its_line(claude_config: Path) -> None:
    payload = (FIXTURES / "ccusage-statusline-test-opus4.json").read_text()
    proc = subprocess.Popen(
        [sys.executable, "-m", "burntray", "statusline", "--show", "model", "--color", "never"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=dict(os.environ),
    )  # fmt: skip
    try:
        assert proc.stdin is not None
        proc.stdin.write(payload)
        proc.stdin.flush()  # and left open
        started = time.monotonic()
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line == "Opus 4.1\n"
        assert proc.wait(timeout=20) == 0
        assert time.monotonic() - started < 15
    finally:
        proc.kill()
        proc.wait()


def test_a_fifo_or_a_link_to_a_device_among_the_logs_is_named_and_the_rest_counted(
    claude_config: Path,
) -> None:
    write_session(claude_config, "s", _recent(2))
    os.mkfifo(claude_config / "projects" / "-p" / "fifo.jsonl")
    os.symlink("/dev/zero", claude_config / "projects" / "-p" / "zero.jsonl")
    done = burntray("statusline", "--color", "never", "--show", "today", stdin="{}", timeout=30)
    assert done.returncode == 0
    assert done.stdout == "$0.18 today | some logs unreadable\n"


def test_the_first_run_starts_from_burntrays_history_and_reads_only_what_is_new(
    claude_config: Path,
) -> None:
    """``status`` reads the logs into burntray's history; the status line's first run takes
    the offsets and requests from there: bytes the history already counted are not read again
    (here they are overwritten in place with garbage, which a full read would skip)."""
    log = write_session(claude_config, "s", _recent(3))
    assert burntray("status", "--source", "claude", "--window", "today").returncode == 0
    size = log.stat().st_size
    with log.open("r+b") as fh:
        fh.write(b"x" * size)  # same size: only a read from the start would see it
    write_session(claude_config, "s", [_now_ns()])  # and one new request after it
    done = burntray("statusline", "--show", "session,today", stdin='{"session_id": "s"}')
    assert (done.returncode, done.stdout) == (0, "$0.36 session | $0.36 today\n")


def test_status_lines_run_at_once_each_answer_and_leave_a_whole_cache(
    claude_config: Path,
) -> None:
    """Two Claude Code sessions (or a slow run and the next) at the same moment: no lock, each
    prints its line, and the cache the last one leaves is whole."""
    write_session(claude_config, "a", _recent(2))
    write_session(claude_config, "b", _recent(3))
    command = [sys.executable, "-m", "burntray", "statusline", "--show", "session,today"]
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "text": True}
    procs = [subprocess.Popen(command, env=dict(os.environ), **pipes) for _ in range(4)]
    for n, proc in enumerate(procs):  # every payload given at once, as Claude Code gives it
        assert proc.stdin is not None
        proc.stdin.write(json.dumps({"session_id": "ab"[n % 2]}))
        proc.stdin.close()
    outs = [p.stdout.read() if p.stdout else "" for p in procs]
    for proc in procs:
        proc.wait(timeout=60)
    assert [p.returncode for p in procs] == [0, 0, 0, 0]
    assert outs == ["$0.18 session | $0.45 today\n", "$0.27 session | $0.45 today\n"] * 2
    again = burntray("statusline", "--show", "session,today", stdin='{"session_id": "b"}')
    assert again.stdout == "$0.27 session | $0.45 today\n"
