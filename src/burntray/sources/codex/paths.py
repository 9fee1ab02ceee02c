"""Codex's home folders, found as Codex finds them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from burntray.paths import env_path_list, user_home


def codex_homes(env: Mapping[str, str] | None = None) -> list[Path]:
    """Codex's home folders (each holds ``sessions/`` and ``archived_sessions/``):
    ``$CODEX_HOME`` (comma-separated) when set, else ``~/.codex``."""
    env = os.environ if env is None else env
    configured = env_path_list(env.get("CODEX_HOME", ""))
    return configured or [user_home(env) / ".codex"]
