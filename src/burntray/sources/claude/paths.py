"""Claude Code's config folders, found as Claude Code finds them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from burntray.paths import env_path_list, user_home
from burntray.sources.agent_logs.spec import dirs_option

if TYPE_CHECKING:
    from burntray.sources.base import SourceContext


def claude_config_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """Claude Code's config folders (each holds ``projects/``), found as Claude Code finds them.

    ``$CLAUDE_CONFIG_DIR`` (comma-separated) replaces the defaults when set; otherwise both
    ``${XDG_CONFIG_HOME:-~/.config}/claude`` (newer versions) and ``~/.claude`` (older ones).
    """
    env = os.environ if env is None else env
    configured = env_path_list(env.get("CLAUDE_CONFIG_DIR", ""))
    if configured:
        return configured
    home = user_home(env)
    xdg = env.get("XDG_CONFIG_HOME", "").strip()
    config_home = Path(xdg) if xdg else home / ".config"
    return [config_home / "claude", home / ".claude"]


def claude_dirs(ctx: SourceContext) -> list[Path]:
    """Claude config folders: ``claude.dirs`` when set, else Claude Code's own rule."""
    return dirs_option(ctx.option("claude.dirs")) or claude_config_dirs(ctx.env)
