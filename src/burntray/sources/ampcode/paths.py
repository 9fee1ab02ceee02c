"""Amp's data folders, found as Amp (and ccusage) find them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from burntray.paths import env_dir, env_path_list, user_home


def amp_data_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """``$AMP_DATA_DIR`` (comma-separated, ccusage's override) when set, else Amp's data folder:
    ``$XDG_DATA_HOME/amp``, else ``~/.local/share/amp``. Each holds ``threads/``."""
    env = os.environ if env is None else env
    configured = env_path_list(env.get("AMP_DATA_DIR", ""))
    if configured:
        return configured
    xdg = env_dir(env, "XDG_DATA_HOME")
    return [(xdg if xdg is not None else user_home(env) / ".local" / "share") / "amp"]
