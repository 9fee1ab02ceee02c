"""Saving settings: the keys that changed are edited into the user's own ``config.toml`` in
place with tomlkit (comments and order kept), atomically and 0600; a file that is not TOML is
never overwritten. Apart from ``config`` so that commands which only read settings (``status``)
never load tomlkit.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from burntray.config import (
    NEW_CONFIG_WINDOW,
    Settings,
    flatten_keys,
    settings_from_toml,
    settings_to_toml,
)
from burntray.errors import ConfigError
from burntray.io.atomic import atomic_write
from burntray.lazylog import get_logger
from burntray.paths import PRIVATE_FILE_MODE, ensure_dir

_HEADER = "# burntray settings: every key is in burntray's docs/reference/config.md\n"
_MISSING = object()


def changed_keys(before: Settings, after: Settings) -> dict[str, Any]:
    """The dotted keys whose value differs between two settings, with ``after``'s value
    (``_MISSING`` for a key ``after`` no longer has, such as an emptied ``pricing.models``)."""
    old = dict(flatten_keys(settings_to_toml(before)))
    new = dict(flatten_keys(settings_to_toml(after)))
    changes = {key: value for key, value in new.items() if old.get(key, _MISSING) != value}
    changes.update({key: _MISSING for key in old.keys() - new.keys()})
    return changes


def _read_document(path: Path) -> tuple[str, Mapping[str, Any]]:
    """The file's text ("" when missing) and its strict parse. Raises ``ConfigError`` when it
    cannot be read or is not TOML: such a file is never overwritten (the user's text is all
    there is of it)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return "", {}
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; not overwritten") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    import tomllib  # noqa: PLC0415 - see load_settings

    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); not overwritten") from None


def _edit(path: Path, text: str, changes: Mapping[str, Any]) -> str:
    """``text`` with ``changes`` applied in place: every other line, comment, blank line and
    the order of keys stay as the user wrote them."""
    import tomlkit  # noqa: PLC0415 - only when saving: `status` never writes
    from tomlkit.exceptions import TOMLKitError  # noqa: PLC0415

    try:
        doc = tomlkit.parse(text) if text else tomlkit.parse(_HEADER)
    except TOMLKitError as exc:
        raise ConfigError(f"{path}: cannot be edited ({exc}); not overwritten") from None
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        node: Any = doc
        for depth, part in enumerate(parents):
            child = node.get(part)
            if child is None:
                node[part] = tomlkit.table()
                child = node[part]
            elif not isinstance(child, dict):
                where = ".".join(parents[: depth + 1])
                raise ConfigError(
                    f"{path}: cannot set {dotted}: {where} is {type(child).__name__}, "
                    "not a table; not overwritten"
                )
            node = child
        if value is _MISSING:
            node.pop(leaf, None)
        elif leaf in node or isinstance(value, dict):
            node[leaf] = value  # in place, its comment kept; a new table goes at the end
        else:
            _add_key(node, leaf, value)
    body = tomlkit.dumps(doc)
    if "\r\n" in text:  # a file written on Windows: the added lines end as the user's do
        body = body.replace("\r\n", "\n").replace("\n", "\r\n")
    return body


def _add_key(node: Any, key: str, value: Any) -> None:
    """Add a new key right after the table's last key, not after the comments and blank lines
    that follow it: those usually introduce the next table, and must stay with it."""
    from tomlkit.container import Container  # noqa: PLC0415
    from tomlkit.items import AoT, Table  # noqa: PLC0415

    container = node if isinstance(node, Container) else node.value
    body = container.body
    keys = [i for i, (k, item) in enumerate(body) if k and not isinstance(item, Table | AoT)]
    last = keys[-1] if keys else None
    if last is None or last + 1 >= len(body):
        node[key] = value
    else:  # tomlkit's public API only appends; this keeps a table's comments with it
        container._insert_at(last + 1, key, value)


def save_settings(path: Path, settings: Settings, previous: Settings | None = None) -> None:
    """Write the keys of ``settings`` that differ from ``previous`` (by default: from what the
    file holds now) into the user's own file, editing it in place, so their comments, order
    and every other key stay as they are; a missing file gets only those keys. Atomic (temp
    file + fsync + rename: a crash never leaves half a file) and 0600, since the file can hold
    a bearer token. Raises ``ConfigError`` (the file is not TOML, or a key cannot be set
    there: nothing is written) or ``OSError``."""
    text, data = _read_document(path)
    if previous is None:
        previous = settings_from_toml(data, source=str(path), problems=[])
    changes = changed_keys(previous, settings)
    if not changes:
        return
    body = _edit(path, text, changes)
    import tomllib  # noqa: PLC0415

    # What tomlkit wrote must read back as asked: never replace a file with a surprise.
    written = dict(flatten_keys(tomllib.loads(body)))
    wrong = [k for k, v in changes.items() if written.get(k, _MISSING) != v]
    if wrong:
        raise ConfigError(f"{path}: could not set {', '.join(wrong)} safely; not overwritten")
    ensure_dir(path.parent, allow_link=True)  # dotfiles repositories link the file or folder
    atomic_write(path, body.encode("utf-8"), mode=PRIVATE_FILE_MODE, follow_symlinks=True)


def first_run_settings(path: Path, settings: Settings) -> Settings:
    """``settings`` for the tray's start: with no ``config.toml`` yet (a new configuration),
    the window becomes ``NEW_CONFIG_WINDOW`` and the file is written with it. A file that cannot
    be written changes nothing but this run."""
    if path.exists():
        return settings
    settings = settings.replace(window=NEW_CONFIG_WINDOW)
    try:
        save_settings(path, settings)
    except OSError as exc:  # the tray still shows today; saving is tried again on a change
        get_logger(__name__).warning("cannot write a new %s: %s", path, exc.strerror or exc)
    return settings
