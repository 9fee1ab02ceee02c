"""burntray's own files are private: dirs 0700, files 0600, looser ones tightened on open."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from burntray.config import Settings
from burntray.config_write import save_settings
from burntray.logsetup import setup_logging
from burntray.paths import app_paths, ensure_dir, ensure_private_file
from burntray.sources.hexai import history as hexai_history
from burntray.sources.hexai.history import HexaiEvent
from burntray.store.alert_store import AlertStore
from burntray.store.history import HistoryError, HistoryStore

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The common desktop umask (022), under which files default to 0644 and dirs to 0755."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_history_database_wal_and_shm_are_0600_in_a_0700_dir() -> None:
    paths = app_paths()
    store = HistoryStore(paths.history_db)
    try:
        hexai_history.ingest(store, [HexaiEvent(1_000, "openai", "gpt-4.1", 10, 5)])
        AlertStore(store)  # the alert tables live in the same file
        wal = paths.history_db.with_name("history.sqlite3-wal")
        shm = paths.history_db.with_name("history.sqlite3-shm")
        assert wal.exists() and shm.exists()  # WAL mode, open: both are there
        assert mode(paths.data_dir) == 0o700
        assert mode(paths.history_db) == 0o600
        assert mode(wal) == 0o600
        assert mode(shm) == 0o600
    finally:
        store.close()


def test_history_files_left_world_readable_are_tightened_on_open() -> None:
    paths = app_paths()
    store = HistoryStore(paths.history_db)
    hexai_history.ingest(store, [HexaiEvent(1_000, "openai", "gpt-4.1", 10, 5)])
    store.close()
    os.chmod(paths.data_dir, 0o755)
    os.chmod(paths.history_db, 0o644)
    wal = paths.history_db.with_name("history.sqlite3-wal")
    wal.write_bytes(b"")  # as a crashed older version could leave it
    os.chmod(wal, 0o666)
    reopened = HistoryStore(paths.history_db)
    try:
        assert hexai_history.count_events(reopened) == 1  # same data, now private
        assert mode(paths.data_dir) == 0o700
        assert mode(paths.history_db) == 0o600
        assert mode(wal) == 0o600
    finally:
        reopened.close()


def test_history_path_that_is_a_fifo_is_refused_not_hung(tmp_path: Path) -> None:
    fifo = tmp_path / "data" / "history.sqlite3"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    with pytest.raises(HistoryError, match=r"FIFO \(named pipe\), not a regular file"):
        HistoryStore(fifo)


def test_ensure_helpers_create_private_and_tighten_loose(tmp_path: Path) -> None:
    made = ensure_dir(tmp_path / "a" / "b")
    assert mode(made) == 0o700
    os.chmod(made, 0o775)
    ensure_dir(made)
    assert mode(made) == 0o700
    file = made / "f"
    ensure_private_file(file)
    assert mode(file) == 0o600 and file.read_bytes() == b""
    file.write_bytes(b"kept")
    os.chmod(file, 0o644)
    ensure_private_file(file)
    assert mode(file) == 0o600 and file.read_bytes() == b"kept"


def test_log_file_and_rotated_copies_are_0600(clean_root_logger: None) -> None:
    paths = app_paths()
    paths.log_dir.mkdir(parents=True)
    os.chmod(paths.log_dir, 0o755)
    old_backup = paths.log_file.with_name("burntray.log.2")
    old_backup.write_text("from an older version\n")
    os.chmod(old_backup, 0o644)
    setup_logging(paths)
    logging.getLogger("burntray.test").info("hello")
    assert mode(paths.log_dir) == 0o700
    assert mode(paths.log_file) == 0o600
    assert mode(old_backup) == 0o600
    # past the size limit the file is rotated: the new file is created 0600 too
    line = "x" * 1000
    for n in range(1200):
        logging.getLogger("burntray.test").info("%d %s", n, line)
    first_backup = paths.log_file.with_name("burntray.log.1")
    assert first_backup.exists()
    assert mode(first_backup) == 0o600
    assert mode(paths.log_file) == 0o600


def test_log_left_world_readable_is_tightened(clean_root_logger: None) -> None:
    paths = app_paths()
    paths.log_dir.mkdir(parents=True)
    paths.log_file.write_text("old lines\n")
    os.chmod(paths.log_file, 0o644)
    setup_logging(paths)
    assert mode(paths.log_file) == 0o600
    assert paths.log_file.read_text().startswith("old lines\n")


def test_config_dir_is_0700_and_file_0600() -> None:
    paths = app_paths()
    save_settings(paths.config_file, Settings(window="15m"))
    assert mode(paths.config_dir) == 0o700
    assert mode(paths.config_file) == 0o600


def test_a_shared_sticky_folder_is_never_tightened(tmp_path: Path) -> None:
    """A config saved straight into a folder like /tmp (1777) must not make it 0700: that would
    lock every other user out of the machine's shared folder."""
    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    shared.chmod(0o1777)
    save_settings(shared / "config.toml", Settings(window="6h"))
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert stat.S_IMODE((shared / "config.toml").stat().st_mode) == 0o600
    ensure_dir(shared)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
