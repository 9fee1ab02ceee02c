"""Writing config.toml edits the user's own file: only the changed keys, their comments, order
and formatting kept; a file that is not TOML is never overwritten; the file is 0600."""

from __future__ import annotations

import ast
import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from burntray.app import AppContext
from burntray.config import Settings, load_settings
from burntray.config_write import save_settings
from burntray.errors import ConfigError
from burntray.paths import app_paths
from burntray.runtime.monitor import Monitor
from burntray.ui.controller import TrayController
from tests.processes import burntray

USERS = '# my burntray: short window for the tmux line\nwindow = "5m"  # keep it short\n'


def _config(text: str | None = None) -> Path:
    path = app_paths().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    if text is not None:
        path.write_text(text)
    return path


def _controller(ctx: AppContext) -> tuple[TrayController, Monitor]:
    monitor = Monitor(ctx.settings, ctx.build_source)
    return TrayController(ctx, monitor), monitor


def test_autostart_on_adds_only_start_at_login_to_the_users_file() -> None:
    """The acceptance line of the restructuring: a real ``burntray autostart on``."""
    path = _config(USERS)
    result = burntray("autostart", "on")
    assert result.returncode == 0, result.stderr
    assert path.read_text() == USERS + "start_at_login = true\n"
    result = burntray("autostart", "off")
    assert result.returncode == 0, result.stderr
    assert path.read_text() == USERS + "start_at_login = false\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it can hold a bearer token


def test_a_menu_change_edits_only_that_key_in_place() -> None:
    text = (
        USERS
        + "\n# alerts: my own thresholds\n[alerts]\nspike_usd_per_hour = 7.5  # USD/h\n"
        + "cooldown = '1h'\n"
    )
    path = _config(text)
    ctx = AppContext.load(strict=False)
    controller, _monitor = _controller(ctx)
    try:
        controller.set_window("24h")
        assert path.read_text() == text.replace('window = "5m"', 'window = "24h"')
        controller.change(alert_spike_usd_per_hour=20.0)
        assert path.read_text() == text.replace('window = "5m"', 'window = "24h"').replace(
            "= 7.5", "= 20.0"
        )
        controller.change(notifications=False)  # a new key goes among the top-level ones
        data = tomllib.loads(path.read_text())
        assert data == {
            "window": "24h",
            "notifications": False,
            "alerts": {"spike_usd_per_hour": 20.0, "cooldown": "1h"},
        }
        assert path.read_text().startswith(USERS.replace('"5m"', '"24h"') + "notifications")
        assert "# alerts: my own thresholds" in path.read_text()
    finally:
        ctx.close()


def test_a_menu_change_keeps_an_edit_made_in_the_file_meanwhile() -> None:
    path = _config(USERS)
    ctx = AppContext.load(strict=False)
    controller, _monitor = _controller(ctx)
    try:
        path.write_text(USERS + 'icon_figure = "cost"\n')  # edited while the tray runs
        controller.change(notifications=False)
        assert path.read_text() == USERS + 'icon_figure = "cost"\nnotifications = false\n'
    finally:
        ctx.close()


def test_a_missing_file_gets_only_the_changed_keys(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.toml"
    save_settings(path, Settings(window="15m", start_at_login=True))
    assert path.read_text() == (
        "# burntray settings: every key is in burntray's docs/reference/config.md\n"
        'window = "15m"\nstart_at_login = true\n'
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings(path) == Settings(window="15m", start_at_login=True)


def test_nothing_changed_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_settings(path, Settings())
    assert not path.exists()


@pytest.mark.parametrize(
    "text",
    [
        "window = forever\n",  # not TOML
        "\xff\xfe garbage",  # not UTF-8 either
    ],
)
def test_a_file_that_is_not_toml_is_never_overwritten(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.toml"
    raw = text.encode("latin-1")
    path.write_bytes(raw)
    with pytest.raises(ConfigError, match="not overwritten"):
        save_settings(path, Settings(window="5m"))
    assert path.read_bytes() == raw


def test_a_key_under_a_value_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("alerts = 5\n")
    with pytest.raises(ConfigError, match=r"cannot set alerts\.cooldown: alerts is Integer"):
        save_settings(path, Settings(alert_cooldown="1h"))
    assert path.read_text() == "alerts = 5\n"


def test_dotted_keys_and_inline_tables_are_edited_where_they_are(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('serve.metrics = "127.0.0.1:1"  # mine\nalerts = { floor_usd = 1 }\n')
    save_settings(path, load_settings(path).replace(serve_token="s3cret", alert_cooldown="1h"))
    text = path.read_text()
    assert text.startswith('serve.metrics = "127.0.0.1:1"  # mine\n')
    assert tomllib.loads(text) == {
        "serve": {"metrics": "127.0.0.1:1", "token": "s3cret"},
        "alerts": {"floor_usd": 1, "cooldown": "1h"},
    }


def test_a_linked_config_is_written_through_the_link(tmp_path: Path) -> None:
    """A dotfiles repository links config.toml: the file it points to is edited, the link
    stays."""
    real = tmp_path / "dotfiles" / "burntray.toml"
    real.parent.mkdir()
    real.write_text(USERS)
    link = tmp_path / "config" / "config.toml"
    link.parent.mkdir()
    link.symlink_to(real)
    save_settings(link, Settings(window="5m", notifications=False))
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == USERS + "notifications = false\n"


def test_status_reads_a_config_without_loading_the_writer() -> None:
    """tmux runs ``status`` every few seconds: the style-keeping writer (tomlkit) and the
    did-you-mean matcher load only when a file is written or has a bad key."""
    _config(USERS)
    code = (
        "import sys\n"
        "from burntray.cli import main\n"
        "code = main(['status', '--format', 'tmux'])\n"
        "sys.stdout.flush()\n"
        "names = ('tomllib', 'tomlkit', 'difflib')\n"
        "print(repr([code, [n for n in names if n in sys.modules]]), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert "@5m" in done.stdout, done.stdout + done.stderr  # the file was read
    assert ast.literal_eval(done.stderr.strip().splitlines()[-1]) == [0, ["tomllib"]]


def test_a_windows_file_keeps_its_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'# mine\r\nwindow = "5m"\r\n\r\n[alerts]\r\nfloor_usd = 1\r\n')
    save_settings(path, load_settings(path).replace(start_at_login=True, alert_cooldown="1h"))
    assert path.read_bytes() == (
        b'# mine\r\nwindow = "5m"\r\nstart_at_login = true\r\n\r\n'
        b'[alerts]\r\nfloor_usd = 1\r\ncooldown = "1h"\r\n'
    )
