"""Codebuff's project folders, found as ccusage finds them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from burntray.paths import env_path_list, user_home

# Codebuff keeps its data under ~/.config/<channel> (its former name, manicode)
CHANNELS = ("manicode", "manicode-dev", "manicode-staging")


def codebuff_project_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """The ``projects`` folders: in each of ``$CODEBUFF_DATA_DIR`` (comma-separated, ccusage's
    override; a folder named ``projects`` is taken as it is), else in ``~/.config/manicode``
    and its dev and staging channels."""
    env = os.environ if env is None else env
    roots = env_path_list(env.get("CODEBUFF_DATA_DIR", "")) or [
        user_home(env) / ".config" / channel for channel in CHANNELS
    ]
    return [r if r.name == "projects" else r / "projects" for r in roots]
