"""The ``claude`` source: Claude Code's own logs, read directly (the reading is shared with the
other agent logs in ``burntray.sources.agent_logs``; the format is in ``.logs``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from burntray.config_keys import source_field, text
from burntray.sources.agent_logs.spec import DETAIL, doctor_lines, probe_in
from burntray.sources.claude.paths import claude_dirs
from burntray.sources.spec import SourceSpec, StatusLineCommand

if TYPE_CHECKING:
    from burntray.sources.base import Source, SourceContext


def _build_claude(ctx: SourceContext) -> Source:
    from burntray.sources.claude.limits_source import ClaudeLimitsSource  # noqa: PLC0415
    from burntray.sources.claude.logs import ClaudeLogReader  # noqa: PLC0415
    from burntray.sources.claude.records import observations_dir  # noqa: PLC0415

    dirs = claude_dirs(ctx)
    return ClaudeLimitsSource(
        ClaudeLogReader(dirs, ctx.prices),
        dirs,
        ctx.records_history(),
        ctx.clock_ns,
        limits_dir=observations_dir(ctx.paths),
    )


def _probe_claude(ctx: SourceContext) -> tuple[bool, str]:
    try:
        return probe_in(claude_dirs(ctx), ("projects",), "Claude Code projects folder")
    except RuntimeError as exc:  # no home to resolve the default from
        return False, str(exc)


def _doctor_claude(ctx: SourceContext) -> list[str]:
    from burntray.sources.claude.statusline_doctor import statusline_lines  # noqa: PLC0415

    dirs = claude_dirs(ctx)
    return doctor_lines(ctx, "claude", dirs, ("projects",)) + statusline_lines(ctx, dirs)


def _status_line() -> StatusLineCommand:
    from burntray.sources.claude import statusline_command  # noqa: PLC0415 - that command only

    return statusline_command


SPEC = SourceSpec(
    name="claude",
    label="Claude Code logs",
    build=_build_claude,
    probe=_probe_claude,
    config_fields=(
        source_field(
            "claude.dirs",
            text,
            "Claude config folders, comma-separated ('' = CLAUDE_CONFIG_DIR or "
            "~/.config/claude and ~/.claude)",
            "",
        ),
    ),
    covers=frozenset({"claude-code"}),
    detail=DETAIL,
    # not chosen by `auto` (a single best source, kept as it was): the logs are counted by
    # `all`, the default, and by `source = "claude"`
    auto_rank=None,
    doctor=_doctor_claude,
    history_tables=(),
    summary="Claude Code's own logs (projects/**/*.jsonl): every request's tokens and cost, live",
    status_line=_status_line,
)
