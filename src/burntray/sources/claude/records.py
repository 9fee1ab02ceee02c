"""Where ``burntray statusline`` keeps its records, and a cheap look at that folder.

Apart from ``statusline`` (which parses and writes the records) so that a source polling the
folder - every warm ``status`` does - learns "nothing recorded" with one scandir, without loading
the payload parser or the plan-window model it never needs then.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from burntray.paths import AppPaths

FOLDER = "statusline"
SUFFIX = ".json"


def observations_dir(paths: AppPaths) -> Path:
    """Where ``burntray statusline`` keeps what each session last reported."""
    return paths.data_dir / FOLDER


def record_files(folder: Path) -> list[os.DirEntry[str]]:
    """The folder's record files (none when it is absent or unreadable)."""
    try:
        with os.scandir(folder) as entries:
            return [e for e in entries if e.name.endswith(SUFFIX) and not e.name.startswith(".")]
    except OSError:
        return []


def folder_signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes when a record is written or removed (names, sizes, mtimes): one scandir."""
    sig = []
    for entry in record_files(folder):
        with contextlib.suppress(OSError):
            info = entry.stat(follow_symlinks=False)
            sig.append((entry.name, info.st_size, info.st_mtime_ns))
    return tuple(sorted(sig))
