"""The status line's costs against the real ccusage 20.0.24's ``statusline`` on the same stdin
and the same Claude Code logs: the session's cost and today's within 0.5 %.

The payloads are the real ones from ccusage's repository (``tests/fixtures/statusline``), as
they are and with ``rate_limits`` added (both windows, one, none, null, a passed reset: limits
change burntray's line, never its costs). ccusage runs with ``--cost-source ccusage`` (its
session cost from the logs, as burntray's) and ``--no-cache``; both in UTC.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.agent_logs_support import ccusage_binary, claude_line
from tests.processes import burntray

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "statusline"
PAYLOADS = sorted(FIXTURES.glob("ccusage-statusline-test*.json"))
MODELS = ("claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-haiku-4-5-20251001")
DAY_NS = 86400 * 10**9
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _stamp(ns: int) -> str:
    return dt.datetime.fromtimestamp(ns / 1e9, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _write_logs(config: Path, sessions: list[str], now_ns: int) -> None:
    """Each session: requests three days ago, yesterday and today (every few minutes since
    UTC midnight), with streaming duplicates, a sidechain replay in a subagent file, a 1-hour
    cache write and a request over the 200k tier; plus a session not written since last week."""
    midnight = now_ns - now_ns % DAY_NS
    for s, session in enumerate(sessions):
        folder = config / "projects" / f"-work-project-{s % 2}"
        folder.mkdir(parents=True, exist_ok=True)
        lines = []
        times = [midnight - 3 * DAY_NS + 3600 * 10**9, midnight - DAY_NS + 7200 * 10**9]
        times += [midnight + (s + 1) * 60 * 10**9 + k * 7 * 60 * 10**9 for k in range(40)]
        for n, ts in enumerate(times):
            model = MODELS[(n + s) % 3]
            mid, rid = f"msg_{session}_{n}", f"req_{session}_{n}"
            big = n % 17 == 5
            inp, out, write, hit = (210_000 if big else 900 + n, 1500 + 40 * n, 8000, 60_000)
            if n % 5 == 0:  # a streaming snapshot first: the final line counts
                snap = claude_line(_stamp(ts), mid, rid, model, inp, 1, write, hit, session=session)
                lines.append(snap)
            lines.append(
                claude_line(_stamp(ts), mid, rid, model, inp, out, write, hit, session=session,
                            write_1h=3000 if n % 7 == 3 else None)
            )  # fmt: skip
        (folder / f"{session}.jsonl").write_text("\n".join(lines) + "\n")
        sub = folder / session / "subagents" / "agent-1.jsonl"
        sub.parent.mkdir(parents=True, exist_ok=True)
        replay = claude_line(_stamp(times[3]), f"msg_{session}_3", "req_other", MODELS[0],
                             900, 20, 0, 1000, session=session, sidechain=True)  # fmt: skip
        own = claude_line(_stamp(times[4]), f"msg_{session}_sub", f"req_{session}_sub", MODELS[0],
                          300, 4000, 0, 9000, session=session, sidechain=True)  # fmt: skip
        sub.write_text(replay + "\n" + own + "\n")
    old = config / "projects" / "-work-old" / "old-session.jsonl"
    old.parent.mkdir(parents=True)
    week_ago = midnight - 7 * DAY_NS
    line = claude_line(_stamp(week_ago), "msg_old", "req_old", MODELS[1], 5000, 9000, session="o")
    old.write_text(line + "\n")
    os.utime(old, ns=(week_ago, week_ago))


def _ccusage() -> Path:
    """The real ccusage (installed under .venv/ on first use); CI must have it."""
    binary = ccusage_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("npm is not installed; CI must have it")
        pytest.skip("npm is not installed: ccusage cannot be fetched")
    return binary


def _their_line(binary: Path, stdin: str, tmp_path: Path) -> str:
    """ccusage's status line on ``stdin``, its session cost from the logs, in UTC."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path / "home"), "TZ": "UTC",
           "CLAUDE_CONFIG_DIR": str(tmp_path / "claude")}  # fmt: skip
    return subprocess.run(
        [str(binary), "statusline", "--offline", "--cost-source", "ccusage", "--no-cache"],
        input=stdin, env=env, capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip


def _parent_session(folder: Path, start_ns: int, step_ns: int) -> list[str]:
    """A parent session's log: 12 requests from ``start_ns``, ``step_ns`` apart (its lines)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        claude_line(_stamp(start_ns + n * step_ns), f"msg_p{n}", f"req_p{n}", MODELS[n % 3],
                    900, 1500 + 40 * n, 8000, 60_000, session="parent-session")
        for n in range(12)
    ]  # fmt: skip
    (folder / "parent-session.jsonl").write_text("\n".join(lines) + "\n")
    return lines


def _resumed_session(folder: Path, copied: list[str], now_ns: int) -> str:
    """A resumed session's log, starting with copies of its parent's lines (as ``claude
    --resume`` writes it), then 3 requests of its own in the last minutes; its stdin payload."""
    own = [
        claude_line(_stamp(now_ns - (5 - n) * 60 * 10**9), f"msg_r{n}", f"req_r{n}", MODELS[0],
                    700, 2500, 4000, 30_000, session="resumed-session")
        for n in range(3)
    ]  # fmt: skip
    resumed = folder / "resumed-session.jsonl"
    resumed.write_text("\n".join(copied + own) + "\n")
    doc = json.loads(PAYLOADS[0].read_text())
    return json.dumps({**doc, "session_id": "resumed-session", "transcript_path": str(resumed)})


def _same_costs(ours: str, theirs: str, today_abs: float = 0.0) -> tuple[float, float]:
    """Our line's session and today costs equal ccusage's within 0.5 %; theirs returned."""
    (line,) = ours.splitlines()
    session, today = _costs(line)
    their_session, their_today = _costs(theirs)
    assert session == pytest.approx(their_session, rel=0.005), (line, theirs)
    assert today == pytest.approx(their_today, rel=0.005, abs=today_abs), (line, theirs)
    return their_session, their_today


def _costs(line: str) -> tuple[float, float]:
    """(session, today) from either tool's line."""
    text = _ANSI.sub("", line)
    session = re.search(r"\$([0-9,.]+) session", text)
    today = re.search(r"\$([0-9,.]+) today", text)
    assert session and today, line
    return float(session[1].replace(",", "")), float(today[1].replace(",", ""))


def _with(doc: dict[str, object], rate_limits: object) -> str:
    copy = dict(doc)
    if rate_limits != "absent":
        copy["rate_limits"] = rate_limits
    return json.dumps(copy)


NOW_S = int(time.time())
RATE_LIMITS = [
    "absent",
    None,
    {
        "five_hour": {"used_percentage": 42.3, "resets_at": NOW_S + 3600},
        "seven_day": {"used_percentage": 85.7, "resets_at": NOW_S + 86400},
    },
    {"five_hour": {"used_percentage": 10.0, "resets_at": NOW_S + 3600}},
    {"five_hour": None, "seven_day": None},
    {"five_hour": {"used_percentage": 99.0, "resets_at": NOW_S - 60}},
]


@pytest.mark.slow
def test_session_and_today_equal_ccusages_statusline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    binary = _ccusage()
    docs = [json.loads(p.read_text()) for p in PAYLOADS]
    config = tmp_path / "claude"
    _write_logs(config, [str(d["session_id"]) for d in docs], time.time_ns())
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    monkeypatch.setenv("TZ", "UTC")
    # every payload as it is, and the first with each kind of rate_limits
    cases = [(doc, "absent") for doc in docs] + [(docs[0], r) for r in RATE_LIMITS[1:]]
    for doc, rate_limits in cases:
        stdin = _with(doc, rate_limits)
        theirs = _their_line(binary, stdin, tmp_path)
        ours = burntray("statusline", "--color", "never", stdin=stdin)
        assert ours.returncode == 0, ours.stderr
        their_session, their_today = _same_costs(ours.stdout, theirs)
        assert their_session > 1.0 and their_today > 5.0  # cents are well under 0.5 %


@pytest.mark.slow
def test_a_resumed_session_equals_ccusages_statusline_after_earlier_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``claude --resume`` starts a new log with copies of the parent's requests (their ids
    and times). burntray's status line ran on the parent first, so it had folded those
    requests into its cache: the resumed session's line must still count each once, as the
    real ccusage does reading every log afresh."""
    binary = _ccusage()
    doc = json.loads(PAYLOADS[0].read_text())
    now = time.time_ns()
    midnight = now - now % DAY_NS
    # the parent's requests: today, over an hour ago (folded by the first run), not before
    # midnight (the figures compared are today's)
    start = max(midnight + 60 * 10**9, now - 4 * 3600 * 10**9)
    step = max(60 * 10**9, (now - 3600 * 10**9 - start) // 12)
    folder = tmp_path / "claude" / "projects" / "-work-resume"
    lines = _parent_session(folder, start, step)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    monkeypatch.setenv("TZ", "UTC")
    parent = folder / "parent-session.jsonl"
    first = {**doc, "session_id": "parent-session", "transcript_path": str(parent)}
    ran = burntray("statusline", "--color", "never", stdin=json.dumps(first))
    assert ran.returncode == 0, ran.stderr
    stdin = _resumed_session(folder, lines, now)  # the parent's lines first, as copied
    ours = burntray("statusline", "--color", "never", stdin=stdin)
    assert ours.returncode == 0, ours.stderr
    their_session, their_today = _same_costs(ours.stdout, _their_line(binary, stdin, tmp_path))
    assert their_session > 0.05 and their_today > 0


@pytest.mark.slow
def test_a_session_resumed_from_a_log_days_old_equals_ccusages_statusline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parent's log was last written three days ago, outside what a status line reads; the
    resumed session's log starts with copies of its requests. ccusage reads every log and counts
    the copies for the parent: burntray's first line must too."""
    binary = _ccusage()
    now = time.time_ns()
    days_ago = now - 3 * DAY_NS
    folder = tmp_path / "claude" / "projects" / "-work-resume"
    lines = _parent_session(folder, days_ago, 60 * 10**9)
    written = days_ago + 12 * 60 * 10**9
    os.utime(folder / "parent-session.jsonl", ns=(written, written))
    stdin = _resumed_session(folder, lines, now)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    monkeypatch.setenv("TZ", "UTC")
    ours = burntray("statusline", "--color", "never", stdin=stdin)
    assert ours.returncode == 0, ours.stderr
    their_session, _ = _same_costs(
        ours.stdout, _their_line(binary, stdin, tmp_path), today_abs=0.005
    )
    assert their_session > 0.05
