"""The ``pi-agent`` source: the session logs of pi (pi-mono's coding agent), tailed as they are
appended (the shared log machinery is ``burntray.sources.agent_logs``; the format is in
``.logs``). Named ``pi-agent`` as ccusage names it; burntray's own code may not carry a
source's name, and "pi" is inside too many words."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from burntray.config_keys import source_field, text
from burntray.sources.agent_logs.spec import DETAIL, dirs_option, doctor_lines
from burntray.sources.spec import SourceSpec

if TYPE_CHECKING:
    from burntray.sources.base import Source, SourceContext


def pi_dirs(ctx: SourceContext) -> list[Path]:
    """pi sessions folders: ``pi-agent.dirs`` when set, else the default rule."""
    from burntray.sources.pi_agent.paths import pi_session_dirs  # noqa: PLC0415

    return dirs_option(ctx.option("pi-agent.dirs")) or pi_session_dirs(ctx.env)


def _build(ctx: SourceContext) -> Source:
    from burntray.sources.pi_agent.logs import PiLogReader  # noqa: PLC0415
    from burntray.sources.pi_agent.source import PiSource  # noqa: PLC0415

    dirs = pi_dirs(ctx)
    return PiSource(PiLogReader(dirs, ctx.prices), dirs, ctx.records_history(), ctx.clock_ns)


def _probe(ctx: SourceContext) -> tuple[bool, str]:
    try:
        dirs = pi_dirs(ctx)
    except RuntimeError as exc:
        return False, str(exc)
    found = [str(d) for d in dirs if d.is_dir()]
    if found:
        return True, ", ".join(found)
    return False, "no pi sessions folder at " + ", ".join(map(str, dirs))


def _doctor(ctx: SourceContext) -> list[str]:
    dirs = pi_dirs(ctx)
    return doctor_lines(ctx, "pi-agent", [d.parent for d in dirs], tuple({d.name for d in dirs}))


SPEC = SourceSpec(
    name="pi-agent",
    label="pi",
    build=_build,
    probe=_probe,
    config_fields=(
        source_field(
            "pi-agent.dirs",
            text,
            "pi sessions folders, comma-separated ('' = PI_AGENT_DIR or ~/.pi/agent/sessions)",
            "",
        ),
    ),
    covers=frozenset({"pi"}),
    detail=DETAIL,
    auto_rank=None,
    doctor=_doctor,
    summary="pi's session logs (~/.pi/agent/sessions): every message's tokens and cost, live",
)
