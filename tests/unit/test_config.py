from __future__ import annotations

from pathlib import Path

import pytest

from burntray.config import Settings, load_config, load_settings
from burntray.config_write import save_settings
from burntray.errors import ConfigError


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "config.toml") == Settings()


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.toml"
    settings = Settings().replace(
        window="90m",
        source="hexai",
        poll_interval_s=2.5,
        icon_figure="cost",
        options={"hexai.dir": "/data/hexai", "cburn.url": "http://127.0.0.1:9999/"},
        price_overrides={"acme-1": {"input": 1.0, "output": 2.0}},
    )
    save_settings(path, settings)
    loaded = load_settings(path)
    assert loaded == settings
    assert loaded.option("cburn.url") == "http://127.0.0.1:9999"
    assert loaded.window_ns == 90 * 60 * 10**9


def test_window_is_normalised() -> None:
    assert Settings().replace(window="60m").window == "1h"
    assert Settings().replace(window="168h").window == "7d"
    assert Settings().replace(window="1h30m").window == "90m"  # compound durations too


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('window = "7x"', "window = '7x' is not allowed: expected today, week (this calendar"),
        ('window = "45d"', "window = '45d' is not allowed"),
        ("window = 60", "window = 60 is not allowed"),
        (
            'source = "nonesuch"',
            "source = 'nonesuch' is not allowed: expected one of auto, all, hexai, cburn",
        ),
        ("poll_interval = 0", "poll_interval = 0 is not allowed: expected seconds from 0.2 to 60"),
        ('poll_interval = "soon"', "poll_interval = 'soon' is not allowed"),
        ('notifications = "yes"', "notifications = 'yes' is not allowed: expected true or false"),
        ("[history]\nretention_days = 0", "history.retention_days = 0 is not allowed"),
        ('[cburn]\nurl = "ftp://x"', "cburn.url = 'ftp://x' is not allowed: expected an http://"),
        ('colour = "red"', "unknown key 'colour' ignored; known keys: window, source"),
        ("[pricing.models.acme]\ninput = -1\noutput = 2", "pricing.models.'acme'.input = -1"),
        ("[pricing.models.acme]\ninput = 1", "pricing.models.'acme' needs both input and output"),
        ("[pricing.models.acme]\ninput = 1\noutput = 2\nfoo = 3", ".foo is not a known key"),
        ("window = ", "not valid TOML"),
    ],
)
def test_bad_values_name_key_value_and_allowed(tmp_path: Path, toml: str, expected: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(toml + "\n")
    if "valid TOML" in expected:  # not TOML at all: nothing of it can be used
        with pytest.raises(ConfigError) as info:
            load_config(path)
        said = str(info.value)
    else:  # the bad key is named and keeps its default
        settings, problems = load_config(path)
        said = "\n".join(problems)
        if "pricing" not in toml:  # a price row keeps its valid prices
            assert settings == Settings()
    assert expected in said
    assert str(path) in said


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('window = "x"\nsource = "y"\n')
    _settings, problems = load_config(path)
    assert "window" in problems[0] and "source" in problems[1]


def test_replace_validates() -> None:
    with pytest.raises(ConfigError, match="icon_figure = 'sparkles'"):
        Settings().replace(icon_figure="sparkles")
