"""A minimal org.kde.StatusNotifierWatcher (with --notifications, org.freedesktop.Notifications too)
for tests, written with jeepney so the item under test (dbus-fast) is checked against another
D-Bus implementation. Run as a script: ``python fake_sni_watcher.py BUS_ADDRESS [--notifications]``.

It keeps items registered until their bus name disappears, emits the watcher's signals, and
prints one JSON line per notification call on stdout.
"""

from __future__ import annotations

import json
import sys

from jeepney import DBusAddress, MessageType, new_error, new_method_return, new_signal
from jeepney.bus_messages import MatchRule, message_bus
from jeepney.io.blocking import open_dbus_connection
from jeepney.low_level import HeaderFields

WATCHER = "org.kde.StatusNotifierWatcher"
WATCHER_PATH = "/StatusNotifierWatcher"
NOTIFICATIONS = "org.freedesktop.Notifications"
PROPERTIES = "org.freedesktop.DBus.Properties"


def main(address: str, notifications: bool) -> None:
    conn = open_dbus_connection(bus=address)
    conn.send_and_get_reply(
        message_bus.AddMatch(
            MatchRule(type="signal", interface="org.freedesktop.DBus", member="NameOwnerChanged")
        )
    )
    items: list[str] = []
    hosts: list[str] = []
    next_notification = 1
    emitter = DBusAddress(WATCHER_PATH, interface=WATCHER)
    if notifications:
        conn.send_and_get_reply(message_bus.RequestName(NOTIFICATIONS))
    # The watcher name last: tests wait for it as the "ready" sign.
    conn.send_and_get_reply(message_bus.RequestName(WATCHER))

    def properties() -> dict[str, tuple[str, object]]:
        return {
            "RegisteredStatusNotifierItems": ("as", list(items)),
            "IsStatusNotifierHostRegistered": ("b", True),
            "ProtocolVersion": ("i", 0),
        }

    while True:
        msg = conn.receive()
        hdr = msg.header
        member = hdr.fields.get(HeaderFields.member)
        if hdr.message_type == MessageType.signal:
            if member == "NameOwnerChanged":
                name, _old, new = msg.body
                if not new:
                    for item in [i for i in items if i == name or i.startswith(name + "/")]:
                        items.remove(item)
                        conn.send(
                            new_signal(emitter, "StatusNotifierItemUnregistered", "s", (item,))
                        )
            continue
        if hdr.message_type != MessageType.method_call:
            continue
        sender = hdr.fields.get(HeaderFields.sender)
        interface = hdr.fields.get(HeaderFields.interface)
        if member == "RegisterStatusNotifierItem":
            (service,) = msg.body
            # Like KDE's watcher: a path means "this sender at that path".
            entry = f"{sender}{service}" if service.startswith("/") else service
            if entry not in items:
                items.append(entry)
            conn.send(new_method_return(msg))
            conn.send(new_signal(emitter, "StatusNotifierItemRegistered", "s", (entry,)))
        elif member == "RegisterStatusNotifierHost":
            hosts.append(msg.body[0])
            conn.send(new_method_return(msg))
        elif interface == PROPERTIES and member == "Get":
            _iface, prop = msg.body
            conn.send(new_method_return(msg, "v", (properties()[prop],)))
        elif interface == PROPERTIES and member == "GetAll":
            conn.send(new_method_return(msg, "a{sv}", (properties(),)))
        elif notifications and member == "Notify":
            app, replaces, _icon, summary, body, _actions, _hints, _timeout = msg.body
            notification_id = replaces or next_notification
            next_notification += 1
            print(
                json.dumps(
                    {
                        "call": "Notify",
                        "app": app,
                        "replaces": replaces,
                        "summary": summary,
                        "body": body,
                        "id": notification_id,
                    }
                ),
                flush=True,
            )
            conn.send(new_method_return(msg, "u", (notification_id,)))
        elif notifications and member == "CloseNotification":
            print(json.dumps({"call": "CloseNotification", "id": msg.body[0]}), flush=True)
            conn.send(new_method_return(msg))
        elif notifications and member == "GetCapabilities":
            conn.send(new_method_return(msg, "as", (["body"],)))
        else:
            conn.send(
                new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (str(member),))
            )


if __name__ == "__main__":
    main(sys.argv[1], "--notifications" in sys.argv[2:])
