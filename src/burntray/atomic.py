"""Replacing a file atomically: a temp file in the same folder, fsync, rename over the target.

Readers see the old content or the new, never half of either, and a crash or a full disk leaves
the old file as it was. The temp file is created 0600 and removed on any failure; ``OSError``
propagates so each caller can say what it was writing.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def atomic_write(
    path: Path, data: bytes, *, temp_prefix: str | None = None, mode: int | None = None
) -> None:
    """Replace ``path`` with ``data``. ``temp_prefix`` names the temp file (default
    ``.<name>.``, hidden); ``mode`` sets the final permissions (default 0600)."""
    import tempfile  # noqa: PLC0415 - config.toml imports this module; writing is rare

    prefix = temp_prefix if temp_prefix is not None else f".{path.name}."
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
