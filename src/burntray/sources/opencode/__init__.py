"""The ``opencode`` source: OpenCode's own message store (its SQLite database, and the JSON
files of older versions), read in place; the format and its rules are in ``.reader``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from burntray.config_keys import source_field, text
from burntray.sources.agent_logs.spec import DETAIL, dirs_option
from burntray.sources.spec import SourceSpec

if TYPE_CHECKING:
    from burntray.sources.base import Source, SourceContext

LABEL = "OpenCode"
# a commit writes the database's -wal (or the database itself); older versions write JSON files
WATCHED = (".db", ".db-wal", ".db-journal", ".json")


def opencode_dirs(ctx: SourceContext) -> list[Path]:
    """OpenCode data folders: ``opencode.dirs`` when set, else OpenCode's own rule."""
    from burntray.sources.opencode.paths import opencode_data_dirs  # noqa: PLC0415

    return dirs_option(ctx.option("opencode.dirs")) or opencode_data_dirs(ctx.env)


def _build(ctx: SourceContext) -> Source:
    from burntray.sources.agent_logs.stores import StoreSource  # noqa: PLC0415
    from burntray.sources.opencode.reader import OpenCodeReader  # noqa: PLC0415

    dirs = opencode_dirs(ctx)
    reader = OpenCodeReader(dirs, ctx.prices)
    return StoreSource(
        "opencode", LABEL, reader, dirs, ctx.records_history(), ctx.clock_ns,
        watch_suffixes=WATCHED,
    )  # fmt: skip


def _probe(ctx: SourceContext) -> tuple[bool, str]:
    from burntray.sources.opencode.paths import database_path  # noqa: PLC0415

    try:
        dirs = opencode_dirs(ctx)
    except RuntimeError as exc:  # no home to resolve the default from
        return False, str(exc)
    found = [
        str(d) for d in dirs if database_path(d) is not None or (d / "storage" / "message").is_dir()
    ]
    if found:
        return True, ", ".join(found)
    return False, "no OpenCode database or messages in " + ", ".join(map(str, dirs))


def _doctor(ctx: SourceContext) -> list[str]:
    from burntray.model.price_table import PRICES_AS_OF  # noqa: PLC0415
    from burntray.sources.opencode.paths import database_path  # noqa: PLC0415

    lines = []
    for folder in opencode_dirs(ctx):
        db = database_path(folder)
        lines.append(f"database     {db if db is not None else f'none in {folder}'}")
        legacy = folder / "storage" / "message"
        if legacy.is_dir():
            lines.append(f"messages     {legacy} (older versions' JSON files)")
    lines.append(f"prices       OpenCode's own cost, else bundled table {PRICES_AS_OF}")
    return lines


SPEC = SourceSpec(
    name="opencode",
    label=LABEL,
    build=_build,
    probe=_probe,
    config_fields=(
        source_field(
            "opencode.dirs",
            text,
            "OpenCode data folders, comma-separated ('' = OPENCODE_DATA_DIR, else "
            "$XDG_DATA_HOME/opencode or ~/.local/share/opencode)",
            "",
        ),
    ),
    covers=frozenset({"opencode"}),
    detail=DETAIL,
    auto_rank=None,
    doctor=_doctor,
    summary="OpenCode's message store (opencode.db, storage/message): every message's tokens and "
    "cost, live",
)
