"""Test helpers for the StatusNotifierItem backend: a private dbus-daemon, the fake watcher
process, and a "test panel" that talks to the item exactly as a panel does (with jeepney, a
different D-Bus implementation from the dbus-fast one under test)."""

from __future__ import annotations

import collections
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jeepney import DBusAddress, MessageType, Properties, new_method_call
from jeepney.bus_messages import MatchRule
from jeepney.io.blocking import open_dbus_connection
from jeepney.low_level import HeaderFields, Message
from PIL import Image

from burntray.config import Settings
from burntray.config_write import save_settings
from tests.processes import wait_for

WATCHER = "org.kde.StatusNotifierWatcher"
ITEM_IFACE = "org.kde.StatusNotifierItem"
MENU_IFACE = "com.canonical.dbusmenu"
FAKE_WATCHER_SCRIPT = Path(__file__).with_name("fake_sni_watcher.py")
DEADLINE_S = 10.0


def wait_until(condition: Callable[[], Any], what: str, timeout_s: float = DEADLINE_S) -> Any:
    """``wait_for`` with this module's deadline and a finer step (D-Bus round trips are fast)."""
    return wait_for(condition, timeout_s, what, step_s=0.02)


@contextmanager
def fake_watcher(address: str, notifications: bool = False) -> Iterator[subprocess.Popen[str]]:
    args = [sys.executable, str(FAKE_WATCHER_SCRIPT), address]
    if notifications:
        args.append("--notifications")
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        with Panel(address) as probe:
            wait_until(lambda: probe.name_has_owner(WATCHER), "the fake watcher's bus name")
        yield process
    finally:
        process.terminate()
        process.wait(30)


class DBusCallError(AssertionError):
    def __init__(self, reply: Message) -> None:
        self.name = reply.header.fields.get(HeaderFields.error_name)
        super().__init__(f"{self.name}: {reply.body}")


class Panel:
    """What a tray host does with an item: read properties, fetch the menu, send events, and
    watch signals (all broadcast signals are recorded, in arrival order)."""

    def __init__(self, address: str) -> None:
        self.conn = open_dbus_connection(bus=address)
        self.signals: collections.deque[Message] = collections.deque()
        self._filter = self.conn.filter(
            MatchRule(type="signal"), queue=self.signals, bufsize=10_000
        )
        self.call_bus("AddMatch", "s", "type='signal'")

    def __enter__(self) -> Panel:
        return self

    def __exit__(self, *exc: object) -> None:
        self._filter.close()
        self.conn.close()

    def call(
        self,
        dest: str,
        path: str,
        iface: str,
        member: str,
        signature: str | None = None,
        *body: Any,
    ) -> tuple[Any, ...]:
        address = DBusAddress(path, bus_name=dest, interface=iface)
        reply = self.conn.send_and_get_reply(
            new_method_call(address, member, signature, body), timeout=DEADLINE_S
        )
        if reply.header.message_type == MessageType.error:
            raise DBusCallError(reply)
        return tuple(reply.body)

    def call_bus(self, member: str, signature: str | None = None, *body: Any) -> tuple[Any, ...]:
        return self.call(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            member,
            signature,
            *body,
        )

    def name_has_owner(self, name: str) -> bool:
        return bool(self.call_bus("NameHasOwner", "s", name)[0])

    def get_all(self, dest: str, path: str, iface: str) -> dict[str, Any]:
        props = Properties(DBusAddress(path, bus_name=dest, interface=iface))
        reply = self.conn.send_and_get_reply(props.get_all(), timeout=DEADLINE_S)
        if reply.header.message_type == MessageType.error:
            raise DBusCallError(reply)
        return {name: value for name, (_sig, value) in reply.body[0].items()}

    def get(self, dest: str, path: str, iface: str, name: str) -> Any:
        props = Properties(DBusAddress(path, bus_name=dest, interface=iface))
        reply = self.conn.send_and_get_reply(props.get(name), timeout=DEADLINE_S)
        if reply.header.message_type == MessageType.error:
            raise DBusCallError(reply)
        return reply.body[0][1]

    def wait_signal(
        self,
        member: str,
        matches: Callable[[Message], bool] = lambda _msg: True,
        timeout_s: float = DEADLINE_S,
    ) -> Message:
        """The first recorded signal ``member`` that ``matches``; earlier ones are consumed."""
        deadline = time.monotonic() + timeout_s
        while True:
            while self.signals:
                msg = self.signals.popleft()
                if msg.header.fields.get(HeaderFields.member) == member and matches(msg):
                    return msg
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {member} signal within {timeout_s} s")
            try:
                # recv_messages (not recv_until_filtered, which pops what it waited for) keeps
                # every signal in self.signals.
                self.conn.recv_messages(timeout=remaining)
            except TimeoutError:
                continue

    def drain(self) -> list[str]:
        """Members of the signals received so far (after a round trip), consumed."""
        self.call_bus("GetId")
        members = [str(m.header.fields.get(HeaderFields.member)) for m in self.signals]
        self.signals.clear()
        return members


def unwrap_layout(node: tuple[int, dict[str, Any], list[Any]]) -> dict[str, Any]:
    """A GetLayout node as plain data: {"id", "props" (variants unwrapped), "children"}."""
    item_id, props, children = node
    return {
        "id": item_id,
        "props": {name: value for name, (_sig, value) in props.items()},
        "children": [unwrap_layout(value) for _sig, value in children],
    }


RED = (255, 0, 0, 255)


@dataclass
class TrayApp:
    """A small but real tray app: its menu edits Settings and saves config.toml."""

    config_path: Path
    settings: Settings = field(default_factory=Settings)
    reports_opened: threading.Event = field(default_factory=threading.Event)
    extra_items: list[str] = field(default_factory=list)

    def set_window(self, window: str) -> None:
        self.settings = self.settings.replace(window=window)
        save_settings(self.config_path, self.settings)

    def open_report(self) -> None:
        self.reports_opened.set()

    def toggle_notifications(self) -> None:
        self.settings = self.settings.replace(notifications=not self.settings.notifications)
        save_settings(self.config_path, self.settings)

    def menu(self) -> Any:
        import pystray

        def window_item(window: str) -> Any:
            return pystray.MenuItem(
                window,
                lambda: self.set_window(window),
                checked=lambda _item: self.settings.window == window,
                radio=True,
            )

        def items() -> Iterator[Any]:
            yield pystray.MenuItem("Open report", self.open_report, default=True)
            yield pystray.MenuItem("hexai: 12 req · $0.42", None, enabled=False)
            yield pystray.Menu.SEPARATOR
            yield pystray.MenuItem(
                "Window", pystray.Menu(*(window_item(w) for w in ("15m", "1h", "24h")))
            )
            yield pystray.MenuItem(
                "Notifications",
                self.toggle_notifications,
                checked=lambda _item: self.settings.notifications,
            )
            for text in self.extra_items:
                yield pystray.MenuItem(text, None)
            yield pystray.Menu.SEPARATOR
            yield pystray.MenuItem("Quit", lambda icon: icon.stop())

        return pystray.Menu(items)


def solid_icon(color: tuple[int, int, int, int], size: int = 64) -> Image.Image:
    return Image.new("RGBA", (size, size), color)
