"""Start at login, the native way on each OS.

- Linux (and other XDG desktops): a ``burntray.desktop`` entry in ``$XDG_CONFIG_HOME/autostart``
  (XDG Autostart spec; GNOME, KDE, XFCE, LXQt, Cinnamon and MATE all read it).
- Windows: a ``burntray`` value under ``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run``.
- macOS: a LaunchAgent plist in ``~/Library/LaunchAgents`` with ``RunAtLoad``.

The registered command starts burntray the way the user installed it: the frozen binary when
frozen (the windowed one on Windows, so no console window opens at login), else the running
interpreter with ``-m burntray``. The contract the tray codes against is the three module
functions ``supported``, ``is_enabled`` and ``set_enabled``.
"""

from __future__ import annotations

import os
import plistlib
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from burntray.errors import BurntrayError
from burntray.io.atomic import atomic_write

APP_NAME = "burntray"
LAUNCH_AGENT_LABEL = "io.github.burntray"
WINDOWS_RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
# Name of the windowed (no console) executable beside the console one in a frozen build.
WINDOWED_EXE_STEM = "burntrayw"


class AutostartError(BurntrayError):
    """Start at login could not be changed or read; the message says where and why."""


def launch_command(
    *,
    frozen: bool | None = None,
    executable: str | None = None,
    platform: str | None = None,
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """The argv that starts burntray's tray the way this copy was installed."""
    frozen = bool(getattr(sys, "frozen", False)) if frozen is None else frozen
    env = os.environ if env is None else env
    exe = Path(executable or sys.executable)
    platform = platform or sys.platform
    if frozen:
        if platform == "win32":
            windowed = exe.with_name(WINDOWED_EXE_STEM + ".exe")
            return [str(windowed if windowed.exists() else exe)]
        if platform == "darwin":
            windowed = exe.with_name(WINDOWED_EXE_STEM)
            return [str(windowed if windowed.exists() else exe)]
        # In an AppImage the executable lives in a mount that is gone after exit: register the
        # .AppImage file itself, which the AppImage runtime names in $APPIMAGE.
        appimage = env.get("APPIMAGE", "")
        return [appimage] if appimage else [str(exe)]
    if platform == "win32":
        # pythonw.exe runs the same interpreter without opening a console window at login.
        windowed = exe.with_name("pythonw.exe")
        exe = windowed if windowed.exists() else exe
    return [str(exe), "-m", APP_NAME]


# --- Linux / XDG -----------------------------------------------------------------------------

_EXEC_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def desktop_exec_value(argv: Sequence[str]) -> str:
    """``argv`` as a Desktop Entry ``Exec=`` value.

    The spec quotes an argument holding reserved characters in double quotes, escaping ``"``,
    `` ` ``, ``$`` and ``\\`` inside with a backslash; the key file format then escapes every
    backslash once more, and a literal ``%`` is written ``%%`` (field codes start with ``%``).
    """
    parts = []
    for raw in argv:
        arg = raw.replace("%", "%%")
        if arg and not (set(arg) & _EXEC_RESERVED):
            parts.append(arg)
            continue
        quoted = "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg)
        parts.append('"' + quoted + '"')
    return " ".join(parts).replace("\\", "\\\\")


def desktop_entry(argv: Sequence[str]) -> str:
    """The autostart ``.desktop`` file that runs ``argv`` at login."""
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        f"Name={APP_NAME}\n"
        "Comment=LLM usage in the system tray: requests, RPM, tokens and cost\n"
        f"Exec={desktop_exec_value(argv)}\n"
        f"Icon={APP_NAME}\n"
        "Terminal=false\n"
        "Categories=System;Monitor;\n"
        "X-GNOME-Autostart-enabled=true\n"
        # Trays appear a moment after login; a short delay lets the icon dock on the first try.
        "X-GNOME-Autostart-Delay=3\n"
    )


class _Backend(Protocol):
    def describe(self) -> str: ...
    def is_enabled(self) -> bool: ...
    def enable(self, argv: Sequence[str]) -> None: ...
    def disable(self) -> None: ...


class _EntryFile:
    """An autostart entry that is one file: written atomically (a crash never leaves half an
    entry behind), removed to switch off. Subclasses say where and what."""

    path: Path

    def entry(self, argv: Sequence[str]) -> bytes:
        raise NotImplementedError

    def enable(self, argv: Sequence[str]) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, self.entry(argv), mode=0o644)
        except OSError as exc:
            raise AutostartError(f"cannot write {self.path}: {exc.strerror or exc}") from exc

    def disable(self) -> None:
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            raise AutostartError(f"cannot remove {self.path}: {exc.strerror or exc}") from exc


class XdgAutostart(_EntryFile):
    """``$XDG_CONFIG_HOME/autostart/burntray.desktop`` (``~/.config`` when unset or empty)."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        config_home = env.get("XDG_CONFIG_HOME", "").strip()
        if config_home and Path(config_home).is_absolute():
            base = Path(config_home)
        else:  # the spec: a relative or empty value is ignored
            base = Path(env.get("HOME") or Path.home()) / ".config"
        self.path = base / "autostart" / f"{APP_NAME}.desktop"

    def describe(self) -> str:
        return f"XDG autostart entry {self.path}"

    def is_enabled(self) -> bool:
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise AutostartError(f"cannot read {self.path}: {exc.strerror or exc}") from exc
        # Desktops honour Hidden=true and X-GNOME-Autostart-enabled=false as "switched off".
        lines = {line.strip().replace(" ", "") for line in text.splitlines()}
        return not ({"Hidden=true", "X-GNOME-Autostart-enabled=false"} & lines)

    def entry(self, argv: Sequence[str]) -> bytes:
        return desktop_entry(argv).encode("utf-8")


# --- macOS -----------------------------------------------------------------------------------


def launch_agent_plist(argv: Sequence[str]) -> bytes:
    """A per-user LaunchAgent that starts ``argv`` once at login, in the GUI session."""
    return plistlib.dumps(
        {
            "Label": LAUNCH_AGENT_LABEL,
            "ProgramArguments": list(argv),
            "RunAtLoad": True,
            "KeepAlive": False,
            "ProcessType": "Interactive",
            "LimitLoadToSessionType": "Aqua",
        }
    )


class LaunchAgentAutostart(_EntryFile):
    """``~/Library/LaunchAgents/io.github.burntray.plist``; launchd reads it at next login."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        home = Path(env.get("HOME") or Path.home())
        self.path = home / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"

    def describe(self) -> str:
        return f"LaunchAgent {self.path}"

    def is_enabled(self) -> bool:
        try:
            data = plistlib.loads(self.path.read_bytes())
        except FileNotFoundError:
            return False
        except (OSError, plistlib.InvalidFileException, ValueError) as exc:
            raise AutostartError(f"cannot read {self.path}: {exc}") from exc
        return bool(data.get("RunAtLoad")) and not data.get("Disabled", False)

    def entry(self, argv: Sequence[str]) -> bytes:
        return launch_agent_plist(argv)


# --- Windows ---------------------------------------------------------------------------------


class WindowsRunKeyAutostart:
    """The ``burntray`` value of HKCU ``...\\CurrentVersion\\Run`` (per user, no admin)."""

    def describe(self) -> str:
        return f"registry value HKCU\\{WINDOWS_RUN_KEY}\\{APP_NAME}"

    def is_enabled(self) -> bool:
        if sys.platform != "win32":  # also tells mypy the rest is Windows-only
            raise AutostartError("the registry exists only on Windows")
        import winreg  # noqa: PLC0415

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, WINDOWS_RUN_KEY) as key:
                value, _kind = winreg.QueryValueEx(key, APP_NAME)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise AutostartError(f"cannot read {self.describe()}: {exc}") from exc
        return bool(str(value).strip())

    def enable(self, argv: Sequence[str]) -> None:
        if sys.platform != "win32":  # also tells mypy the rest is Windows-only
            raise AutostartError("the registry exists only on Windows")
        import winreg  # noqa: PLC0415

        try:
            with winreg.CreateKeyEx(
                winreg.HKEY_CURRENT_USER, WINDOWS_RUN_KEY, 0, winreg.KEY_SET_VALUE
            ) as key:
                winreg.SetValueEx(key, APP_NAME, 0, winreg.REG_SZ, subprocess.list2cmdline(argv))
        except OSError as exc:
            raise AutostartError(f"cannot write {self.describe()}: {exc}") from exc

    def disable(self) -> None:
        if sys.platform != "win32":  # also tells mypy the rest is Windows-only
            raise AutostartError("the registry exists only on Windows")
        import winreg  # noqa: PLC0415

        try:
            with winreg.OpenKey(
                winreg.HKEY_CURRENT_USER, WINDOWS_RUN_KEY, 0, winreg.KEY_SET_VALUE
            ) as key:
                winreg.DeleteValue(key, APP_NAME)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise AutostartError(f"cannot remove {self.describe()}: {exc}") from exc


def backend_for(
    platform: str | None = None, env: Mapping[str, str] | None = None
) -> _Backend | None:
    """The mechanism for ``platform`` (default: this OS), or None where there is none."""
    platform = platform or sys.platform
    if platform == "win32":
        return WindowsRunKeyAutostart()
    if platform == "darwin":
        return LaunchAgentAutostart(env)
    if platform.startswith(("linux", "freebsd", "openbsd", "netbsd", "dragonfly")):
        return XdgAutostart(env)
    return None


# --- the contract ----------------------------------------------------------------------------


def supported() -> tuple[bool, str]:
    """Whether start at login works here, and how (or why not), in words for the menu."""
    backend = backend_for()
    if backend is None:
        return False, f"start at login is not supported on {sys.platform}"
    return True, backend.describe()


def is_enabled() -> bool:
    """True when burntray is registered to start at login. Raises ``AutostartError``."""
    backend = backend_for()
    return backend is not None and backend.is_enabled()


def set_enabled(enabled: bool) -> None:
    """Register (or remove) burntray to start at login. Raises ``AutostartError``."""
    backend = backend_for()
    if backend is None:
        raise AutostartError(supported()[1])
    if enabled:
        backend.enable(launch_command())
    else:
        backend.disable()


def registered_command() -> str:
    """What ``set_enabled(True)`` registers, as one line for ``autostart status``."""
    return subprocess.list2cmdline(launch_command())
