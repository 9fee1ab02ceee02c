"""The ``droid`` source: Factory Droid's session settings (their running token totals), read
in place; the format and its rules are in ``.reader``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from burntray.config_keys import source_field, text
from burntray.sources.agent_logs.spec import DETAIL, dirs_option
from burntray.sources.spec import SourceSpec

if TYPE_CHECKING:
    from burntray.sources.base import Source, SourceContext

LABEL = "Factory Droid"
WATCHED = (".settings.json",)


def droid_dirs(ctx: SourceContext) -> list[Path]:
    """Droid sessions folders: ``droid.dirs`` when set, else the default rule."""
    from burntray.sources.droid.paths import droid_session_dirs  # noqa: PLC0415

    return dirs_option(ctx.option("droid.dirs")) or droid_session_dirs(ctx.env)


def _build(ctx: SourceContext) -> Source:
    from burntray.sources.agent_logs.stores import StoreSource  # noqa: PLC0415
    from burntray.sources.droid.reader import DroidReader  # noqa: PLC0415

    dirs = droid_dirs(ctx)
    reader = DroidReader(dirs, ctx.prices)
    return StoreSource(
        "droid", LABEL, reader, dirs, ctx.records_history(), ctx.clock_ns, watch_suffixes=WATCHED
    )


def _probe(ctx: SourceContext) -> tuple[bool, str]:
    try:
        dirs = droid_dirs(ctx)
    except RuntimeError as exc:  # no home to resolve the default from
        return False, str(exc)
    found = [str(d) for d in dirs if d.is_dir()]
    if found:
        return True, ", ".join(found)
    return False, "no Droid sessions folder at " + ", ".join(map(str, dirs))


def _doctor(ctx: SourceContext) -> list[str]:
    from burntray.model.price_table import PRICES_AS_OF  # noqa: PLC0415
    from burntray.sources.agent_logs.files import JsonlFinder  # noqa: PLC0415

    lines = []
    for folder in droid_dirs(ctx):
        finder = JsonlFinder(folder, suffixes=WATCHED)
        files = finder.find()
        lines.append(f"sessions     {finder.problem or f'{folder}: {len(files)} sessions'}")
    lines.append(f"prices       bundled table {PRICES_AS_OF} ([pricing] overrides it)")
    return lines


SPEC = SourceSpec(
    name="droid",
    label=LABEL,
    build=_build,
    probe=_probe,
    config_fields=(
        source_field(
            "droid.dirs",
            text,
            "Droid sessions folders, comma-separated ('' = DROID_SESSIONS_DIR or "
            "~/.factory/sessions)",
            "",
        ),
    ),
    covers=frozenset({"factory-droid"}),
    detail=DETAIL,
    auto_rank=None,
    doctor=_doctor,
    summary="Factory Droid's session settings (~/.factory/sessions): what each session adds, live",
)
