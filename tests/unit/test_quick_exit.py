"""A short command run as the program (``python -m burntray status``, ``statusline``) ends
without the interpreter's teardown (~8 % of a warm tmux line): exit handlers still run, output
is whole, the exit code is kept, and a thread or child process still running is waited for as
usual."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# The child: a global whose finalizer runs only in the interpreter's teardown, an exit handler
# that must always run, optionally a non-daemon thread still working, then the program itself.
CHILD = """
import atexit, runpy, sys, threading, time
marks = sys.argv.pop(1)
class Torn:  # keeps what it needs: the teardown clears the module's names first
    def __init__(self, path, touch=open):
        self.path, self.touch = path, touch
    def __del__(self):
        self.touch(self.path, "w").close()
torn = Torn(marks + ".teardown")
atexit.register(lambda: open(marks + ".atexit", "w").close())
if sys.argv.pop(1) == "thread":
    def work():
        time.sleep(0.3)
        open(marks + ".thread", "w").close()
    threading.Thread(target=work).start()
sys.argv[0] = "burntray"
runpy.run_module("burntray", run_name="__main__")
"""


def _run(tmp_path: Path, args: list[str], thread: bool = False) -> tuple[int, str, set[str]]:
    marks = tmp_path / "mark"
    argv = [sys.executable, "-c", CHILD, str(marks), "thread" if thread else "-", *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    left = {p.suffix[1:] for p in tmp_path.glob("mark.*")}
    return done.returncode, done.stdout + done.stderr, left


@pytest.mark.parametrize("fmt", ["tmux", "json"])
def test_a_status_ends_without_teardown_but_with_its_exit_handlers(
    tmp_path: Path, fmt: str
) -> None:
    code, out, left = _run(tmp_path, ["status", "--format", fmt])
    assert code == 0, out
    assert ("rpm" in out) if fmt == "tmux" else out.rstrip().endswith("}"), out
    assert left == {"atexit"}  # the handler ran; the teardown (the global's finalizer) did not


def test_a_usage_error_keeps_its_exit_code(tmp_path: Path) -> None:
    code, out, left = _run(tmp_path, ["status", "--by", "day", "--format", "csv", "--since", "x"])
    assert code == 2 and "burntray:" in out, out
    assert left == {"atexit"}


def test_the_status_line_ends_the_same_way(tmp_path: Path) -> None:
    payload = Path(__file__).resolve().parent.parent / "fixtures" / "statusline"
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(tmp_path / "claude")}
    marks = tmp_path / "mark"
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(marks), "-", "statusline", "--color", "never"],
        input=(payload / "ccusage-statusline-test.json").read_text(),
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0 and done.stdout.startswith("Sonnet 4"), done
    assert {p.suffix[1:] for p in tmp_path.glob("mark.*")} == {"atexit"}


def test_a_thread_still_running_is_waited_for(tmp_path: Path) -> None:
    """The usual exit: the thread finishes its work, then the teardown runs."""
    code, out, left = _run(tmp_path, ["status", "--format", "tmux"], thread=True)
    assert code == 0, out
    assert left == {"atexit", "thread", "teardown"}


def test_a_command_that_is_not_short_keeps_the_usual_exit(tmp_path: Path) -> None:
    code, out, left = _run(tmp_path, ["doctor"])
    assert code in (0, 1), out
    assert "teardown" in left and "atexit" in left
