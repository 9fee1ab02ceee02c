"""Kimi CLI's data folders, found as ccusage finds them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from burntray.paths import env_path_list, user_home


def kimi_data_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """``$KIMI_DATA_DIR`` (comma-separated, ccusage's override) when set, else ``~/.kimi``.
    Each holds ``sessions/<group>/<session>/wire.jsonl`` and ``config.json``."""
    env = os.environ if env is None else env
    return env_path_list(env.get("KIMI_DATA_DIR", "")) or [user_home(env) / ".kimi"]
