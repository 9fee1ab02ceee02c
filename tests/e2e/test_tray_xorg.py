"""End to end on pystray's xorg backend (the fallback without PyGObject): it docks in an XEmbed
tray, its title follows a real writer, a left click opens the report (or, in builds without
reports, the data folder), and SIGTERM quits it within 2 s with exit code 0."""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.desktop import (
    ARTIFACTS,
    centre,
    icon_window,
    private_desktop,
    require_tools,
    title,
    write_events,
)
from tests.processes import wait_for


def recording_opener(folder: Path) -> Path:
    """Stand-in for the desktop's default application (``xdg-open``, ``$BROWSER``): it records
    what it was asked to open instead of starting a file manager or a browser here."""
    folder.mkdir()
    record = folder / "opened.txt"
    script = folder / "xdg-open"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{record}"\n')
    script.chmod(0o755)
    return record


pytestmark = pytest.mark.slow

BADGE = (38, 42, 50)  # the icon's dark badge colour (burntray.ui.icon)


def assert_drawn_unstretched_on_the_tray(shot: Any, geometry: tuple[int, int, int, int]) -> None:
    """The icon window shows the square badge, not stretched to the slot trayer gives (24x30
    here), over the tray's own background rather than black."""
    cx, cy, width, height = geometry
    left, top = cx - width // 2, cy - height // 2
    window = shot.crop((left, top, left + width, top + height))
    dark = [
        (x, y)
        for x in range(width)
        for y in range(height)
        if all(abs(c - b) <= 12 for c, b in zip(window.getpixel((x, y)), BADGE, strict=True))
    ]
    xs, ys = [x for x, _ in dark], [y for _, y in dark]
    badge_w, badge_h = max(xs) - min(xs) + 1, max(ys) - min(ys) + 1
    assert abs(badge_w - badge_h) <= 2, f"badge {badge_w}x{badge_h} in a {width}x{height} slot"
    corners = [window.getpixel((0, 0)), window.getpixel((width - 1, height - 1))]
    assert all(sum(pixel) > 3 * 150 for pixel in corners), f"dark corners {corners}"


def test_xorg_tray_docks_follows_and_quits(isolated_env: Path) -> None:
    require_tools("Xvfb", "trayer", "dbus-daemon", "xdotool")
    with private_desktop() as desktop:
        bin_dir = isolated_env / "bin"
        record = recording_opener(bin_dir)
        env = dict(desktop.env, PYSTRAY_BACKEND="xorg", BROWSER=str(bin_dir / "xdg-open"))
        env["PATH"] = f"{bin_dir}:{env['PATH']}"
        write_events(env, 2)
        app = subprocess.Popen(
            [sys.executable, "-m", "burntray", "run"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            icon = icon_window(desktop)
            # pystray's xorg backend sets a Latin-1 WM_NAME: "·" arrives as one byte
            assert wait_for(lambda: "\n2 reqs " in title(desktop, icon), 10, "2 reqs")
            # The tooltip says what a click does and how to get a menu (xorg has none).
            assert title(desktop, icon).endswith(
                "\nNo menu on this tray: a left click opens the report. For the menu, install "
                "burntray[gtk] (PyGObject) or use a StatusNotifierItem panel."
            )
            time.sleep(0.5)  # the first drawing may precede the dock: let it redraw once
            shot = desktop.screenshot(ARTIFACTS / "tray-xorg.png").convert("RGB")
            assert_drawn_unstretched_on_the_tray(shot, centre(desktop, icon))
            write_events(env, 1)
            assert wait_for(lambda: "\n3 reqs " in title(desktop, icon), 5, "3 reqs")
            x, y, _w, _h = centre(desktop, icon)
            desktop.xdotool("mousemove", str(x), str(y), "click", "1")
            opened = wait_for(lambda: record.exists() and record.read_text(), 10, "a click")
            if importlib.util.find_spec("burntray.report") is not None:
                reports = Path(env["BURNTRAY_HOME"]) / "cache" / "reports"
                assert opened.startswith(reports.as_uri()) and ".html" in opened, opened
            else:  # a build without reports opens the data folder
                assert str(Path(env["BURNTRAY_HOME"]) / "data") in opened, opened
            app.send_signal(signal.SIGTERM)
            assert app.wait(60) == 0  # a hang guard: it ends on the signal
        finally:
            if app.poll() is None:
                app.kill()
            output = app.communicate(timeout=10)[0].decode(errors="replace")
        assert "Traceback" not in output, output
        log = (Path(env["BURNTRAY_HOME"]) / "log" / "burntray.log").read_text()
        assert "tray backend: xorg (PYSTRAY_BACKEND=xorg is set)" in log
