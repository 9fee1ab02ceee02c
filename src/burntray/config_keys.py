"""What a config key is (``ConfigField``) and the value parsers the sources' keys share.

Below both ``config`` (which validates a whole file) and the sources (whose registry entries
declare their own keys), so a source's spec never imports ``config``: ``config`` asks the
source registry for those keys, and the registry must not import ``config`` back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from msgspec import Struct


def text(value: object) -> str:
    """Parser for free text (paths)."""
    if not isinstance(value, str):
        raise ValueError("a string")
    return value


def url(value: object) -> str:
    """Parser for an http(s) URL, "" meaning discover."""
    given = text(value).strip()
    if given and not given.startswith(("http://", "https://")):
        raise ValueError("an http:// or https:// URL, or empty to discover the daemon")
    return given.rstrip("/")


def names(value: object) -> str:
    """Parser for a list of host names or origins: a TOML list or one string, separated by
    commas or spaces; kept as one comma-separated string."""
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(i, str) for i in items):
        raise ValueError('names as a list of strings or one string, e.g. "a.example, b.example"')
    words = [w for i in items for w in str(i).replace(",", " ").split()]
    for word in words:
        if any(c in word for c in "\"'<>\\") or len(word) > 253:
            raise ValueError(f"{word[:60]!r} is not a host name or origin")
    return ", ".join(dict.fromkeys(words))


class ConfigField(Struct, frozen=True):
    """One config key: where it lives in the TOML, how it is parsed, what it does."""

    key: str  # dotted TOML key
    attr: str  # Settings attribute; "" for a source's key (kept in Settings.source_options)
    parse: Callable[[object], Any]
    doc: str
    default: Any = None  # a source key's default (core keys take the Settings default)


def source_field(key: str, parse: Callable[[object], Any], doc: str, default: Any) -> ConfigField:
    """A key a source declares in its registry entry."""
    return ConfigField(key, "", parse, doc, default)
