"""End to end: the real app under Xvfb + trayer + a private D-Bus, pystray's gtk backend.

A real writer process feeds hexai's cache; the test looks only from the outside, like a user
and a window manager would: the X window of the docked icon (its name is the tooltip title), a
screenshot, right-click and keys sent with xdotool, config.toml on disk, the exit code, and the
process table. Screenshots are kept under artifacts/e2e/ (look at them when this fails).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from burntray.config import load_settings
from tests.e2e.desktop import (
    ARTIFACTS,
    Desktop,
    centre,
    icon_window,
    private_desktop,
    require_gi,
    require_tools,
    title,
    write_events,
)
from tests.processes import wait_for

pytestmark = pytest.mark.slow


def marked_processes(marker: str) -> list[int]:
    """Processes carrying our marker in their environment (the app and anything it started)."""
    needle = f"BURNTRAY_E2E_MARK={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def visible_menus(desktop: Desktop, icon: str) -> list[str]:
    windows = desktop.xdotool("search", "--onlyvisible", "--class", "burntray").split()
    return [w for w in windows if w != icon]


def test_gtk_tray_end_to_end(isolated_env: Path) -> None:
    require_tools("Xvfb", "trayer", "dbus-daemon", "xdotool")
    require_gi()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with private_desktop() as desktop:
        marker = uuid.uuid4().hex
        env = dict(desktop.env, BURNTRAY_E2E_MARK=marker)
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
        try:
            icon = icon_window(desktop)
            assert wait_for(lambda: "\n3 reqs · 0.05 RPM" in title(desktop, icon), 10, "3 reqs")
            assert title(desktop, icon).startswith("burntray · all · 1h\n")
            x, y, w, h = centre(desktop, icon)
            assert y < 40 and x > 900, "docked in trayer's panel (top right)"
            shot = desktop.screenshot(ARTIFACTS / "tray-docked.png")
            badge = shot.crop((x - w // 2, y - h // 2, x + w // 2, y + h // 2)).convert("RGB")
            colours = badge.getcolors(4096) or []
            assert len(colours) > 10, "the icon is drawn (not an empty socket)"

            # the writer appends: the title follows
            write_events(env, 2)
            assert wait_for(lambda: "\n5 reqs · " in title(desktop, icon), 5, "5 reqs")

            # right-click opens the menu; Window > 15 min changes the title and config.toml
            desktop.xdotool("mousemove", str(x), str(y), "click", "3")
            wait_for(lambda: visible_menus(desktop, icon), 5, "the menu to open")
            desktop.screenshot(ARTIFACTS / "tray-menu.png")
            for key in ("Down", "Right", "Down"):  # Window (first enabled item) > 5 min > 15 min
                desktop.xdotool("key", key)
            wait_for(lambda: len(visible_menus(desktop, icon)) >= 2, 5, "the Window submenu")
            desktop.screenshot(ARTIFACTS / "tray-menu-window.png")
            desktop.xdotool("key", "Return")
            assert wait_for(
                lambda: title(desktop, icon).startswith("burntray · all · 15m\n5 reqs · 0.33"),
                5,
                "the 15 min title",
            )
            config = Path(env["BURNTRAY_HOME"]) / "config" / "config.toml"
            assert load_settings(config).window == "15m"
            wait_for(lambda: not visible_menus(desktop, icon), 5, "the menu to close")

            # Quit (the last item) exits 0, leaving nothing behind
            desktop.xdotool("mousemove", str(x), str(y), "click", "3")
            wait_for(lambda: visible_menus(desktop, icon), 5, "the menu to open again")
            desktop.xdotool("key", "Up")  # from the top, Up selects the last item: Quit
            desktop.xdotool("key", "Return")
            assert app.wait(10) == 0
        finally:
            if app.poll() is None:
                app.kill()
            output = app.communicate(timeout=10)[0].decode(errors="replace")
        assert "Traceback" not in output, output
        assert wait_for(lambda: not marked_processes(marker), 5, "no stray processes") is True
        log = (Path(env["BURNTRAY_HOME"]) / "log" / "burntray.log").read_text()
        assert "tray backend: gtk (pystray gtk (XEmbed): system tray on display" in log
        assert "tray: stopped" in log


def test_sigterm_and_sigint_quit_within_two_seconds(isolated_env: Path) -> None:
    require_tools("Xvfb", "trayer", "dbus-daemon", "xdotool")
    require_gi()
    with private_desktop() as desktop:
        for run, signum in enumerate((signal.SIGTERM, signal.SIGINT), start=1):
            app = subprocess.Popen(
                [sys.executable, "-m", "burntray", "run"],
                env=desktop.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                icon_window(desktop)
                wait_for(
                    lambda: _log(desktop.env).count("tray: ready") == run,  # noqa: B023
                    5,
                    "the tray to be ready",
                )
                app.send_signal(signum)
                assert app.wait(60) == 0, signum  # a hang guard: it ends on the signal
            finally:
                if app.poll() is None:
                    app.kill()
                    app.wait(5)
            wait_for(
                lambda: not desktop.xdotool("search", "--onlyvisible", "--name", "^burntray ·"),
                5,
                "the icon to go away",
            )


def _log(env: dict[str, str]) -> str:
    path = Path(env["BURNTRAY_HOME"]) / "log" / "burntray.log"
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""
