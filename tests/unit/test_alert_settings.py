"""The [alerts] keys in config.toml and the alert menu described for the tray."""

from __future__ import annotations

from pathlib import Path

import pytest

from burntray.config import Settings, load_config, load_settings
from burntray.config_write import save_settings
from burntray.model.timefmt import NS_PER_MINUTE
from burntray.runtime.alerting import alert_config
from burntray.ui.alert_menu import (
    BUDGET_PRESETS,
    THRESHOLD_PRESETS,
    alert_menu,
    apply_choice,
)


def test_defaults_are_the_documented_ones() -> None:
    config = alert_config(Settings())
    assert config.spike_usd_per_hour == 5.0
    assert config.spike_multiple == 3.0
    assert config.short_window_ns == 5 * NS_PER_MINUTE
    assert config.hysteresis == 0.6
    assert config.cooldown_ns == 15 * NS_PER_MINUTE
    assert config.daily_budget_usd == 0.0  # no budget until set
    assert config.rpm_threshold == 0.0


def test_alerts_table_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "[alerts]\n"
        "spike_usd_per_hour = 12\n"
        "spike_multiple = 2.5\n"
        'short_window = "10m"\n'
        "floor_usd = 0.5\n"
        "hysteresis = 0.5\n"
        'cooldown = "1h"\n'
        "daily_budget_usd = 25\n"
        "rpm_threshold = 30\n"
    )
    settings = load_settings(path)
    config = alert_config(settings)
    assert config.spike_usd_per_hour == 12.0
    assert config.short_window_ns == 10 * NS_PER_MINUTE
    assert config.cooldown_ns == 60 * NS_PER_MINUTE
    assert config.daily_budget_usd == 25.0
    assert config.rpm_threshold == 30.0
    save_settings(path, settings)
    assert load_settings(path) == settings
    assert "[alerts]" in path.read_text()


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            "spike_usd_per_hour = 0",
            "alerts.spike_usd_per_hour = 0 is not allowed: expected USD per hour from 0.01",
        ),
        ('spike_usd_per_hour = "5"', "alerts.spike_usd_per_hour = '5' is not allowed"),
        ("spike_multiple = 0.5", "alerts.spike_multiple = 0.5 is not allowed: expected a multiple"),
        (
            'short_window = "2h"',
            "alerts.short_window = '2h' is not allowed: expected a duration from 1m to 1h",
        ),
        ('short_window = "soon"', "alerts.short_window = 'soon' is not allowed"),
        ("floor_usd = -1", "alerts.floor_usd = -1 is not allowed"),
        ("hysteresis = 1.2", "alerts.hysteresis = 1.2 is not allowed: expected a fraction"),
        ('cooldown = "2d"', "alerts.cooldown = '2d' is not allowed: expected a duration from 0s"),
        ("daily_budget_usd = -5", "alerts.daily_budget_usd = -5 is not allowed: expected USD"),
        ("rpm_threshold = true", "alerts.rpm_threshold = True is not allowed"),
        ("spike_threshold = 5", "unknown key 'alerts.spike_threshold'"),
    ],
)
def test_bad_alert_values_name_key_value_and_allowed(
    tmp_path: Path, toml: str, expected: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[alerts]\n" + toml + "\n")
    settings, problems = load_config(path)
    assert expected in "\n".join(problems)
    assert settings == Settings()  # the bad key keeps its default
    assert path.read_text() == "[alerts]\n" + toml + "\n"  # nothing lost


def _labels(settings: Settings) -> dict[str, list[tuple[str, bool, bool]]]:
    return {
        group.label: [(c.label, c.checked, c.enabled) for c in group.choices]
        for group in alert_menu(settings)
    }


def test_menu_by_default() -> None:
    assert _labels(Settings()) == {
        "Notifications": [("On", True, True), ("Off", False, True)],
        "Spike alert at": [("$1/h", False, True), ("$5/h", True, True), ("$20/h", False, True)],
        "Daily budget": [
            ("Off", True, True),
            ("$5", False, True),
            ("$10", False, True),
            ("$20", False, True),
            ("$50", False, True),
            ("$100", False, True),
        ],
    }
    assert THRESHOLD_PRESETS == (1.0, 5.0, 20.0)
    assert BUDGET_PRESETS[0] == 0.0


def test_menu_shows_custom_values_from_config() -> None:
    labels = _labels(Settings(alert_spike_usd_per_hour=7.5, alert_daily_budget_usd=12.0))
    assert labels["Spike alert at"][-1] == ("$7.50/h (custom, from config)", True, False)
    assert not any(checked for _l, checked, _e in labels["Spike alert at"][:-1])
    assert labels["Daily budget"][-1] == ("$12 (custom, from config)", True, False)


def test_menu_clicks_change_the_named_setting() -> None:
    settings = Settings()
    groups = {g.label: g for g in alert_menu(settings)}
    twenty = groups["Spike alert at"].choices[2]
    settings = apply_choice(settings, twenty)
    assert settings.alert_spike_usd_per_hour == 20.0
    ten = next(c for c in groups["Daily budget"].choices if c.label == "$10")
    settings = apply_choice(settings, ten)
    assert settings.alert_daily_budget_usd == 10.0
    off = groups["Notifications"].choices[1]
    settings = apply_choice(settings, off)
    assert settings.notifications is False
    assert _labels(settings)["Notifications"] == [("On", False, True), ("Off", True, True)]
