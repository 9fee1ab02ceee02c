"""burntray's exception tree. Messages are written for the user: what, where, what to do."""

from __future__ import annotations


class BurntrayError(Exception):
    """Base of every error burntray raises on purpose."""


class ConfigError(BurntrayError):
    """config.toml cannot be used; the message names the key, the value and what is allowed."""


class LockTimeoutError(BurntrayError):
    """Another process holds hexai's stats lock for longer than we may wait."""


class ClearError(BurntrayError):
    """Clearing a cache failed; nothing was changed."""
