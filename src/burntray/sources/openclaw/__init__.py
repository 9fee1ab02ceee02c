"""The ``openclaw`` source: OpenClaw's session logs (and the copies its resets leave), tailed as
they are appended (the shared log machinery is ``burntray.sources.agent_logs``; the format is in
``.logs``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from burntray.sources.agent_logs.agent_spec import Places, agent_spec, prices_line, probe_places

if TYPE_CHECKING:
    from burntray.sources.base import Source, SourceContext

PLACES = Places("openclaw.dirs", "burntray.sources.openclaw.paths:openclaw_dirs")


def _build(ctx: SourceContext) -> Source:
    from burntray.sources.agent_logs.named import NamedLogSource  # noqa: PLC0415
    from burntray.sources.openclaw.logs import OpenClawLogReader  # noqa: PLC0415

    # the folders that are there (of OpenClaw's former names' too), else the first to wait for
    dirs = [d for d in PLACES(ctx) if d.is_dir()] or PLACES(ctx)[:1]
    reader = OpenClawLogReader(dirs, ctx.prices)
    # a write to any file of the sessions folders wakes it: the copies a reset leaves
    # (".jsonl.reset.<time>") have no fixed suffix, and the folders hold nothing else
    return NamedLogSource(
        "openclaw", "OpenClaw", reader, dirs, ctx.records_history(), ctx.clock_ns,
        watch_suffixes=("",),
    )  # fmt: skip


def _doctor(ctx: SourceContext) -> list[str]:
    return [*(f"state        {d}" for d in PLACES(ctx) if d.is_dir()), prices_line("OpenClaw")]


SPEC = agent_spec(
    name="openclaw",
    label="OpenClaw",
    places=PLACES,
    option_help="OpenClaw state folders, comma-separated ('' = OPENCLAW_DIR, else ~/.openclaw and "
    "its former names' folders)",
    covers="openclaw",
    summary="OpenClaw's session logs (~/.openclaw/agents/*/sessions): every message's tokens, live",
    build=_build,
    probe=probe_places(PLACES, "no OpenClaw state folder at "),
    doctor=_doctor,
)
