"""One bad key in config.toml is named (with the nearest known key) and left out; every valid
setting is still used and the commands answer as usual."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from burntray.app import AppContext
from burntray.config import load_config
from burntray.paths import app_paths
from burntray.runtime.monitor import Monitor
from burntray.ui.controller import TrayController
from tests.processes import burntray

TYPO = '# mine\nwindw = "5m"\nwindow = "7d"\nsource = "hexai"\n'


def _config(text: str) -> Path:
    path = app_paths().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('windw = "5m"', "unknown key 'windw' ignored; did you mean `window`?"),
        ("[alert]\ncooldown = '1h'", "unknown key 'alert.cooldown' ignored; did you mean"),
        ("[hexai]\ndri = '/x'", "unknown key 'hexai.dri' ignored; did you mean `hexai.dir`?"),
        ("serve = 5", "serve is a table of keys (serve.allowed_hosts, serve.metrics"),
    ],
)
def test_an_unknown_key_is_named_with_the_nearest_one(tmp_path: Path, text: str, said: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text('icon_figure = "cost"\n' + text + "\n")
    settings, problems = load_config(path)
    assert len(problems) == 1 and said in problems[0], problems
    assert problems[0].startswith(f"{path}: ")
    assert settings.icon_figure == "cost"  # the rest of the file is in effect


def test_a_bad_value_falls_back_to_its_default_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('window = "15m"\nicon_figure = "sparkles"\n[alerts]\nfloor_usd = -1\n')
    settings, problems = load_config(path)
    assert (settings.window, settings.icon_figure, settings.alert_floor_usd) == ("15m", "rpm", 0.1)
    assert problems == (
        f"{path}: icon_figure = 'sparkles' is not allowed: expected one of rpm, cost, reqs, "
        "limit, none; using the default 'rpm'",
        f"{path}: alerts.floor_usd = -1 is not allowed: expected USD from 0 to 100000; "
        "using the default 0.1",
    )


def test_status_answers_with_the_valid_settings_and_warns_once() -> None:
    _config(TYPO)
    result = burntray("status", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["window"] == "7d"
    assert json.loads(result.stdout)["source"] == "hexai"
    assert result.stderr.count("did you mean `window`?") == 1, result.stderr
    tmux = burntray("status", "--format", "tmux")
    assert tmux.returncode == 0 and tmux.stdout.strip().startswith("Σ@7d"), tmux


def test_doctor_lists_the_problem_and_exits_1() -> None:
    path = _config(TYPO)
    result = burntray("doctor")
    assert result.returncode == 1
    assert f"config       {path}: in use, 1 setting(s) left out" in result.stdout
    assert "unknown key 'windw' ignored; did you mean `window`?" in result.stdout
    assert "window       7d, source hexai" in result.stdout
    assert result.stderr.count("windw") == 0  # said once, in the report


def test_the_tray_menu_says_it_and_still_saves_into_the_file() -> None:
    path = _config(TYPO)
    ctx = AppContext.load(strict=False)
    controller = TrayController(ctx, Monitor(ctx.settings, ctx.build_source))
    try:
        # a problem is one top-level entry whose submenu holds the whole text
        problems = {p.label: " ".join(p.lines) for p in controller.view(None).problems}
        assert (
            "unknown key 'windw' ignored; did you mean `window`?"
            in (problems["config.toml: 1 setting ignored"])
        )
        assert controller.settings.window == "7d"
        controller.set_window("24h")
        assert path.read_text() == TYPO.replace('"7d"', '"24h"')  # the typo stays for the user
    finally:
        ctx.close()


@pytest.mark.parametrize("key", ["serve.token", "otel.token"])
def test_doctor_warns_of_a_token_others_can_read(key: str) -> None:
    table, name = key.split(".")
    path = _config(f'window = "6h"\n[{table}]\n{name} = "s3cret"\n')
    path.chmod(0o644)
    result = burntray("doctor")
    assert f"WARNING: it holds {key} and others can read it (mode 0644): chmod 600 {path}" in (
        result.stdout
    )
    path.chmod(0o600)
    result = burntray("doctor")
    assert "WARNING" not in result.stdout
    assert f"config       {path}: valid" in result.stdout


def test_a_readable_config_without_a_token_is_no_warning() -> None:
    path = _config('window = "6h"\n[serve]\ntoken = ""\n')
    path.chmod(0o644)
    result = burntray("doctor")
    assert "WARNING" not in result.stdout and "others can read" not in result.stdout


def test_a_menu_change_that_replaces_the_bad_value_clears_the_warning() -> None:
    path = _config('window = "banana"\nsource = "hexai"\n')
    ctx = AppContext.load(strict=False)
    controller = TrayController(ctx, Monitor(ctx.settings, ctx.build_source))
    try:
        labels = [p.label for p in controller.view(None).problems]
        assert "config.toml: 1 setting ignored" in labels
        controller.set_window("5m")
        assert path.read_text() == 'window = "5m"\nsource = "hexai"\n'
        view = controller.view(None)
        assert not any(
            "ignored" in text for text in (*view.header, *(p.label for p in view.problems))
        )
    finally:
        ctx.close()
