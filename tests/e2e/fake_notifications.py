"""A fake ``org.freedesktop.Notifications`` service for a private session bus (jeepney).

argv: LOG_PATH. Owns the name, answers Notify, CloseNotification, GetCapabilities,
GetServerInformation and Introspect exactly as a desktop's notification daemon would, logs each
Notify as one JSON line, and prints ``ready`` once it owns the name. The test plays the user:
its call ``Click`` (any interface) makes the service emit ``ActionInvoked(last id, "default")``,
as a click on the last notification does.
"""

from __future__ import annotations

import json
import sys

from jeepney import DBusAddress, HeaderFields, MessageType, new_error, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
INTROSPECTION = f"""<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">
<node name="{PATH}">
  <interface name="{NAME}">
    <method name="Notify">
      <arg name="app_name" type="s" direction="in"/>
      <arg name="replaces_id" type="u" direction="in"/>
      <arg name="app_icon" type="s" direction="in"/>
      <arg name="summary" type="s" direction="in"/>
      <arg name="body" type="s" direction="in"/>
      <arg name="actions" type="as" direction="in"/>
      <arg name="hints" type="a{{sv}}" direction="in"/>
      <arg name="expire_timeout" type="i" direction="in"/>
      <arg name="id" type="u" direction="out"/>
    </method>
    <method name="CloseNotification"><arg name="id" type="u" direction="in"/></method>
    <method name="GetCapabilities"><arg name="caps" type="as" direction="out"/></method>
    <method name="GetServerInformation">
      <arg name="name" type="s" direction="out"/><arg name="vendor" type="s" direction="out"/>
      <arg name="version" type="s" direction="out"/><arg name="spec" type="s" direction="out"/>
    </method>
    <signal name="NotificationClosed">
      <arg name="id" type="u"/><arg name="reason" type="u"/>
    </signal>
    <signal name="ActionInvoked">
      <arg name="id" type="u"/><arg name="action_key" type="s"/>
    </signal>
  </interface>
</node>"""


def plain(value: object) -> object:
    """Hints arrive as (signature, value) pairs; keep what JSON can hold."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return plain(value[1])
    if isinstance(value, bytes):
        return value.hex()
    return value if isinstance(value, str | int | float | bool) else repr(value)


def main() -> None:
    log_path = sys.argv[1]
    conn = open_dbus_connection(bus="SESSION")
    conn.send_and_get_reply(message_bus.RequestName(NAME, 4))  # 4: do not queue
    signals = DBusAddress(PATH, interface=NAME)
    print("ready", flush=True)
    next_id = 1
    with open(log_path, "a", encoding="utf-8") as log:
        while True:
            msg = conn.receive()
            if msg.header.message_type != MessageType.method_call:
                continue
            member = msg.header.fields.get(HeaderFields.member)
            if member == "Notify":
                app_name, replaces_id, icon, summary, body, actions, hints, timeout = msg.body
                nid, next_id = next_id, next_id + 1
                record = {
                    "id": nid,
                    "app_name": app_name,
                    "replaces_id": replaces_id,
                    "app_icon": icon,
                    "summary": summary,
                    "body": body,
                    "actions": list(actions),
                    "hints": {k: plain(v) for k, v in hints.items()},
                    "expire_timeout": timeout,
                }
                log.write(json.dumps(record) + "\n")
                log.flush()
                conn.send(new_method_return(msg, "u", (nid,)))
            elif member == "Click":
                conn.send(new_method_return(msg))
                conn.send(new_signal(signals, "ActionInvoked", "us", (next_id - 1, "default")))
            elif member == "CloseNotification":
                conn.send(new_method_return(msg))
                conn.send(new_signal(signals, "NotificationClosed", "uu", (msg.body[0], 3)))
            elif member == "GetCapabilities":
                conn.send(new_method_return(msg, "as", (["body", "actions"],)))
            elif member == "GetServerInformation":
                info = ("fake-notifications", "burntray-tests", "1.0", "1.2")
                conn.send(new_method_return(msg, "ssss", info))
            elif member == "Introspect":
                conn.send(new_method_return(msg, "s", (INTROSPECTION,)))
            else:
                conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod"))


if __name__ == "__main__":
    main()
