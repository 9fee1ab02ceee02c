"""``burntray statusline install`` / ``uninstall``: burntray as Claude Code's ``statusLine``.

Claude Code reads its user settings from ``settings.json`` in its config folder
(``$CLAUDE_CONFIG_DIR``, else ``~/.claude``; ``~/.config/claude`` where that is the one in
use). Installing adds ``"statusLine": {"type": "command", "command": ..., "padding": 0}`` and
keeps every other setting, in its order; a copy of the file as it was is written first
(``settings.json.burntray-backup``). A status line already set is not replaced: the message
says how to chain it, and nothing changes. Uninstalling puts the backup back byte for byte
when the file is still what install wrote, else takes out only the ``statusLine`` burntray
added. Files are written atomically and a symbolic link or anything but a regular file where
``settings.json`` is (or its backup) is refused, never followed.
"""

from __future__ import annotations

import json
import os
import shlex
import stat
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from burntray.errors import BurntrayError
from burntray.io.atomic import atomic_write, kind_of
from burntray.sources.claude.paths import claude_config_dirs

SETTINGS = "settings.json"
BACKUP = "settings.json.burntray-backup"
MAX_SETTINGS_BYTES = 4 * 1024 * 1024
KEY = "statusLine"


class SettingsError(BurntrayError):
    pass


def default_command() -> str:
    """How Claude Code is to run this burntray's status line."""
    if getattr(sys, "frozen", False):
        return f"{shlex.quote(sys.executable)} statusline"
    return f"{shlex.quote(sys.executable)} -m burntray statusline"


def settings_dir(env: Mapping[str, str]) -> Path:
    """Claude Code's config folder: the first that has a ``settings.json``, else the first
    that exists, else ``$CLAUDE_CONFIG_DIR``'s first or ``~/.claude``."""
    dirs = claude_config_dirs(env)
    for d in dirs:
        if os.path.lexists(d / SETTINGS):
            return d
    for d in dirs:
        if d.is_dir():
            return d
    return dirs[0] if env.get("CLAUDE_CONFIG_DIR", "").strip() else dirs[-1]


def _read(path: Path) -> bytes | None:
    """The file's bytes (None when absent); only a regular file, never through a link."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SettingsError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(info.st_mode):
        raise SettingsError(f"{path} is {kind_of(info.st_mode)}; burntray edits only a plain file")
    if info.st_size > MAX_SETTINGS_BYTES:
        raise SettingsError(f"{path} is over {MAX_SETTINGS_BYTES // 1024 // 1024} MiB")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise SettingsError(f"{path} changed while opened; nothing was changed")
            return os.read(fd, MAX_SETTINGS_BYTES + 1)
        finally:
            os.close(fd)
    except OSError as exc:
        raise SettingsError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _parse(path: Path, data: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise SettingsError(f"{path} is not JSON ({exc}); nothing was changed") from None
    if not isinstance(doc, dict):
        raise SettingsError(f"{path} is not a JSON object; nothing was changed")
    return doc


def _dump(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()


def _ours(value: object) -> bool:
    return (
        isinstance(value, dict)
        and value.get("type") == "command"
        and isinstance(value.get("command"), str)
        and "statusline" in value["command"]
        and "burntray" in value["command"]
    )


def _write(path: Path, data: bytes, mode: int) -> None:
    try:
        atomic_write(path, data, mode=mode)
    except OSError as exc:
        raise SettingsError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _mode(path: Path) -> int:
    try:
        return stat.S_IMODE(os.lstat(path).st_mode)
    except OSError:
        return 0o600


def install(env: Mapping[str, str], command: str, *, refresh_s: int | None = None) -> str:
    """Add burntray's status line (re-run every ``refresh_s`` seconds when given)."""
    folder = settings_dir(env)
    path, backup = folder / SETTINGS, folder / BACKUP
    original = _read(path)
    doc = _parse(path, original) if original is not None else {}
    current = doc.get(KEY)
    if _ours(current):
        return f"burntray is already Claude Code's status line in {path}; nothing changed"
    if current is not None:
        old = current.get("command") if isinstance(current, dict) else None
        old = old if isinstance(old, str) else "OLD_COMMAND"
        raise SettingsError(
            f"{path} already has a status line ({json.dumps(current)}); nothing was changed. "
            "To show both, set its command to a script that gives Claude Code's input to "
            f"each: in=$(cat); printf '%s' \"$in\" | {old}; printf '%s' \"$in\" | {command}"
        )
    if _read(backup) is not None:
        raise SettingsError(
            f"{backup} exists from an earlier install; move it away first (nothing was changed)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    mode = _mode(path) if original is not None else 0o600
    if original is not None:
        _write(backup, original, mode)  # the file as it was, first
    doc[KEY] = {"type": "command", "command": command, "padding": 0}
    if refresh_s is not None:
        doc[KEY]["refreshInterval"] = refresh_s
    _write(path, _dump(doc), mode)
    kept = f"; the file as it was is in {backup}" if original is not None else ""
    return f"burntray is now Claude Code's status line ({path}){kept}"


def uninstall(env: Mapping[str, str]) -> str:
    folder = settings_dir(env)
    path, backup = folder / SETTINGS, folder / BACKUP
    data = _read(path)
    if data is None:
        raise SettingsError(f"no {path}: nothing to uninstall")
    doc = _parse(path, data)
    if not _ours(doc.get(KEY)):
        raise SettingsError(f"{path} has no status line set by burntray; nothing was changed")
    saved = _read(backup)
    if saved is not None:
        before = _parse(backup, saved)
        if KEY not in before and _dump({**before, KEY: doc[KEY]}) == data:
            _write(path, saved, _mode(path))  # unchanged since install: exactly as it was
            os.unlink(backup)
            return f"Claude Code's settings restored from {backup} ({path})"
    del doc[KEY]  # changed since: take out only what install added
    _write(path, _dump(doc), _mode(path))
    if saved is not None:
        os.unlink(backup)
    return f"burntray's status line removed from {path}; every other setting kept"
