"""``burntray status --watch`` as a real process: a live line that follows appended Claude Code
log lines (inotify on Linux), and Ctrl-C (SIGINT) exits 0."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.agent_logs_support import claude_line
from tests.processes import read_line, stop_process

pytestmark = pytest.mark.slow

SONNET = "claude-sonnet-4-5-20250929"


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_status_watch_follows_new_lines_and_exits_0_on_ctrl_c(tmp_path: Path) -> None:
    log = tmp_path / "claude" / "projects" / "p" / "s.jsonl"
    log.parent.mkdir(parents=True)
    log.write_text(claude_line(_stamp(), "m1", "r1", SONNET, 10, 10) + "\n")
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "burntray", "status", "--watch", "--source", "claude",
         "--window", "1h"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = read_line(proc.stdout, 20, "the first live line")
        assert first.startswith("claude · 1h · 1 reqs"), first
        with log.open("a") as fh:
            fh.write(claude_line(_stamp(), "m2", "r2", SONNET, 10, 10) + "\n")
        second = read_line(proc.stdout, 10, "the line after an append")
        assert second.startswith("claude · 1h · 2 reqs"), second
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        stop_process(proc)
