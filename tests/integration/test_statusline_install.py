"""``burntray statusline install`` / ``uninstall`` on Claude Code's ``settings.json``: every
other setting kept in its order, a backup first, an existing status line left alone (with how
to chain it), the backup restored byte for byte, and no planted link followed."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.processes import burntray

# What a user's settings.json looks like: other keys, tabs, non-ASCII, a trailing newline.
SETTINGS = (
    '{\n\t"model": "opus",\n\t"permissions": {"allow": ["Bash(ls:*)"], "deny": []},\n'
    '\t"env": {"GREETING": "grüß dich"},\n\t"includeCoAuthoredBy": false\n}\n'
)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "claude-config"
    folder.mkdir()
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(folder))
    return folder


def test_install_keeps_every_setting_and_uninstall_restores_the_bytes(config: Path) -> None:
    settings = config / "settings.json"
    settings.write_text(SETTINGS, encoding="utf-8")
    done = burntray("statusline", "install", "--command", "burntray statusline")
    assert done.returncode == 0, done.stderr
    assert "now Claude Code's status line" in done.stdout
    doc = json.loads(settings.read_text(encoding="utf-8"))
    before = json.loads(SETTINGS)
    assert list(doc) == [*before, "statusLine"]
    assert {k: doc[k] for k in before} == before
    assert doc["statusLine"] == {"type": "command", "command": "burntray statusline", "padding": 0}
    backup = config / "settings.json.burntray-backup"
    assert backup.read_bytes() == SETTINGS.encode()
    again = burntray("statusline", "install", "--command", "burntray statusline")
    assert (again.returncode, "already" in again.stdout) == (0, True)

    done = burntray("statusline", "uninstall")
    assert done.returncode == 0, done.stderr
    assert settings.read_bytes() == SETTINGS.encode()
    assert not backup.exists()


def test_uninstall_after_other_edits_takes_out_only_the_status_line(config: Path) -> None:
    settings = config / "settings.json"
    settings.write_text(SETTINGS, encoding="utf-8")
    assert burntray("statusline", "install").returncode == 0
    doc = json.loads(settings.read_text(encoding="utf-8"))
    doc["model"] = "sonnet"  # the user changed a setting since
    settings.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    done = burntray("statusline", "uninstall")
    assert done.returncode == 0, done.stderr
    after = json.loads(settings.read_text(encoding="utf-8"))
    assert after == {**json.loads(SETTINGS), "model": "sonnet"}
    assert list(after) == list(json.loads(SETTINGS))


def test_an_existing_status_line_is_left_alone_with_how_to_chain_it(config: Path) -> None:
    settings = config / "settings.json"
    mine = {"model": "opus", "statusLine": {"type": "command", "command": "~/bin/my-line"}}
    text = json.dumps(mine, indent=4)
    settings.write_text(text)
    done = burntray("statusline", "install", "--command", "burntray statusline")
    assert done.returncode == 1
    assert "already has a status line" in done.stderr
    assert "in=$(cat)" in done.stderr and "~/bin/my-line" in done.stderr
    assert "burntray statusline" in done.stderr
    assert settings.read_text() == text
    assert not (config / "settings.json.burntray-backup").exists()
    gone = burntray("statusline", "uninstall")
    assert gone.returncode == 1 and "no status line set by burntray" in gone.stderr
    assert settings.read_text() == text


def test_no_settings_file_yet_gets_one_and_a_default_command(config: Path) -> None:
    done = burntray("statusline", "install")
    assert done.returncode == 0, done.stderr
    doc = json.loads((config / "settings.json").read_text())
    assert doc["statusLine"]["command"].endswith("-m burntray statusline")
    assert oct((config / "settings.json").stat().st_mode & 0o777) == oct(0o600)


@pytest.mark.parametrize("what", ["link", "dir", "not-json", "array"])
def test_what_is_not_a_plain_settings_object_is_refused(
    what: str, config: Path, tmp_path: Path
) -> None:
    settings = config / "settings.json"
    target = tmp_path / "elsewhere.json"
    target.write_text(SETTINGS)
    if what == "link":
        os.symlink(target, settings)
    elif what == "dir":
        settings.mkdir()
    else:
        settings.write_text("{oops" if what == "not-json" else "[1]")
    done = burntray("statusline", "install")
    assert done.returncode == 1
    assert done.stderr.startswith("burntray: ")
    assert "Traceback" not in done.stderr
    assert target.read_text() == SETTINGS
    assert not (config / "settings.json.burntray-backup").exists()


def test_a_planted_backup_link_is_not_followed(config: Path, tmp_path: Path) -> None:
    settings = config / "settings.json"
    settings.write_text(SETTINGS)
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    os.symlink(victim, config / "settings.json.burntray-backup")
    done = burntray("statusline", "install")
    assert done.returncode == 1
    assert victim.read_text() == "keep me"
    assert settings.read_text() == SETTINGS


def test_refresh_sets_claude_codes_timer_and_is_checked(config: Path) -> None:
    bad = burntray("statusline", "install", "--refresh", "0")
    assert bad.returncode == 2 and "--refresh" in bad.stderr
    assert not (config / "settings.json").exists()
    done = burntray("statusline", "install", "--refresh", "30", "--command", "burntray statusline")
    assert done.returncode == 0, done.stderr
    doc = json.loads((config / "settings.json").read_text())
    assert doc["statusLine"] == {
        "type": "command",
        "command": "burntray statusline",
        "padding": 0,
        "refreshInterval": 30,
    }


def test_the_installed_command_runs_as_claude_code_runs_it(config: Path) -> None:
    """Claude Code runs the command with a shell and gives it the payload on stdin."""
    assert burntray("statusline", "install").returncode == 0
    command = json.loads((config / "settings.json").read_text())["statusLine"]["command"]
    payload = Path(__file__).parents[1] / "fixtures" / "statusline" / "ccusage-statusline-test.json"
    done = subprocess.run(
        command + " --color never --show model", shell=True, input=payload.read_text(),
        capture_output=True, text=True, timeout=30, env=dict(os.environ), check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "Sonnet 4\n")
