"""Qwen Code's data folders, found as ccusage finds them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from burntray.paths import env_path_list, user_home


def qwen_data_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """``$QWEN_DATA_DIR`` (comma-separated, ccusage's override) when set, else Qwen Code's own
    folder ``~/.qwen``. Each holds ``projects/<project>/chats/*.jsonl``."""
    env = os.environ if env is None else env
    return env_path_list(env.get("QWEN_DATA_DIR", "")) or [user_home(env) / ".qwen"]
