"""The ``kilo`` source: Kilo CLI's message store (``kilo.db``), read in place with the OpenCode
reader (Kilo is a fork of OpenCode); its rules are in ``.reader``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from burntray.config_keys import source_field, text
from burntray.sources.agent_logs.spec import DETAIL, dirs_option
from burntray.sources.spec import SourceSpec

if TYPE_CHECKING:
    from burntray.sources.base import Source, SourceContext

LABEL = "Kilo"
WATCHED = (".db", ".db-wal", ".db-journal")


def kilo_dirs(ctx: SourceContext) -> list[Path]:
    """Kilo data folders: ``kilo.dirs`` when set, else Kilo's own rule."""
    from burntray.sources.kilo.paths import kilo_data_dirs  # noqa: PLC0415

    return dirs_option(ctx.option("kilo.dirs")) or kilo_data_dirs(ctx.env)


def _build(ctx: SourceContext) -> Source:
    from burntray.sources.agent_logs.stores import StoreSource  # noqa: PLC0415
    from burntray.sources.kilo.reader import KiloReader  # noqa: PLC0415

    dirs = kilo_dirs(ctx)
    reader = KiloReader(dirs, ctx.prices)
    return StoreSource(
        "kilo", LABEL, reader, dirs, ctx.records_history(), ctx.clock_ns, watch_suffixes=WATCHED
    )


def _probe(ctx: SourceContext) -> tuple[bool, str]:
    try:
        dirs = kilo_dirs(ctx)
    except RuntimeError as exc:  # no home to resolve the default from
        return False, str(exc)
    found = [str(d / "kilo.db") for d in dirs if (d / "kilo.db").exists()]
    if found:
        return True, ", ".join(found)
    return False, "no kilo.db in " + ", ".join(map(str, dirs))


def _doctor(ctx: SourceContext) -> list[str]:
    from burntray.model.price_table import PRICES_AS_OF  # noqa: PLC0415

    lines = [f"database     {d / 'kilo.db'}" for d in kilo_dirs(ctx)]
    lines.append(f"prices       Kilo's own cost, else bundled table {PRICES_AS_OF}")
    return lines


SPEC = SourceSpec(
    name="kilo",
    label=LABEL,
    build=_build,
    probe=_probe,
    config_fields=(
        source_field(
            "kilo.dirs",
            text,
            "Kilo data folders, comma-separated ('' = KILO_DATA_DIR, else "
            "$XDG_DATA_HOME/kilo or ~/.local/share/kilo)",
            "",
        ),
    ),
    covers=frozenset({"kilo"}),
    detail=DETAIL,
    auto_rank=None,
    doctor=_doctor,
    summary="Kilo CLI's message store (kilo.db): every message's tokens and cost, live",
)
