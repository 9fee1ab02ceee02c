"""A private D-Bus session bus with the fake notification service, for notification tests.

Nothing here touches the user's bus: the address is the private daemon's own. In CI a missing
``dbus-daemon`` fails the test; elsewhere it is skipped with the reason.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

FAKE_SERVICE = Path(__file__).with_name("fake_notifications.py")


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (Debian: apt-get install {name})"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must have it (.ci/run installs it)")
        pytest.skip(message)
    return path


def read_line(stream: IO[str], deadline_s: float) -> str:
    """One line from a child's pipe, or fail after ``deadline_s`` (never hang)."""
    with selectors.DefaultSelector() as sel:
        sel.register(stream, selectors.EVENT_READ)
        if not sel.select(deadline_s):
            raise TimeoutError(f"no output within {deadline_s} s")
    return stream.readline()


def wait_for(condition: Callable[[], Any], timeout_s: float, what: str) -> Any:
    """Poll ``condition`` until it returns something truthy; fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


@dataclass
class NotifyBus:
    address: str
    log_path: Path

    def notifications(self) -> list[dict[str, Any]]:
        if not self.log_path.exists():
            return []
        text = self.log_path.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def click_last(self) -> None:
        """Click the last notification, as the user would (the service emits ActionInvoked)."""
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.blocking import open_dbus_connection

        with open_dbus_connection(bus=self.address) as conn:
            target = DBusAddress(
                "/org/freedesktop/Notifications",
                bus_name="org.freedesktop.Notifications",
                interface="org.burntray.Test",
            )
            conn.send_and_get_reply(new_method_call(target, "Click"), timeout=10)


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@contextmanager
def private_bus(tmp_path: Path, with_service: bool = True) -> Iterator[NotifyBus]:
    """Start ``dbus-daemon --session`` and (optionally) the fake notification service on it."""
    daemon = require_tool("dbus-daemon")
    bus = subprocess.Popen(
        [daemon, "--session", "--nofork", "--nopidfile", "--print-address=1"],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    procs = [bus]
    try:
        assert bus.stdout is not None
        address = read_line(bus.stdout, 10).strip()
        assert address.startswith("unix:"), address
        log_path = tmp_path / "notifications.jsonl"
        if with_service:
            env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address}
            args = [sys.executable, str(FAKE_SERVICE), str(log_path)]
            service = subprocess.Popen(
                args,
                stdout=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                env=env,
                text=True,
            )
            procs.append(service)
            assert service.stdout is not None
            assert read_line(service.stdout, 15).strip() == "ready"
        yield NotifyBus(address, log_path)
    finally:
        for proc in reversed(procs):
            _stop(proc)
