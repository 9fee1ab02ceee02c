"""Kilo's data folders (Kilo CLI is a fork of OpenCode), found as Kilo and ccusage find them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from burntray.paths import env_dir, env_path_list, user_home


def kilo_data_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """``$KILO_DATA_DIR`` (comma-separated, ccusage's override) when set, else the XDG rule
    Kilo keeps from OpenCode: ``$XDG_DATA_HOME/kilo``, else ``~/.local/share/kilo``."""
    env = os.environ if env is None else env
    configured = env_path_list(env.get("KILO_DATA_DIR", ""))
    if configured:
        return configured
    xdg = env_dir(env, "XDG_DATA_HOME")
    return [(xdg if xdg is not None else user_home(env) / ".local" / "share") / "kilo"]
