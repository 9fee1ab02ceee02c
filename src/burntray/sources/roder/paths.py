"""roder's data folder and analytics database, found as roder finds them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from burntray.io.bounded_read import UnsafeFileError, read_regular_file
from burntray.paths import env_dir, user_home


def roder_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """roder's ``config_dir``: ``$RODER_CONFIG_DIR``, else ``$RODER_DATA_DIR``, else
    ``<home>/.roder`` (the same on every OS)."""
    env = os.environ if env is None else env
    return (
        env_dir(env, "RODER_CONFIG_DIR")
        or env_dir(env, "RODER_DATA_DIR")
        or user_home(env) / ".roder"
    )


def roder_usage_db(env: Mapping[str, str] | None = None) -> Path:
    """roder's analytics store: ``[analytics] store`` in ``<data-dir>/config.toml`` when set
    (relative paths are taken from the data dir), else ``<data-dir>/analytics/usage.sqlite3``.
    An unreadable or odd config.toml is ignored here; roder itself would report it."""
    data_dir = roder_data_dir(env)
    store = _roder_configured_store(data_dir / "config.toml")
    if store:
        path = Path(store).expanduser()
        return path if path.is_absolute() else data_dir / path
    return data_dir / "analytics" / "usage.sqlite3"


def _roder_configured_store(config: Path) -> str:

    try:
        raw = read_regular_file(config, 1024 * 1024)
    except UnsafeFileError:
        return ""
    import tomllib  # noqa: PLC0415 - only when there is a file: most machines have no roder

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ""
    analytics = data.get("analytics")
    store = analytics.get("store") if isinstance(analytics, dict) else None
    return store.strip() if isinstance(store, str) else ""
