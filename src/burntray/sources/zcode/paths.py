"""ZCode's home folders, found as ZCode (and ccusage) find them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from burntray.paths import env_path_list, user_home


def zcode_homes(env: Mapping[str, str] | None = None) -> list[Path]:
    """``$ZCODE_HOME`` (comma-separated, as ccusage reads it) when set, else ``~/.zcode``.
    Each holds ZCode's usage database ``cli/db/db.sqlite``."""
    env = os.environ if env is None else env
    return env_path_list(env.get("ZCODE_HOME", "")) or [user_home(env) / ".zcode"]
