"""The ``gemini`` source: Gemini CLI's own chat records, read in place; the format and its
rules are in ``.reader``. It covers the same requests Gemini CLI pushes over OTLP (``otel``):
``all`` counts them once, from here."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from burntray.config_keys import source_field, text
from burntray.sources.agent_logs.spec import DETAIL, dirs_option
from burntray.sources.spec import SourceSpec

if TYPE_CHECKING:
    from burntray.sources.base import Source, SourceContext

LABEL = "Gemini CLI"
WATCHED = (".json", ".jsonl")


def gemini_dirs(ctx: SourceContext) -> list[Path]:
    """Gemini CLI data folders: ``gemini.dirs`` when set, else Gemini CLI's own rule."""
    from burntray.sources.gemini.paths import gemini_data_dirs  # noqa: PLC0415

    return dirs_option(ctx.option("gemini.dirs")) or gemini_data_dirs(ctx.env)


def _build(ctx: SourceContext) -> Source:
    from burntray.sources.agent_logs.stores import StoreSource  # noqa: PLC0415
    from burntray.sources.gemini.reader import GeminiReader  # noqa: PLC0415

    dirs = gemini_dirs(ctx)
    reader = GeminiReader(dirs, ctx.prices)
    return StoreSource(
        "gemini", LABEL, reader, dirs, ctx.records_history(), ctx.clock_ns, watch_suffixes=WATCHED
    )


def _probe(ctx: SourceContext) -> tuple[bool, str]:
    try:
        dirs = gemini_dirs(ctx)
    except RuntimeError as exc:  # no home to resolve the default from
        return False, str(exc)
    found = [str(d) for d in dirs if d.is_dir()]
    if found:
        return True, ", ".join(found)
    return False, "no Gemini CLI chats folder at " + ", ".join(map(str, dirs))


def _doctor(ctx: SourceContext) -> list[str]:
    from burntray.model.price_table import PRICES_AS_OF  # noqa: PLC0415
    from burntray.sources.agent_logs.files import JsonlFinder  # noqa: PLC0415

    lines = []
    for folder in gemini_dirs(ctx):
        finder = JsonlFinder(folder, suffixes=WATCHED)
        files = finder.find()
        lines.append(f"chats        {finder.problem or f'{folder}: {len(files)} files'}")
        lines += [f"UNREADABLE   {p}: {why}" for p, why in sorted(finder.unreadable.items())]
    lines.append(f"prices       bundled table {PRICES_AS_OF} ([pricing] overrides it)")
    return lines


SPEC = SourceSpec(
    name="gemini",
    label=LABEL,
    build=_build,
    probe=_probe,
    config_fields=(
        source_field(
            "gemini.dirs",
            text,
            "Gemini CLI data folders, comma-separated ('' = GEMINI_DATA_DIR, else "
            "$GEMINI_CLI_HOME/.gemini/tmp or ~/.gemini/tmp)",
            "",
        ),
    ),
    # the OTLP receiver (detail 5) hears the same requests when Gemini CLI's telemetry is on
    covers=frozenset({"gemini-cli"}),
    detail=DETAIL,
    auto_rank=None,
    doctor=_doctor,
    summary="Gemini CLI's chat records (~/.gemini/tmp/**/chats): every reply's tokens, live",
)
