"""Amp's data folders, found as Amp (and ccusage) find them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from burntray.sources.agent_logs.dirs import xdg_data_dirs


def amp_data_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """``$AMP_DATA_DIR`` (comma-separated, ccusage's override) when set, else Amp's data folder:
    ``$XDG_DATA_HOME/amp``, else ``~/.local/share/amp``. Each holds ``threads/``."""
    return xdg_data_dirs(env, "AMP_DATA_DIR", "amp")
