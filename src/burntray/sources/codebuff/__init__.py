"""The ``codebuff`` source: Codebuff's own chat files (``chat-messages.json``), read in place;
the format and its rules are in ``.reader``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from burntray.config_keys import source_field, text
from burntray.sources.agent_logs.spec import DETAIL, dirs_option
from burntray.sources.spec import SourceSpec

if TYPE_CHECKING:
    from burntray.sources.base import Source, SourceContext

LABEL = "Codebuff"
WATCHED = ("chat-messages.json",)


def codebuff_dirs(ctx: SourceContext) -> list[Path]:
    """Codebuff ``projects`` folders: from ``codebuff.dirs`` when set, else the default rule."""
    from burntray.sources.codebuff.paths import codebuff_project_dirs  # noqa: PLC0415

    configured = dirs_option(ctx.option("codebuff.dirs"))
    if configured:
        return [d if d.name == "projects" else d / "projects" for d in configured]
    return codebuff_project_dirs(ctx.env)


def _build(ctx: SourceContext) -> Source:
    from burntray.sources.agent_logs.stores import StoreSource  # noqa: PLC0415
    from burntray.sources.codebuff.reader import CodebuffReader  # noqa: PLC0415

    dirs = codebuff_dirs(ctx)
    reader = CodebuffReader(dirs, ctx.prices)
    return StoreSource(
        "codebuff", LABEL, reader, dirs, ctx.records_history(), ctx.clock_ns, watch_suffixes=WATCHED
    )


def _probe(ctx: SourceContext) -> tuple[bool, str]:
    try:
        dirs = codebuff_dirs(ctx)
    except RuntimeError as exc:  # no home to resolve the default from
        return False, str(exc)
    found = [str(d) for d in dirs if d.is_dir()]
    if found:
        return True, ", ".join(found)
    return False, "no Codebuff projects folder at " + ", ".join(map(str, dirs))


def _doctor(ctx: SourceContext) -> list[str]:
    from burntray.model.price_table import PRICES_AS_OF  # noqa: PLC0415
    from burntray.sources.agent_logs.files import JsonlFinder  # noqa: PLC0415

    lines = []
    for folder in codebuff_dirs(ctx):
        finder = JsonlFinder(folder, suffixes=WATCHED)
        files = finder.find()
        lines.append(f"chats        {finder.problem or f'{folder}: {len(files)} chats'}")
    lines.append(f"prices       bundled table {PRICES_AS_OF} ([pricing] overrides it)")
    return lines


SPEC = SourceSpec(
    name="codebuff",
    label=LABEL,
    build=_build,
    probe=_probe,
    config_fields=(
        source_field(
            "codebuff.dirs",
            text,
            "Codebuff data folders, comma-separated ('' = CODEBUFF_DATA_DIR or "
            "~/.config/manicode and its dev and staging channels)",
            "",
        ),
    ),
    covers=frozenset({"codebuff"}),
    detail=DETAIL,
    auto_rank=None,
    doctor=_doctor,
    summary="Codebuff's chat files (~/.config/manicode/projects): every reply's tokens, live",
)
