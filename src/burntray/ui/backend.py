"""Which tray backend to use here, and why (logged at start and shown by ``burntray doctor``).

Linux, best first: the StatusNotifierItem backend (``burntray.ui.sni``) when a
StatusNotifierWatcher is on the session bus (with or without $DISPLAY: it needs only D-Bus);
pystray appindicator when PyGObject is importable and
a watcher is there; pystray gtk (Gtk.StatusIcon) or, without PyGObject, pystray xorg on an X
display with an XEmbed tray; otherwise the terminal view with a one-line explanation. Windows and
macOS use pystray's native backends. Nothing here imports pystray; each probe is cheap (no
waits beyond a 0.5 s D-Bus call) and never starts daemons (no D-Bus autolaunch).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Mapping

from msgspec import Struct

from burntray.app import AppContext

TERMINAL = "terminal"
PYSTRAY_BACKENDS = ("appindicator", "gtk", "xorg", "win32", "darwin")
SNI_WATCHER = "org.kde.StatusNotifierWatcher"


class BackendChoice(Struct, frozen=True):
    name: str  # "sni", one of PYSTRAY_BACKENDS, or "terminal"
    reason: str

    @property
    def has_menu(self) -> bool:
        return self.name not in ("xorg", TERMINAL)

    @property
    def marshals_to_loop(self) -> bool:
        """GTK backends run a GLib loop: views are applied there via ``GLib.idle_add``."""
        return self.name in ("gtk", "appindicator")


def gi_available() -> tuple[bool, str]:
    """PyGObject with GTK 3 (the ``burntray[gtk]`` extra), without initialising GTK."""
    if importlib.util.find_spec("gi") is None:
        return False, "PyGObject is not installed (pip install 'burntray[gtk]')"
    try:
        import gi  # noqa: PLC0415

        gi.require_version("Gtk", "3.0")
    except (ImportError, ValueError) as exc:
        return False, f"PyGObject cannot load GTK 3: {exc}"
    return True, "PyGObject with GTK 3"


def appindicator_typelib() -> bool:
    try:
        import gi  # noqa: PLC0415

        gi.require_version("AyatanaAppIndicator3", "0.1")
    except (ImportError, ValueError):
        return False
    return True


def sni_watcher_on_bus(env: Mapping[str, str]) -> tuple[bool, str]:
    """Whether something owns org.kde.StatusNotifierWatcher on the session bus (via GIO)."""
    address = env.get("DBUS_SESSION_BUS_ADDRESS", "")
    if not address:
        return False, "no session bus ($DBUS_SESSION_BUS_ADDRESS is not set)"
    try:
        from gi.repository import Gio, GLib  # noqa: PLC0415

        flags = (
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
            | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION
        )
        bus = Gio.DBusConnection.new_for_address_sync(address, flags, None, None)
        try:
            reply = bus.call_sync(
                "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                "NameHasOwner", GLib.Variant("(s)", (SNI_WATCHER,)), None,
                Gio.DBusCallFlags.NONE, 500, None,
            )  # fmt: skip
        finally:
            bus.close_sync(None)
    except Exception as exc:  # GLib.Error and friends: the reason is the message
        return False, f"session bus not reachable: {exc}"
    if reply.unpack()[0]:
        return True, f"{SNI_WATCHER} is on the session bus"
    return False, f"no {SNI_WATCHER} on the session bus"


def xembed_tray(display: str) -> tuple[bool, str]:
    """Whether an XEmbed system tray owns ``_NET_SYSTEM_TRAY_S<screen>`` on ``display``."""
    try:
        from Xlib import X  # noqa: PLC0415
        from Xlib.display import Display  # noqa: PLC0415
    except ImportError:
        return False, "python-xlib is not installed"
    try:
        conn = Display(display)
    except Exception as exc:
        return False, f"cannot open display {display}: {exc}"
    try:
        screen = conn.get_default_screen()
        atom = conn.intern_atom(f"_NET_SYSTEM_TRAY_S{screen}")
        owner = conn.get_selection_owner(atom)
        if owner == X.NONE:
            return False, f"no system tray on display {display}"
        return True, f"system tray on display {display}"
    finally:
        conn.close()


def _no_tray_hint(env: Mapping[str, str]) -> str:
    desktop = env.get("XDG_CURRENT_DESKTOP", "")
    if "GNOME" in desktop.upper():
        return "GNOME needs the AppIndicator extension"
    return "start a panel with a system tray, or use a desktop that has one"


def sni_module_available(env: Mapping[str, str]) -> tuple[bool, str]:
    address = env.get("DBUS_SESSION_BUS_ADDRESS", "")
    if not address:  # the probe would fall back to this process's own environment
        return False, "DBUS_SESSION_BUS_ADDRESS is not set: no session bus"
    try:
        sni = importlib.import_module("burntray.ui.sni")
    except ImportError:
        return False, "the SNI backend is not in this build"
    try:
        ok, why = sni.sni_available(address)
    except Exception as exc:
        return False, f"SNI probe failed: {exc!r}"
    return bool(ok), str(why)


def choose_backend(env: Mapping[str, str] | None = None, platform: str = "") -> BackendChoice:
    env = os.environ if env is None else env
    platform = platform or sys.platform
    forced = env.get("PYSTRAY_BACKEND", "").strip()
    if forced == "dummy":
        return BackendChoice(TERMINAL, "PYSTRAY_BACKEND=dummy has no visible tray")
    if forced:
        return BackendChoice(forced, f"PYSTRAY_BACKEND={forced} is set")
    if platform == "win32":
        return BackendChoice("win32", "Windows notification area")
    if platform == "darwin":
        return BackendChoice("darwin", "macOS menu bar (the icon loop owns the main thread)")

    display, wayland = env.get("DISPLAY", ""), env.get("WAYLAND_DISPLAY", "")
    # SNI needs only the session bus (the panel draws the icon), so it is tried even without a
    # display variable: a session whose panel has a watcher on the bus gets the tray.
    sni_ok, sni_why = sni_module_available(env)
    if sni_ok:
        return BackendChoice("sni", f"StatusNotifierItem: {sni_why}")
    if not display and not wayland:
        return BackendChoice(
            TERMINAL, f"no display ($DISPLAY and $WAYLAND_DISPLAY are not set) and {sni_why}"
        )
    reasons: list[str] = [sni_why]
    gi_ok, gi_why = gi_available()
    if gi_ok:
        watcher, watcher_why = sni_watcher_on_bus(env)
        if watcher and appindicator_typelib():
            return BackendChoice("appindicator", f"pystray appindicator: {watcher_why}")
        reasons.append(watcher_why)
    else:
        reasons.append(gi_why)
    if not display:
        return BackendChoice(
            TERMINAL,
            "Wayland without a StatusNotifierItem host (KDE, waybar, or GNOME with the "
            "AppIndicator extension): " + "; ".join(reasons),
        )
    tray_ok, tray_why = xembed_tray(display)
    if not tray_ok:
        if tray_why.startswith("no system tray"):
            tray_why += f": {_no_tray_hint(env)}"
        return BackendChoice(TERMINAL, tray_why)
    if gi_ok:
        return BackendChoice("gtk", f"pystray gtk (XEmbed): {tray_why}")
    return BackendChoice(
        "xorg",
        f"pystray xorg (XEmbed, no menu: click opens the report): {tray_why}; {gi_why}",
    )


def doctor_lines(ctx: AppContext) -> list[str]:
    """Doctor's [tray] section: which tray backend burntray would use here, and why."""
    choice = choose_backend(ctx.env)
    lines = [f"backend      {choice.name}", f"why          {choice.reason}"]
    if choice.name == TERMINAL:
        lines.append("             `burntray` will show the terminal view instead of an icon")
    return lines
