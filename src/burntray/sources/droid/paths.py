"""Factory Droid's session folders, found as ccusage finds them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from burntray.paths import env_path_list, user_home


def droid_session_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """``$DROID_SESSIONS_DIR`` (comma-separated, ccusage's override) when set, else Droid's own
    ``~/.factory/sessions``."""
    env = os.environ if env is None else env
    configured = env_path_list(env.get("DROID_SESSIONS_DIR", ""))
    return configured or [user_home(env) / ".factory" / "sessions"]
