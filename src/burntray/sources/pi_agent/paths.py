"""pi's session folders, found as ccusage finds them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from burntray.paths import env_path_list, user_home


def pi_session_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """``$PI_AGENT_DIR`` (comma-separated, ccusage's override) when set, else pi's own
    ``~/.pi/agent/sessions``."""
    env = os.environ if env is None else env
    configured = env_path_list(env.get("PI_AGENT_DIR", ""))
    return configured or [user_home(env) / ".pi" / "agent" / "sessions"]
