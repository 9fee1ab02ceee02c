"""Goose's session databases, found as Goose (and ccusage) find them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from burntray.paths import env_dir, user_home

DB_NAME = "sessions.db"


def goose_databases(env: Mapping[str, str] | None = None) -> list[Path]:
    """``$GOOSE_PATH_ROOT/data/sessions/sessions.db`` when that is set (Goose's own override);
    else its data folder's ``sessions/sessions.db``: ``$XDG_DATA_HOME/goose``, else
    ``~/.local/share/goose``, and where macOS builds and older releases keep it
    (``~/Library/Application Support/goose``, ``~/.local/share/Block/goose``)."""
    env = os.environ if env is None else env
    root = env_dir(env, "GOOSE_PATH_ROOT")
    if root is not None:
        return [root / "data" / "sessions" / DB_NAME]
    home = user_home(env)
    xdg = env_dir(env, "XDG_DATA_HOME")
    data = [
        (xdg if xdg is not None else home / ".local" / "share") / "goose",
        home / ".local" / "share" / "goose",
        home / "Library" / "Application Support" / "goose",
        home / ".local" / "share" / "Block" / "goose",
    ]
    return list(dict.fromkeys(d / "sessions" / DB_NAME for d in data))
