"""DesktopNotify against a real (private) D-Bus and a fake notification daemon."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from burntray.ui.notify import DesktopNotify
from tests.processes import wait_for

from .notify_bus import notification_service_bus

pytestmark = pytest.mark.slow


def test_notify_reaches_the_service_with_name_icon_and_click(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    icon = tmp_path / "burntray.png"
    icon.write_bytes(b"\x89PNG\r\n\x1a\n")  # only its path is sent; the daemon reads it
    clicked = threading.Event()
    with notification_service_bus(tmp_path) as bus:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
        notifier = DesktopNotify(icon=icon, on_click=clicked.set)
        try:
            notifier.notify("burntray: spend spike (hexai)", "Spend spike: $14.40/h (5 min)")
            wait_for(lambda: notifier.sent == 1, 15, "the notification to be delivered")
            bus.click_last()
            assert clicked.wait(15), "the click (ActionInvoked 'default') never reached on_click"
            (sent,) = bus.notifications()
        finally:
            notifier.close()
    assert sent["app_name"] == "burntray"
    assert sent["summary"] == "burntray: spend spike (hexai)"
    assert sent["body"] == "Spend spike: $14.40/h (5 min)"
    assert sent["app_icon"] == icon.as_uri()
    assert "default" in sent["actions"]
    assert notifier.sent == 1
    assert notifier.failed == 0


def test_without_a_notification_service_the_fallback_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fallback_calls: list[tuple[str, str]] = []
    done = threading.Event()

    def fallback(title: str, body: str) -> None:
        fallback_calls.append((title, body))
        done.set()

    with notification_service_bus(tmp_path, with_service=False) as bus:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
        notifier = DesktopNotify(fallback=fallback)
        try:
            notifier.notify("title", "body")
            assert done.wait(15)
        finally:
            notifier.close()
    assert fallback_calls == [("title", "body")]
    assert notifier.fallback_used == 1
    assert notifier.sent == 0


def test_notify_returns_at_once_while_the_bus_is_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The conftest's bus address cannot connect: the failure is counted, the caller never waits.
    notifier = DesktopNotify()
    try:
        notifier.notify("title", "body")  # returns: the send fails on the notifier's thread
        wait_for(lambda: notifier.failed == 1, 15, "the failed send to be counted")
    finally:
        notifier.close()
    # A bus that never answers: a socket that takes the connection and then says nothing, so a
    # send that waited for it would hang. notify() must still return, every time.
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.bind(str(tmp_path / "silent-bus"))
    silent.listen(16)
    silent.settimeout(30)  # a hang guard for the accept below
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'silent-bus'}")
    notifier = DesktopNotify()
    try:

        def caller() -> None:  # a caller that blocked would fail the join below, not hang
            for _ in range(3):
                notifier.notify("burntray: spend spike (hexai)", "Spend spike: $14.40/h (5 min)")

        thread = threading.Thread(target=caller, daemon=True)
        thread.start()
        thread.join(30)  # the bus never answers: only a notify that does not wait for it ends
        assert not thread.is_alive(), "notify() blocked on a bus that does not answer"
        stuck, _ = silent.accept()  # the notifier's thread reached the bus, and waits there
        try:
            assert notifier.sent == notifier.failed == 0
        finally:
            stuck.close()
    finally:
        notifier.close()
        silent.close()
