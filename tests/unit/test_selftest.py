"""``burntray --self-test``: each check reports what it found; failures name the reason."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from burntray.cli import main
from burntray.sources.hexai.writer import hexai_update

CHECK_LINE = re.compile(r"^  (ok  |FAIL)  (.{12,}?) +(\d+) ms  (.*)$")


def _checks(out: str) -> dict[str, tuple[str, str]]:
    """name -> (ok|FAIL, detail) from the report's columns: status, name, cost, detail."""
    rows = {}
    for line in out.splitlines()[1:-1]:
        match = CHECK_LINE.match(line)
        assert match, f"not a check line: {line!r}"
        rows[match[2].strip()] = (match[1].strip(), match[4])
    return rows


def test_self_test_passes_and_reports_each_check(
    hexai_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hexai_update(hexai_dir, "openai", "gpt-4.1", 4000, 400)
    hexai_update(hexai_dir, "openai", "gpt-4.1", 4000, 400)
    assert main(["--self-test"]) == 0
    out = capsys.readouterr().out
    checks = _checks(out)
    assert out.startswith("burntray 0.1.0 self-test (Python ")
    assert set(checks) >= {"paths", "config", "source hexai", "icon", "tray", "autostart"}
    assert all(status == "ok" for status, _detail in checks.values()), out
    assert checks["source hexai"][1] == "ok (in use): 2 events, 2 reqs in 1h"
    assert checks["icon"][1].startswith("64x64 RGBA drawn by ")
    assert (
        checks["tray"][1]
        == "pystray backend 'base' loaded (PYSTRAY_BACKEND=dummy), icon created, not shown"
    )
    assert checks["autostart"][1].endswith("burntray.desktop: off")
    assert out.splitlines()[-1].startswith("self-test passed in ")


def test_user_data_problems_are_reported_but_do_not_fail(
    hexai_dir: Path, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (hexai_dir / "stats.json").write_text('{"version": 1, "events": [')
    config = isolated_env / "burntray" / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('window = "forever"\n')
    assert main(["--self-test"]) == 0
    checks = _checks(capsys.readouterr().out)
    assert checks["source hexai"][0] == "ok"
    assert checks["source hexai"][1].startswith("error (in use): ")
    assert checks["config"][0] == "ok"
    # a bad value is left out, the rest of the file used
    assert checks["config"][1].startswith("in use, 1 left out: ")
    assert "window" in checks["config"][1]
    assert config.read_text() == 'window = "forever"\n'  # never overwritten


def test_headless_checks_the_terminal_view_and_passes(hexai_dir: Path) -> None:
    """No display, no Wayland, no session bus: the app shows the terminal view there (as
    documented), so the self-test checks that view and passes, saying so."""
    hexai_update(hexai_dir, "openai", "gpt-4.1", 4000, 400)
    gone = ("PYSTRAY_BACKEND", "DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS")
    env = {k: v for k, v in os.environ.items() if k not in gone}
    # A real process: pystray must not be imported into this test session.
    result = subprocess.run(  # noqa: PLW1510 - the exit code is asserted
        [sys.executable, "-m", "burntray", "--self-test"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    checks = _checks(result.stdout)
    assert "tray" not in checks
    status, detail = checks["view"]
    assert status == "ok"
    assert detail.startswith("terminal view (no tray here: no display ($DISPLAY and ")
    assert detail.endswith("; it would print: hexai · 1h · 1 reqs · 0.02 rpm · <$0.01 est.")
    assert checks["tray choice"][1].startswith("terminal: no display")
    last = result.stdout.splitlines()[-1]
    assert last.startswith("self-test passed in ")
    assert last.endswith("(view checked: terminal view)")


def test_a_display_without_a_tray_host_still_checks_the_tray_backend(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only a machine with no display at all is headless: on a desktop whose panel has not
    started yet the app waits for a tray, so the build must still load its tray backend."""
    from burntray.selftest import _headless
    from burntray.ui.backend import TERMINAL, BackendChoice

    no_tray = BackendChoice(TERMINAL, "no system tray on :5")
    monkeypatch.delenv("PYSTRAY_BACKEND", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":5")
    assert not _headless(no_tray)
    monkeypatch.delenv("DISPLAY")
    assert _headless(no_tray)
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert not _headless(no_tray)
