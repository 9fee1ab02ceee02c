"""A private D-Bus session bus with the fake notification service, for notification tests.

Nothing here touches the user's bus: the address is the private daemon's own. In CI a missing
``dbus-daemon`` fails the test; elsewhere it is skipped with the reason.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.processes import read_line, start_session_bus, stop_process

FAKE_SERVICE = Path(__file__).with_name("fake_notifications.py")


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


@contextmanager
def notification_service_bus(tmp_path: Path, with_service: bool = True) -> Iterator[NotifyBus]:
    """Start ``dbus-daemon --session`` and (optionally) the fake notification service on it."""
    bus, address = start_session_bus()
    procs: list[subprocess.Popen[str]] = [bus]
    try:
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
            assert read_line(service.stdout, 15, "the fake service to be ready") == "ready"
        yield NotifyBus(address, log_path)
    finally:
        for proc in reversed(procs):
            stop_process(proc)
