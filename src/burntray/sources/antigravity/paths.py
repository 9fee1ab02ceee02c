"""Antigravity's data folders, found as ccusage 20.0.24 finds them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from burntray.paths import env_path_list, user_home

# the CLI, the IDE, the older location and its backup, and the desktop app's config folder
HOME_FOLDERS = (
    (".gemini", "antigravity"),
    (".gemini", "antigravity-cli"),
    (".gemini", "antigravity-ide"),
    (".gemini", "antigravity-backup"),
    (".config", "antigravity"),
)


def antigravity_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """``$ANTIGRAVITY_DATA_DIR`` (comma-separated) when set, else every Antigravity folder in
    the home. Each holds ``conversations/<id>.db``."""
    env = os.environ if env is None else env
    configured = env_path_list(env.get("ANTIGRAVITY_DATA_DIR", ""))
    if configured:
        return configured
    home = user_home(env)
    return [home.joinpath(*parts) for parts in HOME_FOLDERS]
