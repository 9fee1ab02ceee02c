"""hexai's cache folder, found as hexai finds it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from burntray.paths import user_home


def hexai_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """hexai's ``stats.CacheDir``, exactly (spec 1.1).

    ``$XDG_CACHE_HOME/hexai`` when XDG_CACHE_HOME is non-empty after trimming (the untrimmed
    value is used in the path, as hexai does), else ``<home>/.local/hexai/cache`` on every OS.
    """
    env = os.environ if env is None else env
    xdg = env.get("XDG_CACHE_HOME", "")
    if xdg.strip():
        return Path(xdg) / "hexai"
    return user_home(env) / ".local" / "hexai" / "cache"
