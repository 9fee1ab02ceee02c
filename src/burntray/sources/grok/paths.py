"""Grok Build CLI's home folders, found as Grok Build (and ccusage) find them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from burntray.paths import env_path_list, user_home


def grok_homes(env: Mapping[str, str] | None = None) -> list[Path]:
    """``$GROK_HOME`` (comma-separated, as ccusage reads it) when set, else ``~/.grok``. Each
    holds ``sessions/<encoded-cwd>/<session-id>/updates.jsonl``."""
    env = os.environ if env is None else env
    return env_path_list(env.get("GROK_HOME", "")) or [user_home(env) / ".grok"]
