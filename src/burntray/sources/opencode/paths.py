"""OpenCode's data folders, found as OpenCode (and ccusage) find them."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from burntray.sources.agent_logs.dirs import xdg_data_dirs

_CHANNEL_DB = re.compile(r"opencode-[A-Za-z0-9_-]+\.db")


def opencode_data_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """``$OPENCODE_DATA_DIR`` (comma-separated, ccusage's override) when set, else OpenCode's
    own XDG rule: ``$XDG_DATA_HOME/opencode``, else ``~/.local/share/opencode``."""
    return xdg_data_dirs(env, "OPENCODE_DATA_DIR", "opencode")


def database_path(folder: Path) -> Path | None:
    """``opencode.db``, else the first ``opencode-<channel>.db`` by name (as ccusage picks)."""
    default = folder / "opencode.db"
    if default.is_file():
        return default
    try:
        names = sorted(e.name for e in os.scandir(folder) if _CHANNEL_DB.fullmatch(e.name))
    except OSError:
        return None
    for name in names:
        if (folder / name).is_file():
            return folder / name
    return None
