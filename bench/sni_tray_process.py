"""One tray icon process for bench_sni: ``python sni_tray_process.py sni|gtk idle|resets``.

It runs a burntray-like icon (64 px image, a menu with a radio submenu and check items) with the
chosen backend, prints "ready" once the icon is shown, and with ``resets`` sets the same icon,
title and menu again every second, as an app polling unchanged data would. It stops when its
stdin closes.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

from PIL import Image, ImageDraw


def make_image() -> Image.Image:
    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((2, 2, 61, 61), radius=12, fill=(230, 90, 30, 255))
    draw.text((14, 24), "3.0", fill=(255, 255, 255, 255))
    return image


def make_menu(pystray: Any, state: dict[str, Any]) -> Any:
    def window_item(window: str) -> Any:
        return pystray.MenuItem(
            window,
            lambda: state.update(window=window),
            checked=lambda _i: state["window"] == window,
            radio=True,
        )

    return pystray.Menu(
        pystray.MenuItem("Open report", lambda: None, default=True),
        pystray.MenuItem("hexai: 120 req · 3.0 rpm · $0.42", None, enabled=False),
        pystray.Menu.SEPARATOR,
        pystray.MenuItem("Window", pystray.Menu(*(window_item(w) for w in ("15m", "1h", "24h")))),
        pystray.MenuItem(
            "Notifications",
            lambda: state.update(notify=not state["notify"]),
            checked=lambda _i: state["notify"],
        ),
        pystray.Menu.SEPARATOR,
        pystray.MenuItem("Quit", lambda icon: icon.stop()),
    )


def main(backend: str, mode: str) -> None:
    state: dict[str, Any] = {"window": "1h", "notify": True}
    title = "burntray\nhexai · 120 req · 3.0 rpm · $0.42"
    if backend == "sni":
        from burntray.ui.sni import SniIcon
        from burntray.ui.sni.pystray_loader import load_pystray

        pystray = load_pystray()
        icon = SniIcon("burntray", make_image(), title, make_menu(pystray, state))
    else:
        os.environ["PYSTRAY_BACKEND"] = backend
        import pystray

        icon = pystray.Icon("burntray", make_image(), title, make_menu(pystray, state))
    stop = threading.Event()

    def watch_stdin() -> None:
        sys.stdin.read()
        stop.set()
        icon.stop()

    def setup(icon: Any) -> None:
        icon.visible = True
        print("ready", flush=True)
        threading.Thread(target=watch_stdin, daemon=True).start()
        while mode == "resets" and not stop.wait(1.0):
            icon.icon = make_image()  # a fresh image with the same pixels, as a redraw gives
            icon.title = title
            icon.update_menu()

    icon.run(setup)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
