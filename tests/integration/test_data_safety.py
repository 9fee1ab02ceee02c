"""burntray as a user runs it, for what it keeps and how it fails: private files, a bad price
file, a broken source with history. Real processes, real files, the isolated environment."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from burntray.paths import app_paths
from burntray.sources.hexai_writer import hexai_update


def burntray(*args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: PLW1510 - the exit code is asserted
        [sys.executable, "-m", "burntray", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ),
        stdin=subprocess.DEVNULL,
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_status_and_report_keep_burntrays_files_private(hexai_dir: Path) -> None:
    hexai_update(hexai_dir, "openai", "gpt-4.1", 4000, 400)
    old = os.umask(0o022)  # the child inherits the usual desktop umask
    try:
        status = burntray("status", "--source", "hexai", "--window", "7d")
        report = burntray("report", "--source", "hexai", "--format", "csv")
    finally:
        os.umask(old)
    assert status.returncode == 0, status.stderr
    assert report.returncode == 0, report.stderr
    paths = app_paths()
    assert mode(paths.data_dir) == 0o700
    for name in ("history.sqlite3", "history.sqlite3-wal", "history.sqlite3-shm"):
        path = paths.data_dir / name
        if name == "history.sqlite3" or path.exists():  # SQLite may remove the WAL on close
            assert mode(path) == 0o600, name
    assert mode(paths.cache_dir) == 0o700
    assert mode(paths.reports_dir) == 0o700
    written = Path(report.stdout.strip())
    assert written.parent == paths.reports_dir and mode(written) == 0o600
