"""burntray's SNI item in a real StatusNotifierItem host written by someone else.

gtk-sni-tray-standalone (Debian: haskell-gtk-sni-tray-utils) and status-notifier-watcher
(haskell-status-notifier-item-utils) run under Xvfb on a private bus. The icon must appear in
the bar, a left click must run the default entry, its dbusmenu menu must open on a right click
(check entry, radio submenu), and clicking entries must run the app's callbacks (config.toml
saved) - all through real X input (xdotool).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageGrab

from burntray.config import Settings, load_settings
from burntray.config_write import save_settings
from tests.integration.sni_bus import WATCHER, Panel, solid_icon, wait_until
from tests.processes import private_bus, require_tool, start_xvfb, stop_process

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
MAGENTA = (255, 0, 255)
SCREEN = (640, 480)


@pytest.fixture
def display() -> Iterator[str]:
    width, height = SCREEN
    process, number = start_xvfb(screen=f"{width}x{height}x24")
    try:
        yield number
    finally:
        stop_process(process)


def grab(display: str) -> Image.Image:
    # Pillow opens a new X connection per grab, and Xvfb refuses some that come in quick
    # succession ("X connection failed"); a few bounded retries absorb that.
    for attempt in range(20):
        try:
            return ImageGrab.grab(xdisplay=display).convert("RGB")
        except OSError:
            if attempt == 19:
                raise
            time.sleep(0.05)
    raise AssertionError("unreachable")


def icon_box(shot: Image.Image) -> tuple[int, int, int, int] | None:
    """Bounding box of the magenta test icon in a screenshot."""
    r, g, b = shot.split()
    magenta = ImageChops.multiply(
        ImageChops.multiply(
            r.point(lambda v: 255 if v >= 250 else 0), b.point(lambda v: 255 if v >= 250 else 0)
        ),
        g.point(lambda v: 255 if v <= 5 else 0),
    )
    return magenta.getbbox()


def settled_icon(display: str) -> Any:
    """A condition: the icon's box, once two screenshots in a row agree (the host may resize
    the icon once after first drawing it)."""
    seen: list[tuple[int, int, int, int] | None] = [None]

    def check() -> tuple[int, int, int, int] | None:
        box = icon_box(grab(display))
        settled = box if box is not None and box == seen[-1] else None
        seen.append(box)
        return settled

    return check


def label_rows(before: Image.Image, after: Image.Image, ink: int = 128) -> list[tuple[int, int]]:
    """Centres (x, y) of the text lines of a menu that appeared between two screenshots.

    Lines are rows with a pixel darker than ``ink``: 128 finds the entries; 180 also finds the
    grey text of disabled ones (but not the lighter separators and borders)."""
    box = ImageChops.difference(before, after).getbbox()
    if box is None:
        return []
    menu = after.crop(box).convert("L")
    width, height = menu.size
    inked = [any(menu.getpixel((x, y)) < ink for x in range(width)) for y in range(height)]
    rows: list[tuple[int, int]] = []
    start = None
    for y, has_ink in enumerate([*inked, False]):
        if has_ink and start is None:
            start = y
        elif not has_ink and start is not None:
            rows.append((start, y))
            start = None
    centre_x = box[0] + width // 2
    return [(centre_x, box[1] + (top + bottom) // 2) for top, bottom in rows]


def new_rows(before: Image.Image, after: Image.Image, menu_right: int) -> list[tuple[int, int]]:
    """Label rows of a submenu that opened to the right of a menu ending at x = menu_right."""
    width, height = after.size
    right = (menu_right, 0, width, height)
    rows = label_rows(before.crop(right), after.crop(right))
    return [(x + right[0], y) for x, y in rows]


def click(display: str, x: int, y: int, button: int) -> None:
    # Retried like grab(): an xdotool whose X connection was refused has not clicked.
    for attempt in range(20):
        done = subprocess.run(
            ["xdotool", "mousemove", str(x), str(y), "click", str(button)],
            env={**os.environ, "DISPLAY": display},
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
        if done.returncode == 0:
            return
        if attempt == 19:
            raise AssertionError(f"xdotool failed: {done.stderr}")
        time.sleep(0.05)


def key(display: str, name: str) -> None:
    done = subprocess.run(
        ["xdotool", "key", name],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        text=True,
        check=False,
        timeout=10,
    )
    assert done.returncode == 0, f"xdotool key {name} failed: {done.stderr}"


class E2eApp:
    def __init__(self, config_path: Path) -> None:
        self.config_path = config_path
        self.settings = Settings()
        self.reports_opened = threading.Event()

    def open_report(self) -> None:
        self.reports_opened.set()

    def toggle_notifications(self) -> None:
        self.settings = self.settings.replace(notifications=not self.settings.notifications)
        save_settings(self.config_path, self.settings)

    def choose_window(self, window: str) -> Any:
        return lambda: self.set_window(window)

    def set_window(self, window: str) -> None:
        self.settings = self.settings.replace(window=window)
        save_settings(self.config_path, self.settings)

    def menu(self) -> Any:
        import pystray

        return pystray.Menu(
            pystray.MenuItem("Open report", self.open_report, default=True),
            pystray.MenuItem(
                "Notifications",
                self.toggle_notifications,
                checked=lambda _item: self.settings.notifications,
            ),
            pystray.MenuItem(
                "Window",
                pystray.Menu(
                    *(
                        pystray.MenuItem(
                            window,
                            self.choose_window(window),
                            checked=lambda _item, window=window: self.settings.window == window,
                            radio=True,
                        )
                        for window in ("15m", "1h", "24h")
                    )
                ),
            ),
            pystray.MenuItem("Quit", lambda icon: icon.stop()),
        )


def host_registered(panel: Panel, host: subprocess.Popen[bytes]) -> bool:
    if host.poll() is not None:
        log = (ARTIFACTS / "sni-gtk-sni-tray.log").read_text(errors="replace")[-2000:]
        raise AssertionError(f"gtk-sni-tray-standalone exited ({host.returncode}): {log}")
    (names,) = panel.call_bus("ListNames")
    return any(name.startswith("org.kde.StatusNotifierHost-") for name in names)


def host_bar_shown(display: str) -> bool:
    found = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--classname", "gtk-sni-tray-standalone"],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        check=False,
        timeout=10,
    )
    return found.returncode == 0


def open_menu(
    display: str, at: tuple[int, int], entries: int = 4, ink: int = 128
) -> tuple[list[tuple[int, int]], int]:
    """Right-click the icon; the menu's label rows (darker than ``ink``) and its right edge."""
    before = grab(display)
    click(display, *at, button=3)
    rows = wait_until(
        lambda: (rows := label_rows(before, grab(display), ink)) and len(rows) == entries and rows,
        f"the item's menu ({entries} entries) to open in the host",
    )
    box = ImageChops.difference(before, grab(display)).getbbox()
    assert box is not None
    return list(rows), box[2]


@contextmanager
def gtk_sni_host(display: str) -> Iterator[str]:
    """A private bus with status-notifier-watcher and gtk-sni-tray-standalone's bar shown on
    ``display``; yields the bus address."""
    host = require_tool("gtk-sni-tray-standalone")
    watcher_tool = require_tool("status-notifier-watcher")
    require_tool("xdotool")
    ARTIFACTS.mkdir(exist_ok=True)
    host_log = (ARTIFACTS / "sni-gtk-sni-tray.log").open("w")
    with private_bus() as address, Panel(address) as panel:
        env = {
            **os.environ,
            "DISPLAY": display,
            "DBUS_SESSION_BUS_ADDRESS": address,
            "GDK_BACKEND": "x11",
            "NO_AT_BRIDGE": "1",
        }
        # The watcher as its own process, as in a desktop session: gtk-sni-tray's built-in one
        # (--watcher) sometimes crashes the bar when both start at once.
        watcher = subprocess.Popen(
            [watcher_tool], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        tray: subprocess.Popen[bytes] | None = None
        try:
            wait_until(lambda: panel.name_has_owner(WATCHER), "the watcher")
            tray = subprocess.Popen(
                [host, "--bottom", "--size", "32", "--log-level", "DEBUG"],
                env=env,
                stdout=host_log,
                stderr=subprocess.STDOUT,
            )
            # Xvfb drops some connections that arrive at the same moment as another one, so the
            # first wait is on D-Bus (the host registers once it has its display), and only then
            # on X. gtk-sni-tray shows an item twice (and keeps one after it leaves) when the
            # item registers while the bar is still being built; a panel normally starts first,
            # so wait for its bar window as a user's session would have it.
            running = tray
            wait_until(lambda: host_registered(panel, running), "the host on the bus")
            wait_until(lambda: host_bar_shown(display), "the host's bar window")
            yield address
        finally:
            for process in (tray, watcher):
                if process is not None:
                    process.terminate()
                    process.wait(5)
            host_log.close()


def test_icon_appears_in_gtk_sni_tray_and_its_menu_works(display: str, tmp_path: Path) -> None:
    from burntray.ui.sni import SniIcon

    app = E2eApp(tmp_path / "config.toml")
    with gtk_sni_host(display) as address:
        icon = SniIcon(
            "burntray",
            solid_icon((*MAGENTA, 255)),
            "burntray\nhexai · 3.0 rpm",
            app.menu(),
            sni_bus_address=address,
        )
        runner = threading.Thread(target=icon.run)
        runner.start()
        try:
            box = wait_until(settled_icon(display), "the icon drawn (settled) by the host")
            grab(display).save(ARTIFACTS / "sni-gtk-sni-tray-icon.png")
            left, top, right, bottom = box
            # One square icon in the bar at the bottom of the screen.
            assert bottom == SCREEN[1] and right - left == bottom - top >= 16, box
            centre = ((left + right) // 2, (top + bottom) // 2)

            # Left click: the host calls Activate, which runs the default item.
            click(display, *centre, button=1)
            assert app.reports_opened.wait(10), "left click did not run the default item"

            rows, menu_right = open_menu(display, centre)
            grab(display).save(ARTIFACTS / "sni-gtk-sni-tray-menu.png")
            # "Window" opens its submenu (three radio entries) beside the menu.
            before_submenu = grab(display)
            click(display, *rows[2], button=1)
            submenu = wait_until(
                lambda: (
                    (found := new_rows(before_submenu, grab(display), menu_right))
                    and len(found) == 3
                    and found
                ),
                "the Window submenu (3 entries) to open",
            )
            grab(display).save(ARTIFACTS / "sni-gtk-sni-tray-submenu.png")
            click(display, *submenu[2], button=1)  # "24h"
            wait_until(
                lambda: app.config_path.exists() and load_settings(app.config_path).window == "24h",
                "config.toml saved with window = 24h by the menu click",
            )

            rows, _ = open_menu(display, centre)
            click(display, *rows[1], button=1)  # "Notifications" (a check item)
            wait_until(
                lambda: load_settings(app.config_path).notifications is False,
                "config.toml saved with notifications = false",
            )

            rows, _ = open_menu(display, centre)
            click(display, *rows[3], button=1)  # "Quit"
            runner.join(10)
            assert not runner.is_alive(), "Quit from the host's menu did not stop the icon"
            wait_until(lambda: icon_box(grab(display)) is None, "the icon gone from the host")
        finally:
            icon.stop()
            runner.join(10)


GREY_TEXT = 180  # label_rows threshold that also counts disabled (header) rows


class HeaderApp:
    """burntray's menu in miniature: header rows that come and go above fixed entries."""

    def __init__(self) -> None:
        self.headers = ["hexai · $1.20 today"]

    def menu(self) -> Any:
        import pystray

        item, sep = pystray.MenuItem, pystray.Menu.SEPARATOR

        def noop() -> None:
            return None

        def rows() -> Iterator[Any]:
            for text in self.headers:
                yield item(text, None, enabled=False)
            yield sep
            yield item("Open report", noop, default=True)
            yield item("Notifications", noop, checked=lambda _i: True)
            yield item("Alerts", pystray.Menu(item("Spike", noop, checked=lambda _i: True)))
            yield item("Refresh now", noop)
            yield sep
            yield item("Quit", noop)

        return pystray.Menu(rows)


def menu_picture(display: str, background: Image.Image) -> Image.Image:
    """The open menu, cut out of the screen by what differs from ``background``."""
    shot = grab(display)
    box = ImageChops.difference(background, shot).getbbox()
    assert box is not None, "no menu on the screen"
    return shot.crop(box)


def test_menu_stays_right_when_header_rows_change_while_it_is_open(
    display: str, tmp_path: Path
) -> None:
    """Header rows appear and go while the host shows the menu; afterwards the menu must look
    exactly as a fresh item's menu with the same entries: no empty checkbox on entries that
    have none, no blank row (a panel keeps what it knew of every id it saw)."""
    from burntray.ui.sni import SniIcon

    app = HeaderApp()

    def start(address: str) -> tuple[Any, threading.Thread]:
        icon = SniIcon(
            "burntray", solid_icon((*MAGENTA, 255)), "burntray", app.menu(),
            sni_bus_address=address,
        )  # fmt: skip
        runner = threading.Thread(target=icon.run)
        runner.start()
        return icon, runner

    def stop(icon: Any, runner: threading.Thread) -> None:
        icon.stop()
        runner.join(10)
        assert not runner.is_alive()

    with gtk_sni_host(display) as address:
        icon, runner = start(address)
        try:
            box = wait_until(settled_icon(display), "the icon drawn (settled) by the host")
            centre = ((box[0] + box[2]) // 2, (box[1] + box[3]) // 2)
            background = grab(display)
            open_menu(display, centre, entries=6, ink=GREY_TEXT)
            for headers in (
                ["hexai · $1.30 today", "offline: cannot read stats.json"],
                [],
                ["cburn · $0.10 today"],
            ):
                shown = grab(display)
                app.headers = headers
                icon.update_menu()
                # The host redraws the open menu once it has fetched the new layout.
                wait_until(
                    lambda before=shown: ImageChops.difference(before, grab(display)).getbbox(),
                    "the open menu redrawn with the new header rows",
                )
            time.sleep(0.5)  # let the host finish drawing before the picture
            live = menu_picture(display, background)
            live.save(ARTIFACTS / "sni-gtk-sni-tray-menu-live.png")
            key(display, "Escape")
            wait_until(
                lambda: ImageChops.difference(background, grab(display)).getbbox() is None,
                "the menu closed",
            )
            open_menu(display, centre, entries=6, ink=GREY_TEXT)
            time.sleep(0.5)  # let the host finish drawing before the picture
            reopened = menu_picture(display, background)
            reopened.save(ARTIFACTS / "sni-gtk-sni-tray-menu-reopened.png")
        finally:
            stop(icon, runner)
        wait_until(lambda: icon_box(grab(display)) is None, "the first item gone from the host")

        icon, runner = start(address)
        try:
            box = wait_until(settled_icon(display), "the fresh icon drawn by the host")
            centre = ((box[0] + box[2]) // 2, (box[1] + box[3]) // 2)
            background = grab(display)
            open_menu(display, centre, entries=6, ink=GREY_TEXT)
            time.sleep(0.5)
            fresh = menu_picture(display, background)
            fresh.save(ARTIFACTS / "sni-gtk-sni-tray-menu-fresh.png")
        finally:
            stop(icon, runner)
    # Before stable ids, "Alerts" took the id "Notifications" had, and kept its checkbox.
    for name, picture in (("live", live), ("reopened", reopened)):
        assert picture.size == fresh.size, f"the {name} menu has another size (a stale row?)"
        assert ImageChops.difference(picture, fresh).getbbox() is None, (
            f"the {name} menu differs from a fresh one (artifacts/sni-gtk-sni-tray-menu-*.png)"
        )
