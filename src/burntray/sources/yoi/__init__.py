"""yoi's session logs in the source registry (the reading lives in ``yoi``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from burntray.config_keys import source_field, text
from burntray.sources.spec import SourceSpec, path_probe

if TYPE_CHECKING:
    from burntray.sources.base import Source, SourceContext


def data_dir(ctx: SourceContext) -> Path:
    """The configured data dir, else yoi's own rule (YOI_DATA_DIR, YOI_HOME, XDG_DATA_HOME)."""
    from burntray.paths import yoi_data_dir  # noqa: PLC0415

    configured = str(ctx.option("yoi.dir")).strip()
    return Path(configured).expanduser() if configured else yoi_data_dir(ctx.env)


def workspaces(ctx: SourceContext) -> list[Path]:
    """Workspaces whose memory log to show, separated like PATH (``:``; ``;`` on Windows)."""
    value = str(ctx.option("yoi.workspaces"))
    return [Path(p.strip()).expanduser() for p in value.split(os.pathsep) if p.strip()]


def _build(ctx: SourceContext) -> Source:
    from burntray.sources.yoi.source import YoiSource  # noqa: PLC0415 - the registry stays cheap

    return YoiSource(
        data_dir(ctx), ctx.prices, workspaces(ctx), ctx.records_history(), ctx.clock_ns
    )


def _sessions(ctx: SourceContext) -> Path:
    return data_dir(ctx) / "sessions"


def _doctor(ctx: SourceContext) -> list[str]:
    try:
        folder = data_dir(ctx)
    except RuntimeError as exc:
        return [f"status       error: {exc}"]
    from burntray.sources.yoi.logs import segment_files  # noqa: PLC0415

    logs = sum(1 for _ in segment_files(folder))
    lines = [f"data dir     {folder}", f"session logs {logs}"]
    for workspace in workspaces(ctx):
        lines.append(f"memory log   {workspace / '.yoi/memory/_usage/events.jsonl'}")
    return lines


SPEC = SourceSpec(
    name="yoi",
    label="yoi sessions",
    build=_build,
    probe=path_probe(_sessions, "sessions folder"),
    config_fields=(
        source_field("yoi.dir", text, "yoi data dir ('' = yoi's own rule)", ""),
        source_field(
            "yoi.workspaces",
            text,
            "workspaces whose yoi memory log to show (':'-separated; not spend)",
            "",
        ),
    ),
    covers=frozenset({"yoi"}),
    doctor=_doctor,
    summary="yoi's session logs (llm_usage lines): real tokens per request",
)
