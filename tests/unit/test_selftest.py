"""``burntray --self-test``: each check reports what it found; failures name the reason."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from burntray.cli import main
from burntray.sources.hexai_writer import hexai_update


def test_self_test_passes_and_reports_each_check(
    hexai_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hexai_update(hexai_dir, "openai", "gpt-4.1", 4000, 400)
    hexai_update(hexai_dir, "openai", "gpt-4.1", 4000, 400)
    assert main(["--self-test"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[1]: line for line in out.splitlines()[1:-1]}
    assert out.startswith("burntray 0.1.0 self-test (Python ")
    assert set(lines) >= {"paths", "config", "source", "icon", "tray", "autostart"}
    assert all(line.split()[0] == "ok" for line in lines.values()), out
    assert "source hexai ok (in use): 2 events, 2 reqs in 1h" in out
    assert "64x64 RGBA" in lines["icon"]
    assert "PYSTRAY_BACKEND=dummy" in lines["tray"] and "not shown" in lines["tray"]
    assert "autostart" in lines["autostart"] and ": off" in lines["autostart"]
    assert out.splitlines()[-1].startswith("self-test passed in ")


def test_user_data_problems_are_reported_but_do_not_fail(
    hexai_dir: Path, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (hexai_dir / "stats.json").write_text('{"version": 1, "events": [')
    config = isolated_env / "burntray" / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('window = "forever"\n')
    assert main(["--self-test"]) == 0
    out = capsys.readouterr().out
    assert "source hexai error (in use)" in out
    assert "INVALID, defaults in use" in out and "window" in out
    assert config.read_text() == 'window = "forever"\n'  # never overwritten


def test_no_display_fails_with_the_reason(hexai_dir: Path) -> None:
    # A real process: pystray's failed import must not leak into this test session.
    env = {k: v for k, v in os.environ.items() if k not in ("PYSTRAY_BACKEND", "DISPLAY")}
    result = subprocess.run(  # noqa: PLW1510 - the exit code is asserted
        [sys.executable, "-m", "burntray", "--self-test"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL  tray" in result.stdout
    last = result.stdout.splitlines()[-1]
    assert last.startswith("self-test FAILED in ")
    assert "pystray could not load a backend" in last and "no $DISPLAY" in last
