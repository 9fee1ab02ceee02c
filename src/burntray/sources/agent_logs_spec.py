"""The ``claude`` and ``codex`` sources in the source registry (reading lives in ``agent_logs``).

Both report upstreams cburn also summarises (Claude Code): reading each request from the logs is
the more detailed view, so ``all`` counts these and shows cburn's figures as covered by them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from burntray.config import source_field, text
from burntray.sources.registry import SourceSpec

if TYPE_CHECKING:
    from burntray.sources.base import Source, SourceContext

# cburn (detail 1) reads the same Claude Code logs but only summarises them.
DETAIL = 10


def _dirs(configured: object) -> list[Path]:
    return [Path(p.strip()).expanduser() for p in str(configured).split(",") if p.strip()]


def claude_dirs(ctx: SourceContext) -> list[Path]:
    """Claude config folders: ``claude.dirs`` when set, else Claude Code's own rule."""
    from burntray.paths import claude_config_dirs  # noqa: PLC0415

    return _dirs(ctx.option("claude.dirs")) or claude_config_dirs(ctx.env)


def codex_dirs(ctx: SourceContext) -> list[Path]:
    """Codex homes: ``codex.dirs`` when set, else Codex's own rule."""
    from burntray.paths import codex_homes  # noqa: PLC0415

    return _dirs(ctx.option("codex.dirs")) or codex_homes(ctx.env)


def _build_claude(ctx: SourceContext) -> Source:
    from burntray.sources.agent_logs import claude_source  # noqa: PLC0415

    return claude_source(claude_dirs(ctx), ctx.prices, ctx.records_history(), ctx.clock_ns)


def _build_codex(ctx: SourceContext) -> Source:
    from burntray.sources.agent_logs import codex_source  # noqa: PLC0415

    return codex_source(codex_dirs(ctx), ctx.prices, ctx.records_history(), ctx.clock_ns)


def _probe_in(folders: list[Path], subdirs: tuple[str, ...], what: str) -> tuple[bool, str]:
    found = [f / s for f in folders for s in subdirs if (f / s).is_dir()]
    if found:
        return True, ", ".join(str(f) for f in found)
    return False, f"no {what} in " + ", ".join(str(f) for f in folders)


def _probe_claude(ctx: SourceContext) -> tuple[bool, str]:
    try:
        return _probe_in(claude_dirs(ctx), ("projects",), "Claude Code projects folder")
    except RuntimeError as exc:  # no home to resolve the default from
        return False, str(exc)


def _probe_codex(ctx: SourceContext) -> tuple[bool, str]:
    try:
        return _probe_in(codex_dirs(ctx), ("sessions", "archived_sessions"), "Codex sessions")
    except RuntimeError as exc:
        return False, str(exc)


def _skipped_lines(ctx: SourceContext, name: str) -> list[str]:
    """The lines skipped in the logs as burntray last read them (kept with the offsets in its
    history, so they show here until those files change), without reading the logs."""
    if not ctx.paths.history_db.exists():
        return []
    from burntray.io.log_tail import LogTailer  # noqa: PLC0415
    from burntray.store.history import RESUME_STATE_PREFIX  # noqa: PLC0415

    history = ctx.records_history()
    state = history.get_meta(RESUME_STATE_PREFIX + name) if history is not None else None
    if state is None:
        return []
    tailer = LogTailer(())
    tailer.load_state(state)
    count, first = tailer.skipped()
    if not count:
        return []
    return [f"skipped      {count} line{'s' if count > 1 else ''} not counted (first: {first})"]


def _doctor_lines(
    ctx: SourceContext, name: str, folders: list[Path], subdirs: tuple[str, ...]
) -> list[str]:
    """Where the logs are and how many, without reading them (doctor stays quick on a GB)."""
    from burntray.model.pricing import SNAPSHOT_AS_OF  # noqa: PLC0415
    from burntray.sources.agent_files import JsonlFinder  # noqa: PLC0415

    lines = []
    for folder in folders:
        for sub in subdirs:
            finder = JsonlFinder(folder / sub)
            files = finder.find()
            if finder.problem:
                lines.append(f"logs         {finder.problem}")
                continue
            # what cannot be read is not counted: named here, not in the file count
            unreadable = dict(finder.unreadable)
            unreadable.update((f, "Permission denied") for f in files if not os.access(f, os.R_OK))
            readable = [f for f in files if f not in unreadable]
            size = sum(_size(f) for f in readable)
            lines.append(f"logs         {folder / sub}: {len(readable)} files, {size / 1e6:.1f} MB")
            lines += [f"UNREADABLE   {path}: {why}" for path, why in sorted(unreadable.items())]
    lines += _skipped_lines(ctx, name)
    lines.append(f"prices       LiteLLM snapshot {SNAPSHOT_AS_OF} (a price_file overrides it)")
    if not sys.platform.startswith("linux"):
        lines.append("live         polling (inotify is Linux only)")
    return lines


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _doctor_claude(ctx: SourceContext) -> list[str]:
    return _doctor_lines(ctx, "claude", claude_dirs(ctx), ("projects",))


def _doctor_codex(ctx: SourceContext) -> list[str]:
    return _doctor_lines(ctx, "codex", codex_dirs(ctx), ("sessions", "archived_sessions"))


CLAUDE = SourceSpec(
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
)

CODEX = SourceSpec(
    name="codex",
    label="Codex logs",
    build=_build_codex,
    probe=_probe_codex,
    config_fields=(
        source_field(
            "codex.dirs", text, "Codex homes, comma-separated ('' = CODEX_HOME or ~/.codex)", ""
        ),
    ),
    covers=frozenset({"codex"}),
    detail=DETAIL,
    auto_rank=None,
    doctor=_doctor_codex,
    summary="Codex CLI's session logs (sessions/**/*.jsonl): every turn's tokens and cost, live",
)
