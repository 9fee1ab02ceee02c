"""yoi's data folder, found as yoi finds it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from burntray.paths import env_dir, user_home


def yoi_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """yoi's data dir: ``$YOI_DATA_DIR``, else ``$YOI_HOME``, else ``$XDG_DATA_HOME/yoi``,
    else ``<home>/.local/share/yoi``."""
    env = os.environ if env is None else env
    xdg = env_dir(env, "XDG_DATA_HOME")
    return (
        env_dir(env, "YOI_DATA_DIR")
        or env_dir(env, "YOI_HOME")
        or (xdg / "yoi" if xdg else None)
        or user_home(env) / ".local" / "share" / "yoi"
    )
