"""The alert part of the tray menu, described as values (pure; no pystray here).

The tray adapter turns each ``MenuGroup`` into a submenu of radio items and, on a click, applies
``apply_choice`` (then saves the settings and hands them to the monitor and the alert engine):

    Notifications ▸ (•) On  ( ) Off
    Spike alert at ▸ ( ) $1/h  (•) $5/h  ( ) $20/h  [(•) $7.50/h (custom, from config)]
    Daily budget ▸ (•) Off  ( ) $5  ( ) $10  ( ) $20  ( ) $50  ( ) $100  [custom]

A value set in config.toml that is not a preset shows as its own checked, disabled item, so the
menu never hides what is in force.
"""

from __future__ import annotations

from msgspec import Struct

from burntray.config import Settings
from burntray.model.format import usd

THRESHOLD_PRESETS: tuple[float, ...] = (1.0, 5.0, 20.0)  # $/h
BUDGET_PRESETS: tuple[float, ...] = (0.0, 5.0, 10.0, 20.0, 50.0, 100.0)  # USD a day; 0 = off
NOTIFICATIONS_SETTING = "notifications"
THRESHOLD_SETTING = "alert_spike_usd_per_hour"
BUDGET_SETTING = "alert_daily_budget_usd"


class MenuChoice(Struct, frozen=True):
    label: str
    setting: str  # the Settings attribute a click changes
    value: bool | float
    checked: bool
    enabled: bool = True  # False for a custom value from config.toml (shown, not clickable)


class MenuGroup(Struct, frozen=True):
    label: str
    choices: tuple[MenuChoice, ...]


def _money(amount: float) -> str:
    """``$5``, ``$7.50``: whole dollars without cents, as menus read best."""
    return f"${amount:g}" if amount == int(amount) else usd(amount)


def _presets(
    setting: str, current: float, presets: tuple[float, ...], label: str
) -> tuple[MenuChoice, ...]:
    def name(value: float) -> str:
        if setting == BUDGET_SETTING and value == 0:
            return "Off"
        return _money(value) + ("/h" if setting == THRESHOLD_SETTING else "")

    choices = [MenuChoice(name(p), setting, p, checked=p == current) for p in presets]
    if current not in presets:
        choices.append(
            MenuChoice(f"{name(current)} ({label})", setting, current, True, enabled=False)
        )
    return tuple(choices)


def alert_menu(settings: Settings) -> tuple[MenuGroup, ...]:
    on = settings.notifications
    return (
        MenuGroup(
            "Notifications",
            (
                MenuChoice("On", NOTIFICATIONS_SETTING, True, checked=on),
                MenuChoice("Off", NOTIFICATIONS_SETTING, False, checked=not on),
            ),
        ),
        MenuGroup(
            "Spike alert at",
            _presets(
                THRESHOLD_SETTING,
                settings.alert_spike_usd_per_hour,
                THRESHOLD_PRESETS,
                "custom, from config",
            ),
        ),
        MenuGroup(
            "Daily budget",
            _presets(
                BUDGET_SETTING,
                settings.alert_daily_budget_usd,
                BUDGET_PRESETS,
                "custom, from config",
            ),
        ),
    )


def apply_choice(settings: Settings, choice: MenuChoice) -> Settings:
    """The settings after a click on ``choice`` (validated like a loaded config)."""
    return settings.replace(**{choice.setting: choice.value})
