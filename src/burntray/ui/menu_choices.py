"""The tray menu's choices (window, what the icon shows) and the words for a window."""

from __future__ import annotations

from burntray.config_values import CALENDAR_WINDOWS
from burntray.ui.limits_view import LIMIT_FIGURE

# (settings value, menu label): the order is the menu's order
WINDOW_CHOICES: tuple[tuple[str, str], ...] = (
    ("5m", "5 min"),
    ("15m", "15 min"),
    ("1h", "1 h"),
    ("6h", "6 h"),
    ("24h", "24 h"),
    ("7d", "7 d"),
    ("today", "Today"),
    ("week", "This week"),
    ("month", "This month"),
)
FIGURE_CHOICES: tuple[tuple[str, str], ...] = (
    ("rpm", "RPM"),
    ("cost", "cost"),
    ("reqs", "requests"),
    (LIMIT_FIGURE, "plan limit %"),
    ("none", "nothing"),
)


def window_label(window: str) -> str:
    return dict(WINDOW_CHOICES).get(window, window)


def window_phrase(window: str) -> str:
    """What the figures cover, in words: ``last 1 h``, ``today``, ``this week``."""
    return CALENDAR_WINDOWS.get(window) or f"last {window_label(window)}"


__all__ = ["FIGURE_CHOICES", "WINDOW_CHOICES", "window_label", "window_phrase"]
