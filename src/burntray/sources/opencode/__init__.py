"""The ``opencode`` source: OpenCode's own message store (its SQLite database, and the JSON
files of older versions), read in place; the format and its rules are in ``.reader``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from burntray.sources.agent_logs.agent_spec import Places, agent_spec, prices_line, store_build

if TYPE_CHECKING:
    from burntray.sources.base import SourceContext

# a commit writes the database's -wal (or the database itself); older versions write JSON files
WATCHED = (".db", ".db-wal", ".db-journal", ".json")
PLACES = Places("opencode.dirs", "burntray.sources.opencode.paths:opencode_data_dirs")
READER = "burntray.sources.opencode.reader:OpenCodeReader"


def _probe(ctx: SourceContext) -> tuple[bool, str]:
    from burntray.sources.opencode.paths import database_path  # noqa: PLC0415

    try:
        dirs = PLACES(ctx)
    except RuntimeError as exc:  # no home to resolve the default from
        return False, str(exc)
    found = [
        str(d) for d in dirs if database_path(d) is not None or (d / "storage" / "message").is_dir()
    ]
    if found:
        return True, ", ".join(found)
    return False, "no OpenCode database or messages in " + ", ".join(map(str, dirs))


def _doctor(ctx: SourceContext) -> list[str]:
    from burntray.sources.opencode.paths import database_path  # noqa: PLC0415

    lines = []
    for folder in PLACES(ctx):
        db = database_path(folder)
        lines.append(f"database     {db if db is not None else f'none in {folder}'}")
        legacy = folder / "storage" / "message"
        if legacy.is_dir():
            lines.append(f"messages     {legacy} (older versions' JSON files)")
    lines.append(prices_line(own_cost="OpenCode"))
    return lines


SPEC = agent_spec(
    name="opencode",
    label="OpenCode",
    places=PLACES,
    option_help="OpenCode data folders, comma-separated ('' = OPENCODE_DATA_DIR, else "
    "$XDG_DATA_HOME/opencode or ~/.local/share/opencode)",
    covers="opencode",
    summary="OpenCode's message store (opencode.db, storage/message): every message's tokens and "
    "cost, live",
    build=store_build("opencode", "OpenCode", PLACES, READER, WATCHED),
    probe=_probe,
    doctor=_doctor,
)
