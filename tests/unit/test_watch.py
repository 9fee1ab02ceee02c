"""The folder watcher: wakes on hexai's atomic replace, ignores other files, stops cleanly,
survives its folder being deleted; and it makes the monitor fresh beyond its poll interval."""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from burntray.config import Settings
from burntray.io.atomic import atomic_write
from burntray.io.watch import IN_CLOEXEC, IN_NONBLOCK, WATCH_MASK, FolderWatcher, load_libc
from burntray.model.pricing import build_price_table
from burntray.runtime.monitor import Monitor
from burntray.sources.hexai.source import HexaiSource
from burntray.sources.hexai.writer import hexai_update

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux")


def _events_of(folder: Path, write: Callable[[], object]) -> bytes:
    """What inotify reports for ``folder`` while ``write`` runs: the watcher's own input."""
    libc = load_libc()
    fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
    assert fd >= 0 and libc.inotify_add_watch(fd, os.fsencode(folder), WATCH_MASK) >= 0
    try:
        write()
        return os.read(fd, 64 * 1024)  # the events are queued when the writes return
    finally:
        os.close(fd)


def test_other_files_in_the_folder_are_no_change(tmp_path: Path) -> None:
    """Decided on the events inotify really sends (no waiting for a wake that must not come):
    other files, hexai's temp file of an atomic replace, only the rename wakes."""
    watcher = FolderWatcher(tmp_path, frozenset({"stats.json"}), lambda: None)

    def others() -> None:
        (tmp_path / "cli-responses.json").write_text("{}")
        atomic_write(tmp_path / "other.json", b"{}")

    assert watcher.scan(_events_of(tmp_path, others)) == (False, False)
    replace = _events_of(
        tmp_path,
        lambda: atomic_write(tmp_path / "stats.json", b"{}", temp_prefix="stats.json.tmp."),
    )
    assert watcher.scan(replace) == (True, False)


def test_wakes_on_atomic_replace(tmp_path: Path) -> None:
    woken = threading.Event()
    watcher = FolderWatcher(tmp_path, frozenset({"stats.json"}), woken.set)
    assert watcher.start()
    own = [t for t in threading.enumerate() if t.name == "burntray-watch"]
    try:
        atomic_write(tmp_path / "stats.json", b"{}", temp_prefix="stats.json.tmp.")
        assert woken.wait(30)  # a hang guard: the rename wakes it
    finally:
        watcher.stop()
    assert not watcher.active
    # its own thread ended (other tests' threads may come and go meanwhile: not counted)
    assert own and not any(t.is_alive() for t in own)


def test_missing_folder_then_deleted_folder(tmp_path: Path) -> None:
    folder = tmp_path / "hexai"
    woken = threading.Event()
    watcher = FolderWatcher(folder, frozenset({"stats.json"}), woken.set)
    assert watcher.start() is False  # nothing to watch yet
    folder.mkdir()
    assert watcher.start() is True
    shutil.rmtree(folder)
    assert woken.wait(30)  # the folder going away is a change too (30 s: a hang guard)
    thread = watcher._thread
    assert thread is not None
    thread.join(30)  # its watch ended with the folder
    assert not watcher.active
    folder.mkdir()
    woken.clear()
    assert watcher.start() is True  # a new watch on the new folder
    atomic_write(folder / "stats.json", b"{}")
    assert woken.wait(30)
    watcher.stop()


def test_monitor_sees_a_write_before_its_poll_interval(hexai_dir: Path) -> None:
    """The first figures are published after the watch started; the next poll is 60 s away,
    so figures with the write in them before that can only come from the watcher's wake (the
    30 s bound is a hang guard, half the poll interval)."""
    settings = Settings(poll_interval_s=60.0, source="hexai")
    monitor = Monitor(settings, lambda s: HexaiSource(hexai_dir, build_price_table()))
    monitor.start()
    try:
        seen, first = monitor.slot.wait_newer(0, timeout=30)
        assert first is not None and first.totals.reqs == 0
        guard = time.monotonic() + 30
        hexai_update(hexai_dir, "openai", "gpt-4.1", 400, 40)
        snapshot = first
        while snapshot is not None and snapshot.totals.reqs == 0:
            assert time.monotonic() < guard, "the write was not seen before the poll"
            seen, snapshot = monitor.slot.wait_newer(seen, timeout=guard - time.monotonic())
    finally:
        monitor.stop()
    assert not monitor.alive
