"""The location rule several agents share (OpenCode, its fork Kilo, Amp): a comma-separated
override in an environment variable (ccusage's), else the agent's folder in the XDG data home."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from burntray.paths import env_dir, env_path_list, user_home


def xdg_data_dirs(env: Mapping[str, str] | None, override: str, name: str) -> list[Path]:
    """``$<override>`` (comma-separated) when set, else ``$XDG_DATA_HOME/<name>``, else
    ``~/.local/share/<name>``."""
    env = os.environ if env is None else env
    configured = env_path_list(env.get(override, ""))
    if configured:
        return configured
    xdg = env_dir(env, "XDG_DATA_HOME")
    return [(xdg if xdg is not None else user_home(env) / ".local" / "share") / name]
