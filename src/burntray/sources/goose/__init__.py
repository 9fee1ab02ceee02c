"""The ``goose`` source: Goose's session database (its sessions' running token totals), read in
place; the format and its rules are in ``.reader``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from burntray.config_keys import source_field, text
from burntray.sources.agent_logs.spec import DETAIL, dirs_option
from burntray.sources.spec import SourceSpec

if TYPE_CHECKING:
    from burntray.sources.base import Source, SourceContext

LABEL = "Goose"
WATCHED = (".db", ".db-wal", ".db-journal")


def goose_dbs(ctx: SourceContext) -> list[Path]:
    """Goose session databases: ``goose.db`` when set (comma-separated), else Goose's rule."""
    from burntray.sources.goose.paths import goose_databases  # noqa: PLC0415

    return dirs_option(ctx.option("goose.db")) or goose_databases(ctx.env)


def _build(ctx: SourceContext) -> Source:
    from burntray.sources.agent_logs.stores import StoreSource  # noqa: PLC0415
    from burntray.sources.goose.reader import GooseReader  # noqa: PLC0415

    dbs = goose_dbs(ctx)
    reader = GooseReader(dbs, ctx.prices, ctx.clock_ns)
    folders = list(dict.fromkeys(db.parent for db in dbs))
    return StoreSource(
        "goose", LABEL, reader, folders, ctx.records_history(), ctx.clock_ns, watch_suffixes=WATCHED
    )


def _probe(ctx: SourceContext) -> tuple[bool, str]:
    try:
        dbs = goose_dbs(ctx)
    except RuntimeError as exc:  # no home to resolve the default from
        return False, str(exc)
    found = [str(db) for db in dbs if db.exists()]
    if found:
        return True, ", ".join(found)
    return False, "no Goose sessions.db at " + ", ".join(map(str, dbs))


def _doctor(ctx: SourceContext) -> list[str]:
    from burntray.model.price_table import PRICES_AS_OF  # noqa: PLC0415

    lines = [f"database     {db}{'' if db.exists() else ' (not there)'}" for db in goose_dbs(ctx)]
    lines.append(f"prices       bundled table {PRICES_AS_OF} ([pricing] overrides it)")
    return lines


SPEC = SourceSpec(
    name="goose",
    label=LABEL,
    build=_build,
    probe=_probe,
    config_fields=(
        source_field(
            "goose.db",
            text,
            "Goose sessions.db files, comma-separated ('' = GOOSE_PATH_ROOT, else "
            "$XDG_DATA_HOME/goose/sessions/sessions.db and where macOS builds keep it)",
            "",
        ),
    ),
    covers=frozenset({"goose"}),
    detail=DETAIL,
    auto_rank=None,
    doctor=_doctor,
    summary="Goose's session database (sessions.db): what each session adds, live",
)
