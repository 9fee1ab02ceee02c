"""Every directory rule in one place: burntray's own dirs and the upstream tools' dirs.

Nothing here touches the disk at import or when resolving; directories are created by the code
that writes into them (``ensure_dir``). ``BURNTRAY_HOME`` moves all of burntray's own dirs under
one folder (tests and development use it; nothing else reads the real user dirs then).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "burntray"


@dataclass(frozen=True, slots=True)
class AppPaths:
    config_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def history_db(self) -> Path:
        return self.data_dir / "history.sqlite3"

    @property
    def reports_dir(self) -> Path:
        return self.cache_dir / "reports"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "burntray.log"


def app_paths(env: Mapping[str, str] | None = None) -> AppPaths:
    """burntray's own dirs: platformdirs for app ``burntray``, or all under ``$BURNTRAY_HOME``."""
    env = os.environ if env is None else env
    home = env.get("BURNTRAY_HOME", "").strip()
    if home:
        root = Path(home).expanduser()
        return AppPaths(root / "config", root / "data", root / "cache", root / "log")
    import platformdirs  # noqa: PLC0415 - only when the real dirs are wanted

    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    return AppPaths(
        Path(dirs.user_config_dir),
        Path(dirs.user_data_dir),
        Path(dirs.user_cache_dir),
        Path(dirs.user_log_dir),
    )


def ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_home(env: Mapping[str, str] | None = None) -> Path:
    """Go's ``os.UserHomeDir``: ``USERPROFILE`` on Windows, ``HOME`` elsewhere."""
    env = os.environ if env is None else env
    var = "USERPROFILE" if os.name == "nt" else "HOME"
    value = env.get(var, "")
    if not value:
        raise RuntimeError(f"cannot resolve home: ${var} is not set")
    return Path(value)


def hexai_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """hexai's ``stats.CacheDir``, exactly (spec 1.1).

    ``$XDG_CACHE_HOME/hexai`` when XDG_CACHE_HOME is non-empty after trimming (the untrimmed
    value is used in the path, as hexai does), else ``<home>/.local/hexai/cache`` on every OS.
    """
    env = os.environ if env is None else env
    xdg = env.get("XDG_CACHE_HOME", "")
    if xdg.strip():
        return Path(xdg) / "hexai"
    return user_home(env) / ".local" / "hexai" / "cache"


def cburn_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """cburn's ``pipeline.CacheDir``: ``$XDG_CACHE_HOME/cburn``, else ``<home>/.cache/cburn``."""
    env = os.environ if env is None else env
    xdg = env.get("XDG_CACHE_HOME", "")
    if xdg:
        return Path(xdg) / "cburn"
    return user_home(env) / ".cache" / "cburn"


def _path_list(value: str) -> list[Path]:
    """A comma-separated list of folders (blank entries dropped, ``~`` expanded)."""
    return [Path(p.strip()).expanduser() for p in value.split(",") if p.strip()]


def claude_config_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """Claude Code's config folders (each holds ``projects/``), found as Claude Code finds them.

    ``$CLAUDE_CONFIG_DIR`` (comma-separated) replaces the defaults when set; otherwise both
    ``${XDG_CONFIG_HOME:-~/.config}/claude`` (newer versions) and ``~/.claude`` (older ones).
    """
    env = os.environ if env is None else env
    configured = _path_list(env.get("CLAUDE_CONFIG_DIR", ""))
    if configured:
        return configured
    home = user_home(env)
    xdg = env.get("XDG_CONFIG_HOME", "").strip()
    config_home = Path(xdg) if xdg else home / ".config"
    return [config_home / "claude", home / ".claude"]


def codex_homes(env: Mapping[str, str] | None = None) -> list[Path]:
    """Codex's home folders (each holds ``sessions/`` and ``archived_sessions/``):
    ``$CODEX_HOME`` (comma-separated) when set, else ``~/.codex``."""
    env = os.environ if env is None else env
    configured = _path_list(env.get("CODEX_HOME", ""))
    return configured or [user_home(env) / ".codex"]
