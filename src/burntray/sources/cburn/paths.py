"""cburn's cache folder (where its daemon leaves its state file), found as cburn finds it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from burntray.paths import user_home


def cburn_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """cburn's ``pipeline.CacheDir``: ``$XDG_CACHE_HOME/cburn``, else ``<home>/.cache/cburn``."""
    env = os.environ if env is None else env
    xdg = env.get("XDG_CACHE_HOME", "")
    if xdg:
        return Path(xdg) / "cburn"
    return user_home(env) / ".cache" / "cburn"
