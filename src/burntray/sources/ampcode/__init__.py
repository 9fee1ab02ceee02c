"""The ``ampcode`` source: Amp's own thread files (``threads/*.json``), read in place; the
format and its rules are in ``.reader``. (Named after ampcode.com: burntray's own code may not
carry a source's name, and "amp" is inside too many words.)"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from burntray.config_keys import source_field, text
from burntray.sources.agent_logs.spec import DETAIL, dirs_option
from burntray.sources.spec import SourceSpec

if TYPE_CHECKING:
    from burntray.sources.base import Source, SourceContext

LABEL = "Amp"
WATCHED = (".json",)


def amp_dirs(ctx: SourceContext) -> list[Path]:
    """Amp data folders: ``ampcode.dirs`` when set, else Amp's own rule."""
    from burntray.sources.ampcode.paths import amp_data_dirs  # noqa: PLC0415

    return dirs_option(ctx.option("ampcode.dirs")) or amp_data_dirs(ctx.env)


def _build(ctx: SourceContext) -> Source:
    from burntray.sources.agent_logs.stores import StoreSource  # noqa: PLC0415
    from burntray.sources.ampcode.reader import AmpReader  # noqa: PLC0415

    dirs = amp_dirs(ctx)
    reader = AmpReader(dirs, ctx.prices)
    return StoreSource(
        "ampcode", LABEL, reader, dirs, ctx.records_history(), ctx.clock_ns, watch_suffixes=WATCHED
    )


def _probe(ctx: SourceContext) -> tuple[bool, str]:
    try:
        dirs = amp_dirs(ctx)
    except RuntimeError as exc:  # no home to resolve the default from
        return False, str(exc)
    found = [str(d / "threads") for d in dirs if (d / "threads").is_dir()]
    if found:
        return True, ", ".join(found)
    return False, "no Amp threads folder in " + ", ".join(map(str, dirs))


def _doctor(ctx: SourceContext) -> list[str]:
    from burntray.model.price_table import PRICES_AS_OF  # noqa: PLC0415
    from burntray.sources.agent_logs.files import JsonlFinder  # noqa: PLC0415

    lines = []
    for folder in amp_dirs(ctx):
        finder = JsonlFinder(folder / "threads", suffixes=WATCHED)
        files = finder.find()
        where = folder / "threads"
        lines.append(f"threads      {finder.problem or f'{where}: {len(files)} files'}")
    lines.append(f"prices       bundled table {PRICES_AS_OF} ([pricing] overrides it)")
    return lines


SPEC = SourceSpec(
    name="ampcode",
    label=LABEL,
    build=_build,
    probe=_probe,
    config_fields=(
        source_field(
            "ampcode.dirs",
            text,
            "Amp data folders, comma-separated ('' = AMP_DATA_DIR, else $XDG_DATA_HOME/amp or "
            "~/.local/share/amp)",
            "",
        ),
    ),
    covers=frozenset({"amp"}),
    detail=DETAIL,
    auto_rank=None,
    doctor=_doctor,
    summary="Amp's thread files (threads/*.json): every reply's tokens, live",
)
