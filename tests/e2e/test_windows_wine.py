"""The Windows app and installer as users get them, built and run on Linux under Wine.

``make package-windows``'s build (packaging/windows/build_wine.py: PyInstaller and Inno Setup
under Wine) runs once per session; then, in a private Wine prefix booted fresh for this session,
with its own Xvfb:

- the frozen ``burntray.exe status --source hexai --format json`` on a fixture hexai cache prints
  the numbers the Linux source build prints, and ``--self-test`` passes;
- ``burntrayw.exe`` puts its icon in Wine's system tray, a right click opens the real Win32 menu
  with the live figures (the screenshot is kept as artifacts/e2e/windows-wine-menu.png), and Quit
  from the menu ends it with exit code 0;
- the setup.exe installs silently with both tasks: the files are the onedir plus the uninstaller,
  the Run value, PATH, Start-menu shortcuts and Uninstall key are right, the installed exe passes
  ``--self-test`` and says start at login is on; the uninstaller removes all of it, PATH too.

What Wine cannot show (toasts, the real notification area, SmartScreen, signing, {autopf}) is
the release workflow's native Windows run. Slow-marked; CI runs it (.ci/run installs what it
needs). Elsewhere it skips with the reason when Wine (or, for the chroot route, root) is missing.
"""

from __future__ import annotations

import contextlib
import filecmp
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

import pytest

from burntray.sources.hexai.writer import hexai_update
from tests.processes import wait_for

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging" / "windows"))

import build_wine  # noqa: E402 - packaging/windows/build_wine.py

# One xdist group: `--dist loadgroup` runs these tests on one worker, so the session fixtures
# (the Windows build, the Wine prefix and its Xvfb) are made once, not once per worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("wine-windows")]

# Read at import, before the isolation fixtures move HOME and XDG_CACHE_HOME into tmp: the
# downloads, the chroot and the Windows Python are kept between runs (a rebuild downloads nothing).
CACHE = build_wine.default_cache()
ARTIFACTS = ROOT / "artifacts" / "e2e"
RUN_KEY = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run"
ENV_KEY = r"HKCU\Environment"
APP_ID = "{6E1F3C52-8B0D-4C52-9E0B-7B3A9C1D2F47}"  # packaging/windows/burntray.iss's AppId
UNINSTALL_KEY = rf"HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\{APP_ID}_is1"
SETUP_FLAGS = ["/VERYSILENT", "/SUPPRESSMSGBOXES", "/NORESTART"]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must have it (see .ci/run's Wine block)")
    pytest.skip(reason)


def _check_prerequisites() -> None:
    """build_wine's own preflight: every missing part named with what is needed (a broken
    /dev/null, no root or user namespaces for the chroot, offline, no npm or mmdebstrap)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the Wine build runs on Linux (on Windows, make package builds natively)")
    problems = build_wine.preflight(CACHE)
    if problems:
        _unavailable("the Windows build cannot run here: " + "; ".join(problems))


@pytest.fixture(scope="session")
def windows_build(tmp_path_factory: pytest.TempPathFactory) -> build_wine.WindowsBuild:
    _check_prerequisites()
    out = tmp_path_factory.mktemp("windows-build")
    try:
        return build_wine.build(out / "dist", out / "work", CACHE)
    except build_wine.BuildError as exc:
        pytest.fail(f"the Windows build failed: {exc}")


@dataclass
class WinDesktop:
    """A fresh Wine prefix and its own Xvfb, for this session only."""

    wine: build_wine.Wine
    display: str
    prefix: Path

    def run(self, argv: list[str], env: dict[str, str] | None = None, timeout: float = 120):  # type: ignore[no-untyped-def]
        return self.wine.run(argv, timeout, env)

    def reg_value(self, key: str, name: str) -> str | None:
        """A registry value's data as ``reg query`` prints it, or None when it is absent."""
        result = self.run(["wine", "reg", "query", key, "/v", name], timeout=60)
        if result.returncode != 0:
            return None
        for line in result.stdout.splitlines():
            parts = line.strip().split(None, 2)
            if len(parts) >= 2 and parts[0].lower() == name.lower() and parts[1].startswith("REG_"):
                return parts[2] if len(parts) == 3 else ""
        return None

    def reg_key_exists(self, key: str) -> bool:
        return self.run(["wine", "reg", "query", key], timeout=60).returncode == 0

    def unix(self, windows_path: str) -> Path:
        """The prefix's file for a ``C:\\...`` path."""
        path = PureWindowsPath(windows_path)
        assert path.drive.upper() == "C:", windows_path
        return self.prefix / "drive_c" / Path(*path.parts[1:])

    def xdotool(self, *args: str) -> str:
        result = self.run(["xdotool", *args], timeout=30)
        return result.stdout.strip() if result.returncode == 0 else ""

    def windows(self) -> list[tuple[str, int, int, int, int]]:
        """Top-level X windows: (owner program, x, y, width, height), from ``xwininfo``."""
        out = self.run(["xwininfo", "-root", "-children"], timeout=30).stdout
        found = []
        for line in out.splitlines():
            # 0xa00004 (has no name): ("burntrayw.exe" "burntrayw.exe")  402x331+0+0  +0+0
            if '("' not in line:
                continue
            owner = line.split('("', 1)[1].split('"', 1)[0]
            geometry = line.rsplit(")", 1)[1].split()[0]
            size, _, rest = geometry.partition("+")
            width, height = (int(v) for v in size.split("x"))
            x, y = (int(v) for v in rest.replace("+-", "+").split("+")[:2])
            found.append((owner, x, y, width, height))
        return found


def _free_display() -> int:
    """A display number whose lock file exists neither on the host nor in the chroot (their
    abstract X sockets share one network namespace, so both must be free)."""
    tmps = [Path("/tmp")]
    chroot = build_wine.chroot_dir(CACHE)
    if chroot.exists():
        tmps.append(chroot / "tmp")
    for number in random.sample(range(60, 200), 140):
        if not any((tmp / f".X{number}-lock").exists() for tmp in tmps) and not any(
            (tmp / ".X11-unix" / f"X{number}").exists() for tmp in tmps
        ):
            return number
    raise AssertionError("no free X display number in 60..199")


def _stop_group(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@pytest.fixture(scope="session")
def win(
    windows_build: build_wine.WindowsBuild, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WinDesktop]:
    base = tmp_path_factory.getbasetemp()
    prefix = tmp_path_factory.mktemp("wineprefix") / "pfx"
    number = _free_display()
    wine = build_wine.make_wine(prefix, "auto", CACHE, binds=(base, windows_build.setup.parent))
    wine.display = f":{number}"
    xvfb = wine.popen(
        ["Xvfb", f":{number}", "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
    )
    try:
        # The lock file appears where Xvfb runs (in the chroot's /tmp for the chroot route).
        lock_dir = Path("/tmp") if wine.chroot is None else wine.chroot / "tmp"
        wait_for((lock_dir / ".X11-unix" / f"X{number}").exists, 20, "Xvfb")
        wine.boot()
        yield WinDesktop(wine, f":{number}", prefix)
    finally:
        wine.stop()
        _stop_group(xvfb)


@pytest.fixture
def filled_cache(hexai_dir: Path) -> Path:
    for provider, model, sent, recv in [
        ("openai", "gpt-4.1", 4000, 400),
        ("openai", "gpt-4.1", 12000, 900),
        ("anthropic", "claude-sonnet-4", 8000, 3000),
        ("acme", "mystery-1", 50, 5),
    ]:
        hexai_update(hexai_dir, provider, model, sent, recv)
    return hexai_dir


def _app_env(tmp_path: Path) -> dict[str, str]:
    """The isolated dirs (see tests/conftest.py) as the Windows process names them."""
    return {
        "BURNTRAY_HOME": build_wine.win_path(tmp_path / "burntray"),
        "XDG_CACHE_HOME": build_wine.win_path(tmp_path / "xdg-cache"),
    }


def _figures(stdout: str) -> tuple[object, ...]:
    data = json.loads(stdout)
    return data["source"], data["window"], data["status"]["state"], data["totals"], data["by_model"]


def test_frozen_status_equals_the_linux_source_build(
    win: WinDesktop, windows_build: build_wine.WindowsBuild, filled_cache: Path, tmp_path: Path
) -> None:
    args = ["status", "--source", "hexai", "--format", "json"]
    frozen = win.run(
        ["wine", str(windows_build.onedir / "burntray.exe"), *args], _app_env(tmp_path)
    )
    source = subprocess.run(
        [sys.executable, "-m", "burntray", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert frozen.returncode == 0, frozen.stdout + frozen.stderr
    assert source.returncode == 0, source.stderr
    assert _figures(frozen.stdout) == _figures(source.stdout)
    totals = json.loads(frozen.stdout)["totals"]
    assert (totals["reqs"], totals["sent"], totals["recv"]) == (4, 24050, 4305)


def test_frozen_self_test_passes(
    win: WinDesktop, windows_build: build_wine.WindowsBuild, tmp_path: Path
) -> None:
    result = win.run(
        ["wine", str(windows_build.onedir / "burntray.exe"), "--self-test"], _app_env(tmp_path)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "self-test passed" in result.stdout
    assert "pystray backend 'win32'" in result.stdout, result.stdout


def _menu_header_rows(image: object, box: tuple[int, int, int, int]) -> int:
    """Text rows above the menu's first separator: the disabled header (figures, per model).

    Disabled items are drawn in grey; a separator is a horizontal line across most of the menu.
    """
    from PIL import Image

    assert isinstance(image, Image.Image)
    x, y, width, height = box
    pixels = image.convert("RGB").load()
    assert pixels is not None
    rows, in_text = 0, False
    for row in range(y + 1, y + height - 1):
        dark = [pixels[col, row] for col in range(x + 2, x + width - 2)]
        inked = [p for p in dark if max(p) < 200]
        if len(inked) > 0.7 * len(dark):  # the separator line
            return rows
        if inked and not in_text:
            rows += 1
        in_text = bool(inked)
    return rows


def test_tray_icon_menu_with_live_figures_and_quit(
    win: WinDesktop, windows_build: build_wine.WindowsBuild, filled_cache: Path, tmp_path: Path
) -> None:
    from PIL import ImageGrab

    config = tmp_path / "burntray" / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('source = "hexai"\n', encoding="utf-8")
    app = win.wine.popen(["wine", str(windows_build.onedir / "burntrayw.exe")], _app_env(tmp_path))
    try:
        # Bare Xvfb has no system tray: Wine shows the icons in its own "Wine System Tray".
        tray = wait_for(
            lambda: win.xdotool("search", "--name", "Wine System Tray"), 90, "Wine's tray window"
        ).split()[0]

        def menu() -> tuple[int, int, int, int] | None:
            for owner, x, y, width, height in win.windows():
                if owner == "burntrayw.exe" and width > 100 and height > 100:
                    return (x, y, width, height)
            return None

        # source · window, the figures, and one row per model (3 models in the fixture). The
        # first read may still be under way when the icon appears ("starting…"): then the menu
        # is closed and opened again, a few times at most.
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for attempt in range(5):
            time.sleep(1 + attempt)
            win.xdotool("mousemove", "--window", tray, "8", "10", "click", "3")
            box = wait_for(menu, 20, "the tray icon's menu")
            time.sleep(0.5)  # drawn
            shot = ImageGrab.grab(xdisplay=win.display)
            shot.save(ARTIFACTS / "windows-wine-menu.png")
            if _menu_header_rows(shot, box) >= 2 + 3:
                break
            win.xdotool("key", "Escape")
        else:
            raise AssertionError("the menu's header never showed the live figures")
        # Up from no selection selects the last item, Quit; Return picks it.
        win.xdotool("key", "Up", "Return")
        assert app.wait(30) == 0
    finally:
        _stop_group(app)


def test_setup_installs_and_uninstalls_cleanly(
    win: WinDesktop, windows_build: build_wine.WindowsBuild, tmp_path: Path
) -> None:
    assert win.reg_value(RUN_KEY, "burntray") is None
    assert win.reg_value(ENV_KEY, "Path") is None  # a user with no Path of their own
    log = tmp_path / "setup.log"
    result = win.run(
        ["wine", str(windows_build.setup), *SETUP_FLAGS, "/TASKS=startatlogin,addtopath",
         f"/LOG={build_wine.win_path(log)}"],
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, log.read_text(errors="replace") if log.exists() else ""

    location = win.reg_value(UNINSTALL_KEY, "InstallLocation")
    assert location is not None, "no Uninstall key"
    app = location.rstrip("\\")
    assert app.lower().endswith(r"\appdata\local\programs\burntray"), app
    app_dir = win.unix(app)

    # The files: the onedir, byte for byte, plus the uninstaller.
    installed = {p.relative_to(app_dir) for p in app_dir.rglob("*") if p.is_file()}
    built = {p.relative_to(windows_build.onedir) for p in windows_build.onedir.rglob("*")
             if p.is_file()}  # fmt: skip
    assert installed == built | {Path("unins000.exe"), Path("unins000.dat")}
    mismatched = [
        str(rel)
        for rel in sorted(built)
        if not filecmp.cmp(app_dir / rel, windows_build.onedir / rel, shallow=False)
    ]
    assert mismatched == []

    assert win.reg_value(RUN_KEY, "burntray") == f'"{app}\\burntrayw.exe"'
    assert win.reg_value(ENV_KEY, "Path") == app  # no leading ";" when there was no Path
    assert win.reg_value(UNINSTALL_KEY, "DisplayName") == "burntray"
    assert win.reg_value(UNINSTALL_KEY, "DisplayVersion") == build_wine.version()
    uninstaller = f"{app}\\unins000.exe"
    assert win.reg_value(UNINSTALL_KEY, "UninstallString") == f'"{uninstaller}"'
    programs = win.unix(app).parents[2] / "Roaming/Microsoft/Windows/Start Menu/Programs"
    shortcut = programs / "burntray.lnk"
    assert shortcut.is_file(), sorted(p.name for p in programs.iterdir())
    assert b"burntrayw.exe" in shortcut.read_bytes()
    assert (programs / "Uninstall burntray.lnk").is_file()

    exe = str(app_dir / "burntray.exe")
    env = _app_env(tmp_path)
    self_test = win.run(["wine", exe, "--self-test"], env)
    assert self_test.returncode == 0, self_test.stdout + self_test.stderr
    autostart = win.run(["wine", exe, "autostart", "status"], env)
    assert autostart.returncode == 0, autostart.stdout + autostart.stderr
    assert "start at login: on" in autostart.stdout

    uninstall = win.run(["wine", str(win.unix(uninstaller)), *SETUP_FLAGS], timeout=300)
    assert uninstall.returncode == 0, uninstall.stdout + uninstall.stderr
    # The uninstaller re-runs itself from %TEMP% to delete its own exe: wait for it, bounded.
    wait_for(lambda: not app_dir.exists(), 120, "the uninstaller to remove the app's folder", 0.5)
    assert win.reg_value(RUN_KEY, "burntray") is None
    assert win.reg_value(ENV_KEY, "Path") is None, "uninstall left a Path value"
    assert not win.reg_key_exists(UNINSTALL_KEY)
    assert not shortcut.exists()
    assert not (programs / "Uninstall burntray.lnk").exists()


def test_setup_keeps_the_users_own_path(
    win: WinDesktop, windows_build: build_wine.WindowsBuild
) -> None:
    """A Path the user had is kept as it was: the app's folder is appended, then removed."""
    mine = r"C:\tools;C:\more tools"
    set_path = ["wine", "reg", "add", ENV_KEY, "/v", "Path", "/t", "REG_EXPAND_SZ", "/d", mine]
    assert win.run([*set_path, "/f"], timeout=60).returncode == 0
    result = win.run(
        ["wine", str(windows_build.setup), *SETUP_FLAGS, "/TASKS=addtopath"], timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    app = (win.reg_value(UNINSTALL_KEY, "InstallLocation") or "").rstrip("\\")
    assert app, "no Uninstall key"
    assert win.reg_value(ENV_KEY, "Path") == f"{mine};{app}"
    assert win.reg_value(RUN_KEY, "burntray") is None  # startatlogin was not chosen

    uninstall = win.run(["wine", str(win.unix(app + r"\unins000.exe")), *SETUP_FLAGS], timeout=300)
    assert uninstall.returncode == 0, uninstall.stdout + uninstall.stderr
    wait_for(lambda: not win.unix(app).exists(), 120, "the uninstaller", 0.5)
    assert win.reg_value(ENV_KEY, "Path") == mine
