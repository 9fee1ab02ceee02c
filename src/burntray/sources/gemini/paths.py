"""Gemini CLI's chat folders, found as Gemini CLI (and ccusage) find them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from burntray.paths import env_dir, env_path_list, user_home


def gemini_data_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """``$GEMINI_DATA_DIR`` (comma-separated, ccusage's override) when set, else Gemini CLI's
    own rule: ``tmp`` in ``$GEMINI_CLI_HOME/.gemini``, else in ``~/.gemini``."""
    env = os.environ if env is None else env
    configured = env_path_list(env.get("GEMINI_DATA_DIR", ""))
    if configured:
        return configured
    root = env_dir(env, "GEMINI_CLI_HOME")
    return [(root if root is not None else user_home(env)) / ".gemini" / "tmp"]
