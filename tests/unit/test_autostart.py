"""Start at login: real entries written to (and removed from) the isolated config dirs."""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from burntray import autostart
from burntray.cli import main


def _desktop_file_validate() -> str:
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("desktop-file-validate is missing (apt package desktop-file-utils)")
        pytest.skip("desktop-file-validate not installed (apt install desktop-file-utils)")
    return tool


def _exec_line(entry: Path) -> str:
    lines = [ln for ln in entry.read_text().splitlines() if ln.startswith("Exec=")]
    assert len(lines) == 1
    return lines[0].removeprefix("Exec=")


def test_cli_on_off_writes_and_removes_the_xdg_entry(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entry = isolated_env / "xdg-config" / "autostart" / "burntray.desktop"
    assert main(["autostart", "status"]) == 0
    assert "start at login: off" in capsys.readouterr().out
    assert not entry.exists()

    assert main(["autostart", "on"]) == 0
    out = capsys.readouterr().out
    assert "start at login: on" in out and str(entry) in out
    # Not frozen: the interpreter that runs burntray now, with -m burntray.
    assert _exec_line(entry) == f"{sys.executable} -m burntray"
    assert autostart.is_enabled()
    result = subprocess.run(  # noqa: PLW1510 - the exit code is asserted
        [_desktop_file_validate(), str(entry)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0 and "error" not in result.stdout, result.stdout

    assert main(["autostart", "off"]) == 0
    assert "start at login: off" in capsys.readouterr().out
    assert not entry.exists()
    assert not autostart.is_enabled()
    assert main(["autostart", "off"]) == 0  # off twice is fine


def test_cli_records_start_at_login_in_config_but_never_rewrites_a_bad_one(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from burntray.config import load_settings

    config = isolated_env / "burntray" / "config" / "config.toml"
    assert main(["autostart", "on"]) == 0
    assert load_settings(config).start_at_login is True
    assert main(["autostart", "off"]) == 0
    assert load_settings(config).start_at_login is False
    config.write_text("window = forever\n")  # not TOML: nothing of it can be kept by a rewrite
    capsys.readouterr()
    assert main(["autostart", "on"]) == 0  # the OS entry is what counts
    assert "not updated (it is invalid)" in capsys.readouterr().err
    assert config.read_text() == "window = forever\n"
    assert autostart.is_enabled()


def test_supported_names_the_entry(isolated_env: Path) -> None:
    ok, how = autostart.supported()
    assert ok
    assert how == f"XDG autostart entry {isolated_env / 'xdg-config/autostart/burntray.desktop'}"


def test_relative_or_empty_xdg_config_home_falls_back_to_home_config(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for value in ("", "relative/dir"):
        monkeypatch.setenv("XDG_CONFIG_HOME", value)
        autostart.set_enabled(True)
        assert (isolated_env / "home/.config/autostart/burntray.desktop").exists()
        autostart.set_enabled(False)


def test_hidden_entry_counts_as_off(isolated_env: Path) -> None:
    entry = isolated_env / "xdg-config" / "autostart" / "burntray.desktop"
    entry.parent.mkdir(parents=True)
    entry.write_text(autostart.desktop_entry(["burntray"]) + "Hidden=true\n")
    assert not autostart.is_enabled()
    entry.write_text(autostart.desktop_entry(["burntray"]))
    assert autostart.is_enabled()


def test_unwritable_location_is_a_clear_error(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A file where the autostart directory should be: writing the entry must fail, and say where.
    (isolated_env / "xdg-config").mkdir()
    (isolated_env / "xdg-config" / "autostart").write_text("not a directory")
    with pytest.raises(
        autostart.AutostartError, match=r"cannot write .*autostart/burntray\.desktop"
    ):
        autostart.set_enabled(True)
    assert main(["autostart", "on"]) == 1
    assert "burntray: cannot write" in capsys.readouterr().err
    assert (isolated_env / "xdg-config" / "autostart").read_text() == "not a directory"


def test_exec_quoting_survives_desktop_file_validate(tmp_path: Path) -> None:
    argv = ["/opt/my apps/burn$tray", "-m", "x%y", 'say "hi"', "back\\slash"]
    value = autostart.desktop_exec_value(argv)
    # Spec quoting (\$, \", \\ inside "..."), then the key-file escape doubles each backslash.
    assert value == ('"/opt/my apps/burn\\\\$tray" -m x%%y "say \\\\"hi\\\\"" "back\\\\\\\\slash"')
    entry = tmp_path / "quoted.desktop"
    entry.write_text(autostart.desktop_entry(argv))
    result = subprocess.run(  # noqa: PLW1510 - the exit code is asserted
        [_desktop_file_validate(), str(entry)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0 and "error" not in result.stdout, result.stdout


def test_launch_command_for_each_way_of_installing(tmp_path: Path) -> None:
    frozen_dir = tmp_path / "burntray"
    frozen_dir.mkdir()
    console = frozen_dir / "burntray.exe"
    console.touch()
    # Windows frozen: the windowed exe beside the console one, so no console opens at login.
    assert autostart.launch_command(frozen=True, executable=str(console), platform="win32") == [
        str(console)
    ]
    (frozen_dir / "burntrayw.exe").touch()
    assert autostart.launch_command(frozen=True, executable=str(console), platform="win32") == [
        str(frozen_dir / "burntrayw.exe")
    ]
    linux_exe = "/opt/burntray/burntray"
    assert autostart.launch_command(frozen=True, executable=linux_exe, platform="linux") == [
        linux_exe
    ]
    assert autostart.launch_command(
        frozen=False, executable="/usr/bin/python3", platform="linux"
    ) == [
        "/usr/bin/python3",
        "-m",
        "burntray",
    ]
    appimage = {"APPIMAGE": "/home/me/Apps/burntray.AppImage"}
    mounted = "/tmp/.mount_burntrXYZ/usr/lib/burntray/burntray"
    assert autostart.launch_command(
        frozen=True, executable=mounted, platform="linux", env=appimage
    ) == ["/home/me/Apps/burntray.AppImage"]
    python = tmp_path / "python.exe"
    (tmp_path / "pythonw.exe").touch()
    assert autostart.launch_command(frozen=False, executable=str(python), platform="win32") == [
        str(tmp_path / "pythonw.exe"),
        "-m",
        "burntray",
    ]


def test_macos_launch_agent_round_trip(isolated_env: Path) -> None:
    home = isolated_env / "home"
    agent = autostart.backend_for("darwin", {"HOME": str(home)})
    assert isinstance(agent, autostart.LaunchAgentAutostart)
    plist_path = home / "Library/LaunchAgents/io.github.burntray.plist"
    assert not agent.is_enabled()
    agent.enable(["/Applications/burntray.app/Contents/MacOS/burntrayw"])
    data = plistlib.loads(plist_path.read_bytes())
    assert data["Label"] == "io.github.burntray"
    assert data["ProgramArguments"] == ["/Applications/burntray.app/Contents/MacOS/burntrayw"]
    assert data["RunAtLoad"] is True
    assert data["LimitLoadToSessionType"] == "Aqua"
    assert agent.is_enabled()
    agent.disable()
    assert not plist_path.exists()
    assert not agent.is_enabled()


def test_corrupt_launch_agent_is_reported(isolated_env: Path) -> None:
    home = isolated_env / "home"
    agent = autostart.LaunchAgentAutostart({"HOME": str(home)})
    agent.path.parent.mkdir(parents=True)
    agent.path.write_text("<not a plist")
    with pytest.raises(
        autostart.AutostartError, match=r"cannot read .*io\.github\.burntray\.plist"
    ):
        agent.is_enabled()


def test_windows_uses_the_run_key_and_unknown_platforms_are_unsupported() -> None:
    backend = autostart.backend_for("win32")
    assert isinstance(backend, autostart.WindowsRunKeyAutostart)
    assert "CurrentVersion\\Run\\burntray" in backend.describe()
    assert autostart.backend_for("emscripten") is None


def test_doctor_shows_start_at_login(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    autostart.set_enabled(True)
    main(["doctor"])
    out = capsys.readouterr().out
    section = out[out.index("[start at login]") :].splitlines()
    assert section[1].strip() == (
        f"on: XDG autostart entry {isolated_env / 'xdg-config/autostart/burntray.desktop'}"
    )
    assert section[2].split() == ["command", sys.executable, "-m", "burntray"]
