"""Processes the tests start and wait on, in one place: required tools, burntray's own command
line, bounded waits and reads, clean stops, and a private session bus (never the user's).

A missing tool fails the test in CI (``.ci/run`` installs it) and skips it elsewhere.
"""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import IO, Any

import pytest


def require_tool(name: str) -> str:
    """The tool's path; a missing tool fails the test in CI and skips it elsewhere."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed (Debian: see .ci/run's apt_packages)"
    if os.environ.get("CI"):
        pytest.fail(message + "; CI must have it")
    pytest.skip(message)


def burntray(
    *args: str, stdin: str | None = None, timeout: float = 20
) -> subprocess.CompletedProcess[str]:
    """``python -m burntray ARGS`` in the test's (isolated) environment, output captured;
    ``stdin`` is its input, and without one it has no stdin at all."""
    return subprocess.run(  # noqa: PLW1510 - callers assert the exit code
        [sys.executable, "-m", "burntray", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ),
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )


def start_terminal_view() -> subprocess.Popen[str]:
    """``burntray run --terminal`` (a line of figures per tick, unbuffered), stdout and stderr
    piped; the caller stops it."""
    return subprocess.Popen(
        [sys.executable, "-m", "burntray", "run", "--terminal"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )


def wait_for(
    condition: Callable[[], Any], timeout_s: float, what: str, step_s: float = 0.05
) -> Any:
    """Poll ``condition`` until it returns something truthy; fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(step_s)


def read_line(stream: IO[Any], timeout_s: float, what: str) -> str:
    """One line (stripped) from a child's pipe, or fail after ``timeout_s``: never hang."""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        if not selector.select(timeout_s):
            raise AssertionError(f"no {what} within {timeout_s} s")
    line = stream.readline()
    return (line.decode() if isinstance(line, bytes) else str(line)).strip()


def stop_process(proc: subprocess.Popen[Any], timeout_s: float = 3.0) -> None:
    """SIGTERM, then SIGKILL after ``timeout_s``; always reaped."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout_s)


def start_session_bus(env: Mapping[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    """A throw-away ``dbus-daemon --session``: (process, address)."""
    daemon = require_tool("dbus-daemon")
    proc = subprocess.Popen(
        [daemon, "--session", "--nofork", "--nopidfile", "--print-address=1"],
        env=None if env is None else dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        address = read_line(proc.stdout, 10, "bus address from dbus-daemon")
        assert address.startswith("unix:"), address
    except BaseException:
        stop_process(proc)
        raise
    return proc, address


@contextmanager
def private_bus(env: Mapping[str, str] | None = None) -> Iterator[str]:
    """A private session bus for the block; yields its address."""
    proc, address = start_session_bus(env)
    try:
        yield address
    finally:
        stop_process(proc)


def start_xvfb(
    env: Mapping[str, str] | None = None, screen: str = "1024x768x24"
) -> tuple[subprocess.Popen[bytes], str]:
    """A private Xvfb at 24-bit depth (16-bit breaks pystray's xorg drawing): (process,
    display). Xvfb writes the display number to ``-displayfd`` once it accepts clients.
    ``-noreset``: without it the server resets when its last client leaves and drops the
    connections that arrive meanwhile, which loaded machines (parallel tests) hit."""
    xvfb = require_tool("Xvfb")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-noreset", "-screen", "0", screen, "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        env=None if env is None else dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as announced:
            number = read_line(announced, 10, "display number from Xvfb")
    except BaseException:
        stop_process(proc)
        raise
    return proc, f":{number}"
