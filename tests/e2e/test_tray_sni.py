"""End to end on the StatusNotifierItem path: with a StatusNotifierWatcher on the session bus,
``burntray run`` picks the SNI backend by itself, registers with the watcher, a real SNI host
(gtk-sni-tray-standalone) draws the icon, the item's ToolTip carries the live numbers and
follows a writer, and SIGTERM quits within 2 s with exit code 0. Read from outside over D-Bus
with gdbus, as a panel would."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.desktop import (
    ARTIFACTS,
    Desktop,
    private_desktop,
    require_tools,
    write_events,
)
from tests.processes import stop_process, wait_for

pytestmark = pytest.mark.slow
WATCHER = "org.kde.StatusNotifierWatcher"


def gdbus_call(desktop: Desktop, dest: str, path: str, method: str, *args: str) -> str:
    out = subprocess.run(
        ["gdbus", "call", "--session", "--dest", dest, "--object-path", path,
         "--method", method, *args],
        env=desktop.env, capture_output=True, text=True, timeout=10, check=False,
    )  # fmt: skip
    return out.stdout.strip()


def get_property(desktop: Desktop, dest: str, path: str, interface: str, name: str) -> str:
    return gdbus_call(desktop, dest, path, "org.freedesktop.DBus.Properties.Get", interface, name)


def test_sni_tray_end_to_end(isolated_env: Path) -> None:
    require_tools("Xvfb", "dbus-daemon", "xdotool", "gdbus", "status-notifier-watcher",
                  "gtk-sni-tray-standalone")  # fmt: skip
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with private_desktop(tray=False) as desktop:
        env = dict(desktop.env, GDK_BACKEND="x11")
        desktop.env = env
        helpers = [
            subprocess.Popen(
                ["status-notifier-watcher"],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        ]  # fmt: skip
        app = None
        try:
            wait_for(
                lambda: "true" in gdbus_call(
                    desktop, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner", WATCHER,
                ),
                10,
                "the StatusNotifierWatcher",
            )  # fmt: skip
            helpers.append(
                subprocess.Popen(
                    ["gtk-sni-tray-standalone", "--bottom", "--size", "32"],
                    env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )
            )  # fmt: skip
            wait_for(
                lambda: desktop.xdotool(
                    "search", "--onlyvisible", "--classname", "gtk-sni-tray-standalone"
                ),
                15,
                "the SNI host's bar",
            )
            write_events(env, 3)
            # an existing configuration on the rolling hour (a first start would show today)
            config = Path(env["BURNTRAY_HOME"]) / "config" / "config.toml"
            config.parent.mkdir(parents=True, exist_ok=True)
            config.write_text('window = "1h"\n')
            app = subprocess.Popen(
                [sys.executable, "-m", "burntray", "run"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            items = wait_for(
                lambda: "StatusNotifierItem" in (
                    found := get_property(desktop, WATCHER, "/StatusNotifierWatcher", WATCHER,
                                          "RegisteredStatusNotifierItems")
                ) and found,
                10,
                "burntray's item to register",
            )  # fmt: skip
            service = str(items).split("'")[1].split("/")[0]

            def tooltip() -> str:
                return get_property(
                    desktop, service, "/StatusNotifierItem", "org.kde.StatusNotifierItem",
                    "ToolTip",
                )  # fmt: skip

            assert wait_for(lambda: "3 reqs · 0.05 RPM" in tooltip(), 10, "the live tooltip")
            assert "burntray · all · 1h" in tooltip()

            # the host draws it: the bar's corner (bottom left) is no longer empty
            def icon_drawn() -> bool:
                shot = desktop.screenshot(ARTIFACTS / "tray-sni.png")
                corner = shot.crop((0, 736, 32, 768)).convert("RGB")
                return len(corner.getcolors(4096) or []) > 10

            assert wait_for(icon_drawn, 10, "the icon drawn by the host")
            write_events(env, 1)
            assert wait_for(lambda: "4 reqs · " in tooltip(), 5, "the tooltip to follow")

            app.send_signal(signal.SIGTERM)
            assert app.wait(60) == 0  # a hang guard: it ends on the signal
        finally:
            output = ""
            if app is not None:
                if app.poll() is None:
                    app.kill()
                output = app.communicate(timeout=10)[0].decode(errors="replace")
            for helper in reversed(helpers):
                stop_process(helper)
        assert "Traceback" not in output, output
        log = (Path(env["BURNTRAY_HOME"]) / "log" / "burntray.log").read_text()
        assert "tray backend: sni (StatusNotifierItem: " in log
