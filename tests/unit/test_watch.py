"""The folder watcher: wakes on hexai's atomic replace, ignores other files, stops cleanly,
survives its folder being deleted; and it makes the monitor fresh beyond its poll interval."""

from __future__ import annotations

import shutil
import sys
import threading
import time
from pathlib import Path

import pytest

from burntray.config import Settings
from burntray.io.atomic import atomic_write
from burntray.io.watch import FolderWatcher
from burntray.model.pricing import build_price_table
from burntray.runtime.monitor import Monitor
from burntray.sources.hexai.source import HexaiSource
from burntray.sources.hexai.writer import hexai_update

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux")


def test_wakes_on_atomic_replace_only_for_its_names(tmp_path: Path) -> None:
    woken = threading.Event()
    watcher = FolderWatcher(tmp_path, frozenset({"stats.json"}), woken.set)
    assert watcher.start()
    own = [t for t in threading.enumerate() if t.name == "burntray-watch"]
    try:
        (tmp_path / "cli-responses.json").write_text("{}")
        atomic_write(tmp_path / "other.json", b"{}")
        assert not woken.wait(0.3)
        atomic_write(tmp_path / "stats.json", b"{}", temp_prefix="stats.json.tmp.")
        assert woken.wait(2)
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
    assert woken.wait(2)  # the folder going away is a change too
    deadline = time.monotonic() + 2
    while watcher.active and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not watcher.active
    folder.mkdir()
    woken.clear()
    assert watcher.start() is True  # a new watch on the new folder
    atomic_write(folder / "stats.json", b"{}")
    assert woken.wait(2)
    watcher.stop()


def test_monitor_sees_a_write_long_before_its_poll_interval(hexai_dir: Path) -> None:
    settings = Settings(poll_interval_s=30.0, source="hexai")
    monitor = Monitor(settings, lambda s: HexaiSource(hexai_dir, build_price_table()))
    monitor.start()
    try:
        seen, first = monitor.slot.wait_newer(0, timeout=5)
        assert first is not None and first.totals.reqs == 0
        started = time.monotonic()
        hexai_update(hexai_dir, "openai", "gpt-4.1", 400, 40)
        snapshot = first
        while snapshot is not None and snapshot.totals.reqs == 0:
            assert time.monotonic() - started < 5, "the write was not seen"
            seen, snapshot = monitor.slot.wait_newer(seen, timeout=5)
        assert time.monotonic() - started < 5  # far below the 30 s poll interval
    finally:
        monitor.stop()
    assert not monitor.alive
