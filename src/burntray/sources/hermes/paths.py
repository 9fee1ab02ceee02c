"""Hermes Agent's state databases, found as Hermes (and ccusage) find them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from burntray.paths import env_path_list, user_home


def hermes_state_dbs(env: Mapping[str, str] | None = None) -> list[Path]:
    """``state.db`` in each of ``$HERMES_HOME`` (comma-separated) when set, else ``~/.hermes``."""
    env = os.environ if env is None else env
    homes = env_path_list(env.get("HERMES_HOME", "")) or [user_home(env) / ".hermes"]
    return [home / "state.db" for home in homes]
