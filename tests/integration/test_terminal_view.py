"""The terminal view as a user runs it: live updates from a real writer, Ctrl-C exits 0."""

from __future__ import annotations

import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from burntray.sources.hexai.writer import hexai_update
from tests.processes import start_terminal_view


def read_line_matching(proc: subprocess.Popen[str], needle: str, timeout: float = 10) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline()
            if needle in line:
                return line
    raise AssertionError(f"no line with {needle!r} within {timeout} s")


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_terminal_view_follows_writer_and_quits_cleanly(hexai_dir: Path, stop_signal: int) -> None:
    hexai_update(hexai_dir, "openai", "gpt-4.1", 4000, 400)
    proc = start_terminal_view()
    try:
        first = read_line_matching(proc, "1 reqs")
        assert first.startswith("all · 1h · 1 reqs")
        hexai_update(hexai_dir, "anthropic", "claude-sonnet-4-5", 8000, 800)
        assert read_line_matching(proc, "2 reqs").startswith("all · 1h · 2 reqs")
        proc.send_signal(stop_signal)
        assert proc.wait(timeout=3) == 0
    finally:
        proc.kill()
        proc.wait()
