"""What the ``claude`` and ``codex`` registry entries share: folder lists, probes and doctor lines.

Both report upstreams cburn also summarises (Claude Code): reading each request from the logs is
the more detailed view, so ``all`` counts these and shows cburn's figures as covered by them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from burntray.sources.base import SourceContext

# cburn (detail 1) reads the same Claude Code logs but only summarises them.
DETAIL = 10


def dirs_option(configured: object) -> list[Path]:
    return [Path(p.strip()).expanduser() for p in str(configured).split(",") if p.strip()]


def probe_in(folders: list[Path], subdirs: tuple[str, ...], what: str) -> tuple[bool, str]:
    found = [f / s for f in folders for s in subdirs if (f / s).is_dir()]
    if found:
        return True, ", ".join(str(f) for f in found)
    return False, f"no {what} in " + ", ".join(str(f) for f in folders)


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


def doctor_lines(
    ctx: SourceContext, name: str, folders: list[Path], subdirs: tuple[str, ...]
) -> list[str]:
    """Where the logs are and how many, without reading them (doctor stays quick on a GB)."""
    from burntray.model.price_table import PRICES_AS_OF  # noqa: PLC0415
    from burntray.sources.agent_logs.files import JsonlFinder  # noqa: PLC0415

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
    lines.append(f"prices       bundled table {PRICES_AS_OF} ([pricing] overrides it)")
    if not sys.platform.startswith("linux"):
        lines.append("live         polling (inotify is Linux only)")
    return lines


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
