"""A private headless desktop for end-to-end tests: Xvfb (24-bit), a private session bus and
trayer as the XEmbed system tray. Nothing reaches the user's display or bus; every process is
started here and stopped (and reaped) here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.processes import require_tool, start_session_bus, start_xvfb, stop_process, wait_for

TOOLS = ("Xvfb", "trayer", "dbus-daemon", "xdotool")


def require_tools(*tools: str) -> None:
    """Skip without a tool locally; in CI a missing tool is a failure, not a skip."""
    for tool in tools:
        require_tool(tool)


def require_gi() -> None:
    try:
        import gi

        gi.require_version("Gtk", "3.0")
    except (ImportError, ValueError) as exc:
        message = f"PyGObject with GTK 3 is not importable ({exc}): see .ci/run"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@dataclass
class Desktop:
    display: str
    bus_address: str
    env: dict[str, str]
    procs: list[subprocess.Popen[Any]] = field(default_factory=list)

    def tray_owner(self) -> int:
        from Xlib.display import Display

        conn = Display(self.display)
        try:
            atom = conn.intern_atom("_NET_SYSTEM_TRAY_S0")
            owner = conn.get_selection_owner(atom)
            return 0 if owner == 0 else int(owner.id)
        finally:
            conn.close()

    def screenshot(self, path: Path):  # type: ignore[no-untyped-def]
        from PIL import ImageGrab

        image = ImageGrab.grab(xdisplay=self.display)
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path)
        return image

    def xdotool(self, *args: str) -> str:
        out = subprocess.run(
            ["xdotool", *args], env=self.env, capture_output=True, timeout=10, check=False
        )
        return out.stdout.decode(errors="replace").strip()


def _start_trayer(desktop: Desktop, procs: list[subprocess.Popen[Any]]) -> None:
    """Start trayer and wait until it owns the tray selection. trayer sometimes stalls at
    start on a fresh Xvfb (about 1 run in 10 here): then it is replaced, up to 3 times."""
    errors = []
    for _attempt in range(3):
        # a file, not a pipe, for trayer's messages: trayer never blocks on it
        with tempfile.TemporaryFile() as said:
            proc = subprocess.Popen(
                ["trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
                 "--height", "32", "--SetDockType", "false", "--transparent", "false",
                 "--tint", "0xdddddd"],
                env=desktop.env, stdout=subprocess.DEVNULL, stderr=said,
            )  # fmt: skip
            procs.append(proc)
            try:
                wait_for(desktop.tray_owner, 3, "trayer to own _NET_SYSTEM_TRAY_S0")
                return
            except AssertionError as exc:
                stop_process(proc)
                procs.remove(proc)
                said.seek(0)
                errors.append(f"{exc}; trayer said: {said.read().decode(errors='replace')!r}")
    raise AssertionError("trayer did not start: " + " | ".join(errors))


@contextmanager
def private_desktop(tray: bool = True) -> Iterator[Desktop]:
    env = dict(os.environ)
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "PYSTRAY_BACKEND"):
        env.pop(var, None)
    env["NO_AT_BRIDGE"] = "1"  # no accessibility bus daemon outliving the test
    env["GTK_A11Y"] = "none"
    procs: list[subprocess.Popen[Any]] = []
    try:
        xvfb, display = start_xvfb(env)
        procs.append(xvfb)
        env["DISPLAY"] = display
        bus, address = start_session_bus(env)
        procs.append(bus)
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        desktop = Desktop(display, address, env, procs)
        if tray:
            _start_trayer(desktop, procs)
        yield desktop
    finally:
        for proc in reversed(procs):
            stop_process(proc)


# --- what the tray tests look at ---------------------------------------------------------

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"


def write_events(env: dict[str, str], count: int) -> None:
    """A separate writer process, appending as hexai does (lock, rewrite, rename)."""
    code = (
        "import os, sys; from pathlib import Path\n"
        "from burntray.sources.hexai.writer import hexai_update\n"
        "cache = Path(os.environ['XDG_CACHE_HOME']) / 'hexai'\n"
        "for _ in range(int(sys.argv[1])):\n"
        "    hexai_update(cache, 'openai', 'gpt-4.1', 4000, 1000)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(count)], env=env, check=True, timeout=30)


def icon_window(desktop: Desktop) -> str:
    """The docked icon's X window: visible, named by the tooltip title."""
    found = wait_for(
        lambda: desktop.xdotool("search", "--onlyvisible", "--name", "^burntray ·"),
        15,
        "the tray icon to dock",
    )
    return str(found).split()[0]


def title(desktop: Desktop, window: str) -> str:
    return desktop.xdotool("getwindowname", window)


def centre(desktop: Desktop, window: str) -> tuple[int, int, int, int]:
    geo = dict(
        line.split("=", 1)
        for line in desktop.xdotool("getwindowgeometry", "--shell", window).splitlines()
    )
    x, y, w, h = (int(geo[k]) for k in ("X", "Y", "WIDTH", "HEIGHT"))
    return x + w // 2, y + h // 2, w, h
