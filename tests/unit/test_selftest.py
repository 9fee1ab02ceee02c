"""``burntray --self-test``: each check reports what it found; failures name the reason."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from burntray.cli import main
from burntray.sources.hexai_writer import hexai_update

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
    assert checks["config"][1].startswith("INVALID, defaults in use: ")
    assert "window" in checks["config"][1]
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
