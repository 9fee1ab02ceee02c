"""``make bench``: run every benchmark and print its figures (measured in this one run).

Each module in BENCHES exposes ``run() -> list[tuple[str, str]]``: rows of (figure, value).
Targets are printed beside the figures, with MISSED beside any figure that misses its target;
they are goals to watch, not pass/fail tests.

Every module runs in its own process, home and environment, as the tests do: HOME, every XDG
dir and BURNTRAY_HOME in a fresh temporary folder, no display, a session bus address that
cannot connect, and the cburn daemon URL pointed at a closed loopback port - so a real cburn
daemon on 127.0.0.1:8787, the user's hexai cache or desktop never colour (or stall) a figure.
Benchmarks that need a display, a bus or a daemon start their own.
"""

from __future__ import annotations

import importlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

BENCHES = [
    "bench_core",
    "bench_alerts",
    "bench_report",
    "bench_package",
    "bench_sni",
    "bench_tray",
    "bench_cburn",
    "bench_agentlogs",
    "bench_stores",
    "bench_all",
    "bench_otel",
    "bench_otel_hostile",
    "bench_otel_values",
    "bench_hexai",
]


def run_module(name: str) -> None:
    """Run one benchmark module in this process and print its figures."""
    module = importlib.import_module(name)
    started = time.perf_counter()
    for figure, value in module.run():
        print(f"  {figure:<58} {value}", flush=True)
    print(f"  ({time.perf_counter() - started:.1f} s)", flush=True)


# What the tests scrub too (tests/conftest.py): ways to reach the user's desktop, bus or data.
SCRUBBED = (
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "DBUS_SESSION_BUS_ADDRESS",
    "BURNTRAY_CBURN_URL",
    "PYSTRAY_BACKEND",
    "TMUX",
    "XDG_RUNTIME_DIR",
    "RODER_CONFIG_DIR",
    "RODER_DATA_DIR",
    "RODER_STATS_DATA_DIR",
    "YOI_DATA_DIR",
    "YOI_HOME",
    "CLAUDE_CONFIG_DIR",
    "CODEX_HOME",
    "HEXAI_CONFIG",
)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def isolated_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    home = root / "home"
    home.mkdir(parents=True)
    env.update(
        HOME=str(home),
        USERPROFILE=str(home),
        BURNTRAY_HOME=str(root / "burntray"),
        XDG_CACHE_HOME=str(root / "xdg-cache"),
        XDG_CONFIG_HOME=str(root / "xdg-config"),
        XDG_DATA_HOME=str(root / "xdg-data"),
        XDG_STATE_HOME=str(root / "xdg-state"),
        DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent/burntray-bench-bus",
        BURNTRAY_CBURN_URL=f"http://127.0.0.1:{closed_port()}",
        NO_AT_BRIDGE="1",
    )
    return env


def main(names: list[str]) -> int:
    """Each module runs in a fresh process and a fresh isolated environment: one module's
    memory (a million history rows) or threads never colour another's figures (peak RSS of a
    forked child includes the parent's), and nothing of the user's is read."""
    selected = [n for n in BENCHES if not names or n in names or n.removeprefix("bench_") in names]
    failed = []
    for name in selected:
        print(f"== {name}", flush=True)
        with tempfile.TemporaryDirectory(prefix=f"burntray-{name}-") as tmp:
            code = subprocess.call(
                [sys.executable, __file__, "--module", name], env=isolated_env(Path(tmp))
            )
        if code != 0:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--module"]:
        run_module(sys.argv[2])
        sys.exit(0)
    sys.exit(main(sys.argv[1:]))
