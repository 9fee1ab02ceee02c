"""OpenClaw's state folders (formerly Clawdbot and Moltbot), found as ccusage finds them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from burntray.paths import env_path_list, user_home

# the folder of each name the project has had
FOLDERS = (".openclaw", ".clawdbot", ".moltbot", ".moldbot")


def openclaw_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """``$OPENCLAW_DIR`` (comma-separated, ccusage's override) when set, else ``~/.openclaw``
    and the folders of its former names."""
    env = os.environ if env is None else env
    configured = env_path_list(env.get("OPENCLAW_DIR", ""))
    if configured:
        return configured
    home = user_home(env)
    return [home / name for name in FOLDERS]


def is_session_file(name: str) -> bool:
    """``<id>.jsonl``, or one archived by a reset or a delete (``.jsonl.reset.<time>``)."""
    index = name.find(".jsonl")
    if index <= 0:
        return False
    rest = name[index:]
    return rest == ".jsonl" or rest.startswith((".jsonl.deleted.", ".jsonl.reset."))
