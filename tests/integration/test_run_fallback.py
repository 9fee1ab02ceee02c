"""``burntray run`` / ``burntray demo`` as real processes: the terminal view with a one-line
reason when there is no display or no tray, and a clean exit on SIGTERM/SIGINT."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from burntray.sources.hexai.writer import hexai_update
from tests.e2e.desktop import private_desktop, require_tools
from tests.integration.sni_bus import Panel, fake_watcher
from tests.processes import private_bus


def read_until(proc: subprocess.Popen[bytes], want: list[str], timeout: float = 10) -> str:
    """Read stdout+stderr until every string in ``want`` was seen (or fail at the deadline)."""
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    seen = b""
    deadline = time.monotonic() + timeout
    while not all(w in seen.decode(errors="replace") for w in want):
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None:
            raise AssertionError(f"did not see {want} in: {seen.decode(errors='replace')!r}")
        if selector.select(left):
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            seen += chunk
    return seen.decode(errors="replace")


@contextmanager
def running(args: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """``burntray ARGS`` as a process; killed at the end if the test did not stop it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "burntray", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
        assert proc.stdout is not None
        proc.stdout.close()


def stop(proc: subprocess.Popen[bytes], signum: int = signal.SIGTERM) -> int:
    proc.send_signal(signum)
    return proc.wait(60)  # a hang guard: it ends on the signal (bench_tray times how fast)


def test_no_display_runs_the_terminal_view(hexai_dir: Path) -> None:
    hexai_update(hexai_dir, "openai", "gpt-4.1", 4000, 1000)
    env = dict(os.environ)
    env.pop("PYSTRAY_BACKEND")  # the suite's dummy backend would be the reason otherwise
    with running(["run"], env) as proc:
        out = read_until(
            proc,
            [
                "burntray: terminal view (no tray: no display ($DISPLAY and $WAYLAND_DISPLAY are "
                "not set) and cannot connect to the session bus at unix:path=/nonexistent/",
                "Ctrl-C quits",
                "all · 1h · 1 reqs · 0.02 rpm",
            ],
        )
        assert "Traceback" not in out
        assert stop(proc, signal.SIGINT) == 0


TEARDOWN_MARKER = """\
import os


class _Teardown:
    def __del__(self):  # runs when the interpreter clears modules at the end
        os.write(2, b"interpreter teardown ran\\n")


_marker = _Teardown()
"""


def test_run_ends_without_the_interpreters_teardown(hexai_dir: Path, tmp_path: Path) -> None:
    """After SIGTERM, burntray's own shutdown is all there is: the interpreter's teardown that
    followed it (module clearing, finalizers) took 0.3-2 s after a GTK and D-Bus session. A
    module-level object whose finalizer writes to stderr shows whether that teardown ran."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(TEARDOWN_MARKER)
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    env = dict(os.environ, PYTHONPATH=path)
    control = subprocess.run(
        [sys.executable, "-m", "burntray", "--version"],
        env=env, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    # the marker works: --version ends normally (status, like run, now skips the teardown)
    assert "interpreter teardown ran" in control.stderr
    with running(["--terminal"], env) as proc:
        read_until(proc, ["Ctrl-C quits", "all · 1h · "])
        assert stop(proc) == 0
        assert proc.stdout is not None
        rest = proc.stdout.read().decode(errors="replace")
    assert "interpreter teardown ran" not in rest


def test_run_options_work_on_the_bare_command(hexai_dir: Path) -> None:
    """`burntray --terminal -v` is `burntray run --terminal -v` (bare `burntray` runs)."""
    hexai_update(hexai_dir, "openai", "gpt-4.1", 4000, 1000)
    with running(["--terminal", "-v"], dict(os.environ)) as proc:
        read_until(
            proc,
            [
                "burntray: terminal view (asked for with --terminal)",
                "terminal view: started (source all, window 1h)",  # -v: the log on stderr too
                "all · 1h · 1 reqs",
            ],
        )
        assert stop(proc) == 0
    with running(["--terminal"], dict(os.environ)) as proc:
        out = read_until(proc, ["all · 1h · 1 reqs"])
        assert stop(proc) == 0
    assert "terminal view: started" not in out  # without -v nothing is logged to stderr
    misplaced = subprocess.run(
        [sys.executable, "-m", "burntray", "-v", "status"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert misplaced.returncode == 2
    assert "--terminal and -v go with run or demo, not status" in misplaced.stderr


@pytest.mark.slow
def test_no_display_but_a_watcher_on_the_bus_runs_the_sni_tray(hexai_dir: Path) -> None:
    """SNI needs only D-Bus: a session bus with a StatusNotifierWatcher and no $DISPLAY (a
    panel reached over D-Bus alone) gets the tray item, not the terminal view."""
    require_tools("dbus-daemon")
    with private_bus() as address, Panel(address) as panel, fake_watcher(address):
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=address)
        for name in ("PYSTRAY_BACKEND", "DISPLAY", "WAYLAND_DISPLAY"):
            env.pop(name, None)
        with running(["run", "-v"], env) as proc:
            registered = panel.wait_signal("StatusNotifierItemRegistered")
            assert registered.body[0].startswith("org.kde.StatusNotifierItem-")
            assert stop(proc) == 0
            assert proc.stdout is not None
            out = proc.stdout.read().decode(errors="replace")
    assert "terminal view" not in out and "Traceback" not in out
    assert "tray backend: sni (StatusNotifierItem: " in out, out


@pytest.mark.slow
def test_display_without_a_tray_explains_gnome(isolated_env: Path) -> None:
    require_tools("Xvfb", "dbus-daemon")
    with private_desktop(tray=False) as desktop:
        env = dict(desktop.env, XDG_CURRENT_DESKTOP="ubuntu:GNOME")
        with running(["run"], env) as proc:
            read_until(
                proc,
                [
                    f"no tray: no system tray on display {desktop.display}: "
                    "GNOME needs the AppIndicator extension",
                    "all · 1h · 0 reqs",  # the view runs (and handles signals) from here on
                ],
            )
            assert stop(proc) == 0
        doctor = subprocess.run(
            [sys.executable, "-m", "burntray", "doctor"],
            env=env, capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert "[tray]\n  backend      terminal\n" in doctor.stdout
        assert "GNOME needs the AppIndicator extension" in doctor.stdout


def test_demo_in_the_terminal_is_labelled_and_private(isolated_env: Path, hexai_dir: Path) -> None:
    with running(["demo", "--terminal"], dict(os.environ)) as proc:  # no backend probing
        out = read_until(proc, ["DEMO with synthetic data", "DEMO · hexai · 1h · "])
        assert stop(proc) == 0
    line = next(line for line in out.splitlines() if line.startswith("DEMO · hexai · 1h · "))
    reqs = int(line.split(" · ")[3].split()[0])
    assert reqs > 10  # the backfilled synthetic traffic
    assert list(hexai_dir.iterdir()) == []  # the user's hexai cache was never written
    assert (isolated_env / "burntray" / "cache" / "demo" / "hexai" / "stats.json").is_file()
