"""Kilo's data folders (Kilo CLI is a fork of OpenCode), found as Kilo and ccusage find them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from burntray.sources.agent_logs.dirs import xdg_data_dirs


def kilo_data_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """``$KILO_DATA_DIR`` (comma-separated, ccusage's override) when set, else the XDG rule
    Kilo keeps from OpenCode: ``$XDG_DATA_HOME/kilo``, else ``~/.local/share/kilo``."""
    return xdg_data_dirs(env, "KILO_DATA_DIR", "kilo")
