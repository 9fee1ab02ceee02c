"""The plan-window alert detector: thresholds, pace and reset, each once per period, under
the cooldown; and the config keys that set it."""

from __future__ import annotations

from pathlib import Path

import pytest

from burntray.config import settings_from_toml
from burntray.errors import ConfigError
from burntray.model.limit_alerts import (
    LimitAlert,
    LimitAlertConfig,
    WindowAlertState,
    evaluate_limits,
)
from burntray.model.limits import PlanWindow, current_windows, with_rise
from burntray.runtime.limit_alerting import states_from_json, states_to_json

S = 10**9
MIN = 60 * S
RESET = 300 * MIN  # the first period's reset
CONFIG = LimitAlertConfig()


class Run:
    """Feeds observations of one 5 h window through the detector, as the monitor would."""

    def __init__(self, config: LimitAlertConfig = CONFIG) -> None:
        self.config = config
        self.states: dict[str, WindowAlertState] = {}
        self.held: PlanWindow | None = None
        self.fired: list[LimitAlert] = []

    def see(self, now: int, used: float, resets: int | None = RESET, **kw: bool) -> list[str]:
        win = with_rise(self.held, PlanWindow("codex", 300, used, resets, now, **kw))
        self.held = win
        return self.tick(now)

    def tick(self, now: int) -> list[str]:
        assert self.held is not None
        shown = current_windows([self.held], now)
        self.states, fired = evaluate_limits(self.config, self.states, shown, now, "codex")
        self.fired += fired
        return [f"{a.level}{'' if a.notify else ' (quiet)'}" for a in fired]


def test_each_threshold_once_per_period_only_the_highest_at_once() -> None:
    run = Run(LimitAlertConfig(pace=False))
    assert run.see(0, 79.0) == []
    assert run.see(1 * MIN, 82.0) == ["80%"]
    assert run.see(2 * MIN, 90.0) == []  # 80 % was told this period
    assert run.see(3 * MIN, 96.0) == ["95%"]  # a higher step within the cooldown: news
    assert run.see(4 * MIN, 97.0) == []
    assert run.see(5 * MIN, 100.0, limit_reached=True) == ["100%"]
    (first, _second, third) = run.fired
    assert first.title == "burntray: Codex 5 h at 82 % (codex)"
    assert first.message.startswith("Codex 5 h: 82 % used · resets ")
    assert third.title == "burntray: Codex 5 h limit reached (codex)"
    fresh = Run(LimitAlertConfig(pace=False))
    assert fresh.see(0, 97.0) == ["95%"]  # 80 and 95 crossed at once: only 95 told


def test_runs_out_before_reset_once_and_not_when_it_lasts() -> None:
    run = Run(LimitAlertConfig(thresholds=()))
    assert run.see(0, 10.0) == []
    assert run.see(20 * MIN, 40.0) == ["pace"]  # 30 % in 20 min: out at 60 min, reset at 300
    assert run.see(30 * MIN, 55.0) == []
    assert "at this pace it runs out" in run.fired[0].message
    assert "(estimate)" in run.fired[0].message
    slow = Run(LimitAlertConfig(thresholds=()))
    slow.see(0, 10.0)
    assert slow.see(60 * MIN, 12.0) == []  # 2 %/h: lasts well past the reset


def test_window_reset_told_once_after_something_was_told() -> None:
    run = Run(LimitAlertConfig(pace=False, cooldown_ns=15 * MIN))
    run.see(0, 85.0, resets=10 * MIN)
    assert run.tick(10 * MIN - 1) == []
    assert run.tick(10 * MIN) == ["reset"]  # the reset time passed: 0 % until Codex reports
    assert run.tick(11 * MIN) == []
    assert run.fired[-1].message == "Codex 5 h window reset: it was at 85 %; it can be used again."
    # the next period: a new report, crossing 80 % again within the cooldown of the last
    assert run.see(12 * MIN, 81.0, resets=310 * MIN) == ["80% (quiet)"]
    assert run.see(13 * MIN, 96.0, resets=310 * MIN) == ["95%"]  # higher: news
    quiet = Run(LimitAlertConfig(pace=False))
    quiet.see(0, 30.0)
    assert quiet.tick(RESET) == []  # nothing was told: a reset is no news


def test_a_new_reset_time_with_lower_use_is_a_new_period() -> None:
    run = Run(LimitAlertConfig(pace=False, cooldown_ns=0))
    run.see(0, 90.0)
    assert run.see(310 * MIN, 5.0, resets=2 * RESET) == ["reset"]
    assert run.see(320 * MIN, 81.0, resets=2 * RESET) == ["80%"]


def test_state_survives_json_and_bad_json_starts_fresh() -> None:
    run = Run()
    run.see(0, 85.0)
    assert states_from_json(states_to_json(run.states)) == run.states
    assert states_from_json("{not json") == {}
    assert states_from_json('{"codex/5h": {"told_percent": "x", "pace_told": true}}') == {
        "codex/5h": WindowAlertState(pace_told=True)
    }


def test_limit_threshold_keys_are_validated() -> None:
    settings = settings_from_toml({"alerts": {"limit_thresholds": [95, 80], "limit_pace": False}})
    assert settings.alert_limit_thresholds == (80.0, 95.0) and not settings.alert_limit_pace
    assert settings_from_toml({"alerts": {"limit_thresholds": []}}).alert_limit_thresholds == ()
    for bad in ([0], [101], [80, 80], "80", [True], [1, 2, 3, 4, 5, 6]):
        with pytest.raises(ConfigError, match=r"alerts\.limit_thresholds = .* is not allowed"):
            settings_from_toml({"alerts": {"limit_thresholds": bad}})


def _fired_levels(settings_doc: dict[str, object], windows: list[PlanWindow]) -> list[str]:
    from burntray.runtime.limit_alerting import limit_alert_config

    config = limit_alert_config(settings_from_toml({"alerts": settings_doc}))
    _, fired = evaluate_limits(config, {}, current_windows(windows, 0), 0)
    return [f"{a.title.split(': ')[1].split(' at ')[0]} {a.level}" for a in fired]


def test_thresholds_per_window_from_a_table() -> None:
    """``{"5h" = [90], weekly = [50, 75]}``: each window alerts at its own steps; a window the
    table does not name (2 d) keeps the default 80 and 95; ``7d`` names the weekly one."""
    table = {"limit_thresholds": {"5h": [90], "7d": [50, 75]}, "limit_pace": False}
    seen = [
        PlanWindow("claude", 300, 85.0, RESET, 0),  # under its 90: nothing, though over 80
        PlanWindow("claude", 10080, 60.0, RESET, 0),  # over its 50
        PlanWindow("codex", 2880, 81.0, RESET, 0),  # not in the table: 80
    ]
    assert _fired_levels(table, seen) == ["Claude weekly 50%", "Codex 2d 80%"]
    assert _fired_levels({"limit_thresholds": [80, 95], "limit_pace": False}, seen) == [
        "Claude 5 h 80%",
        "Codex 2d 80%",
    ]
    settings = settings_from_toml({"alerts": {"limit_thresholds": {"300m": [], "weekly": [90]}}})
    assert settings.alert_limit_thresholds == {"5h": (), "weekly": (90.0,)}


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ({"hourly": [80]}, "window 'hourly' is not one: name it 5h, weekly, or by its length"),
        ({"5h": [80], "300m": [90]}, "window '300m' is named twice (5h)"),
        ({"weekly": [120]}, "weekly: a list of up to 5 distinct percentages .* (120 is not one)"),
        ({"5h": "80"}, "5h: a list of up to 5 distinct percentages"),
        ({}, "a table of 1 to 8 windows"),
        ({"0h": [80]}, "window '0h' is not one"),
    ],
)
def test_a_bad_threshold_table_is_named(bad: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigError, match=r"alerts\.limit_thresholds = .* is not allowed") as err:
        settings_from_toml({"alerts": {"limit_thresholds": bad}})
    import re

    assert re.search(named.replace("(", r"\(").replace(")", r"\)"), str(err.value)), err.value


def test_a_threshold_table_in_a_config_file_loads_and_round_trips(tmp_path: Path) -> None:
    from burntray.config import load_config, settings_to_toml

    path = tmp_path / "config.toml"
    path.write_text('[alerts.limit_thresholds]\n"5h" = [95, 80]\nweekly = [50]\n')
    settings, problems = load_config(path)
    assert problems == ()
    assert settings.alert_limit_thresholds == {"5h": (80.0, 95.0), "weekly": (50.0,)}
    doc = settings_to_toml(settings)
    assert doc["alerts"]["limit_thresholds"] == {"5h": [80.0, 95.0], "weekly": [50.0]}
    assert settings_from_toml(doc).alert_limit_thresholds == settings.alert_limit_thresholds
    path.write_text("[alerts]\nlimit_thresholds = { monthly = [80] }\n")
    settings, problems = load_config(path)
    assert settings.alert_limit_thresholds == (80.0, 95.0)  # the default kept, and why said
    assert "window 'monthly' is not one" in problems[0]
