"""SNI tray backend (issue 5): memory beside pystray's gtk backend, and idle CPU.

Everything runs headless and private: Xvfb, a private dbus-daemon, and Debian's
status-notifier-watcher, so the SNI item really registers. Each icon is its own process
(bench/sni_tray_process.py), measured from /proc.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root: tests.processes
from tests.processes import read_line, start_session_bus, start_xvfb, stop_process

from target import missed

CHILD = Path(__file__).with_name("sni_tray_process.py")
CPU_WINDOW_S = 60.0
LABELS = {"sni": "SniIcon (dbus-fast)", "gtk": "pystray gtk Icon (PyGObject)"}
MODES = {"idle": "no calls", "resets": "same icon/title/menu set at 1 Hz"}
SETTLE_S = 3.0


@contextmanager
def _process(
    args: list[str], env: dict[str, str], **kwargs: Any
) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(args, env=env, text=True, **kwargs)
    try:
        yield process
    finally:
        if process.stdin:
            process.stdin.close()
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _desktop(stack: ExitStack) -> dict[str, str]:
    """Xvfb + private bus + watcher; returns the environment for tray processes."""
    xvfb, display = start_xvfb(screen="640x480x24")
    stack.callback(stop_process, xvfb)
    bus, address = start_session_bus()
    stack.callback(stop_process, bus)
    env = {
        **os.environ,
        "DISPLAY": display,
        "DBUS_SESSION_BUS_ADDRESS": address,
        "NO_AT_BRIDGE": "1",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"),
    }
    env.pop("PYSTRAY_BACKEND", None)
    stack.enter_context(
        _process(
            ["status-notifier-watcher"], env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    )
    sys.path.insert(0, env["PYTHONPATH"])
    from burntray.ui.sni import sni_available

    deadline = time.monotonic() + 10
    while not sni_available(address)[0]:
        if time.monotonic() > deadline:
            raise RuntimeError("status-notifier-watcher did not come up")
        time.sleep(0.05)
    return env


def _tray(stack: ExitStack, env: dict[str, str], backend: str, mode: str) -> int:
    process = stack.enter_context(
        _process(
            [sys.executable, str(CHILD), backend, mode],
            env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    )
    line = read_line(process.stdout, 20, f"{backend} icon ready")
    if line != "ready":
        raise RuntimeError(f"{backend} icon did not start: {line!r}")
    return process.pid


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _gtk_available() -> bool:
    try:
        import gi  # noqa: F401
    except ImportError:
        return False
    return True


def run() -> list[tuple[str, str]]:
    missing = [t for t in ("Xvfb", "dbus-daemon", "status-notifier-watcher") if not shutil.which(t)]
    if missing:
        return [("SNI benchmarks", f"not measured: {', '.join(missing)} missing")]
    backends = ["sni", "gtk"] if _gtk_available() else ["sni"]
    rows: list[tuple[str, str]] = []
    with ExitStack() as stack:
        env = _desktop(stack)
        pids = {
            (backend, mode): _tray(stack, env, backend, mode)
            for backend in backends
            for mode in ("idle", "resets")
        }
        time.sleep(SETTLE_S)  # let start-up work finish before measuring
        for (backend, mode), pid in pids.items():
            rows.append((f"RSS, {LABELS[backend]}, {MODES[mode]}", f"{_rss_mb(pid):.1f} MB"))
        if "gtk" not in backends:
            rows.append(("RSS, pystray gtk Icon", "not measured: PyGObject missing"))
        before = {key: _cpu_s(pid) for key, pid in pids.items()}
        started = time.monotonic()
        time.sleep(CPU_WINDOW_S)
        elapsed = time.monotonic() - started
        for (backend, mode), pid in pids.items():
            share = (_cpu_s(pid) - before[backend, mode]) / elapsed * 100
            # The target is idle with unchanged data; the 1 Hz re-set is a stress run
            # (the app's dispatcher never re-sets a value that did not change).
            target = ""
            if (backend, mode) == ("sni", "idle"):
                target = f" (target <= 0.1 %){missed(share <= 0.1)}"
            rows.append(
                (
                    f"CPU over {elapsed:.0f} s, {LABELS[backend]}, {MODES[mode]}",
                    f"{share:.3f} % of a core{target}",
                )
            )
        for (backend, mode), pid in pids.items():
            rows.append(
                (f"RSS after that, {LABELS[backend]}, {MODES[mode]}", f"{_rss_mb(pid):.1f} MB")
            )
    return rows
