"""config.toml as last read, kept in burntray's cache folder so a short command need not parse it.

A tray user has a config.toml (the tray's first start writes one), and importing tomllib and
parsing the file was ~4 % of a warm ``status --format tmux``, which tmux runs every few
seconds. The cache holds the file's exact text beside what it parsed to, as JSON (which the
log readers load anyway): it is used only when the file's text is the same, so an edit is
always read afresh. A cache that is missing, unreadable, too large or not one of ours is passed
over and rewritten; a file with a value JSON cannot hold (a TOML date) or a token is simply not
kept (a secret stays in config.toml alone).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from burntray.errors import ConfigError
from burntray.io.bounded_read import UnsafeFileError, read_regular_file

CACHE_NAME = "config-toml.json"
# What the cache's "format" must be: a change of layout makes old ones unused, not misread.
_FORMAT = "burntray config cache 1"
# config.toml is a few hundred bytes; a cache far past that is not one burntray wrote.
MAX_CACHE_BYTES = 1024 * 1024


def read_toml(path: Path, cache: Path | None) -> dict[str, Any] | None:
    """config.toml at ``path`` parsed (None when there is none), from ``cache`` when it holds
    this very text. Raises ``ConfigError`` when the file cannot be read or is not TOML."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    data = cached_toml(text, cache) if cache is not None else None
    if data is None:
        import tomllib  # noqa: PLC0415 - only when there is a file and it changed

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        if cache is not None:
            keep_toml(text, data, cache)
    return data


def cached_toml(text: str, cache: Path) -> dict[str, Any] | None:
    """What ``text`` (config.toml's) parsed to the last time, if ``cache`` holds it."""
    import json  # noqa: PLC0415 - only with a config.toml

    try:
        stored = json.loads(read_regular_file(cache, MAX_CACHE_BYTES))
    except (UnsafeFileError, OSError, ValueError, RecursionError):
        return None
    if (
        isinstance(stored, dict)
        and stored.get("format") == _FORMAT
        and stored.get("text") == text
        and isinstance(stored.get("data"), dict)
    ):
        data: dict[str, Any] = stored["data"]
        return data
    return None


def keep_toml(text: str, data: dict[str, Any], cache: Path) -> None:
    """Keep what ``text`` parsed to in ``cache``, for the next command; never raises."""
    import json  # noqa: PLC0415

    from burntray.io.atomic import atomic_write  # noqa: PLC0415 - only when the file changed
    from burntray.paths import ensure_dir  # noqa: PLC0415

    if _holds_a_token(data):
        return  # a secret is not copied out of config.toml (0600) into the cache
    try:
        blob = json.dumps({"format": _FORMAT, "text": text, "data": data}).encode("utf-8")
    except (TypeError, ValueError):  # a TOML date or time: read from the file each time
        return
    if len(blob) > MAX_CACHE_BYTES:
        return
    try:
        ensure_dir(cache.parent)
        atomic_write(cache, blob, durable=False)  # a lost cache is read afresh, not misread
    except OSError:
        return


def _holds_a_token(table: dict[str, Any]) -> bool:
    """Whether a key named ``token`` (``serve.token``, ``otel.token``, ``team.token``: the
    secrets config.toml holds) is set anywhere in ``table``."""
    return any(
        key == "token" or (isinstance(value, dict) and _holds_a_token(value))
        for key, value in table.items()
    )
