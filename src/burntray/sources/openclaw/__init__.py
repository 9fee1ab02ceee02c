"""The ``openclaw`` source: OpenClaw's session logs (and the copies its resets leave), tailed as
they are appended (the shared log machinery is ``burntray.sources.agent_logs``; the format is in
``.logs``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from burntray.config_keys import source_field, text
from burntray.sources.agent_logs.spec import DETAIL, dirs_option
from burntray.sources.spec import SourceSpec

if TYPE_CHECKING:
    from burntray.sources.base import Source, SourceContext


def openclaw_folders(ctx: SourceContext) -> list[Path]:
    """OpenClaw state folders: ``openclaw.dirs`` when set, else the default rule."""
    from burntray.sources.openclaw.paths import openclaw_dirs  # noqa: PLC0415

    return dirs_option(ctx.option("openclaw.dirs")) or openclaw_dirs(ctx.env)


def _build(ctx: SourceContext) -> Source:
    from burntray.sources.openclaw.logs import OpenClawLogReader  # noqa: PLC0415
    from burntray.sources.openclaw.source import OpenClawSource  # noqa: PLC0415

    dirs = [d for d in openclaw_folders(ctx) if d.is_dir()] or openclaw_folders(ctx)[:1]
    reader = OpenClawLogReader(dirs, ctx.prices)
    return OpenClawSource(reader, dirs, ctx.records_history(), ctx.clock_ns)


def _probe(ctx: SourceContext) -> tuple[bool, str]:
    try:
        dirs = openclaw_folders(ctx)
    except RuntimeError as exc:
        return False, str(exc)
    found = [str(d) for d in dirs if d.is_dir()]
    if found:
        return True, ", ".join(found)
    return False, "no OpenClaw state folder at " + ", ".join(map(str, dirs))


def _doctor(ctx: SourceContext) -> list[str]:
    from burntray.model.price_table import PRICES_AS_OF  # noqa: PLC0415

    lines = [f"state        {d}" for d in openclaw_folders(ctx) if d.is_dir()]
    lines.append(f"prices       OpenClaw's own cost, else bundled table {PRICES_AS_OF}")
    return lines


SPEC = SourceSpec(
    name="openclaw",
    label="OpenClaw",
    build=_build,
    probe=_probe,
    config_fields=(
        source_field(
            "openclaw.dirs",
            text,
            "OpenClaw state folders, comma-separated ('' = OPENCLAW_DIR, else ~/.openclaw and "
            "its former names' folders)",
            "",
        ),
    ),
    covers=frozenset({"openclaw"}),
    detail=DETAIL,
    auto_rank=None,
    doctor=_doctor,
    summary="OpenClaw's session logs (~/.openclaw/agents/*/sessions): every message's tokens, live",
)
