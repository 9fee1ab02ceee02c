"""Idle cost: a source that wakes the monitor on every change (hexai's cache folder under
inotify) is looked at every WATCHED_POLL_S, not every poll interval; anything polled keeps the
poll interval; and a new event still reaches the published Snapshot at once."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from burntray.app import AppContext
from burntray.config import Settings
from burntray.model.pricing import build_price_table
from burntray.runtime.monitor import WATCHED_POLL_S, Monitor
from burntray.sources.base import wakes_on_change
from burntray.sources.hexai.source import HexaiSource
from burntray.sources.hexai.writer import hexai_update
from tests.store_writers import roder_open

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux")


def _hexai_monitor(folder: Path, poll_interval_s: float) -> Monitor:
    settings = Settings(poll_interval_s=poll_interval_s, source="hexai")
    return Monitor(settings, lambda _s: HexaiSource(folder, build_price_table()))


def test_a_watched_hexai_folder_is_looked_at_every_watched_poll(hexai_dir: Path) -> None:
    hexai_update(hexai_dir, "openai", "gpt-4.1", 400, 40)
    monitor = _hexai_monitor(hexai_dir, 1.0)
    try:
        assert monitor.tick() == WATCHED_POLL_S > 1.0
        source = monitor._source
        assert source is not None and wakes_on_change(source)
        assert monitor.slot.get()[1] is not None
        assert monitor.slot.get()[1].totals.reqs == 1  # type: ignore[union-attr]
    finally:
        monitor.stop()
    assert not wakes_on_change(source)  # closed: the watch is gone


def test_a_longer_poll_interval_is_kept(hexai_dir: Path) -> None:
    monitor = _hexai_monitor(hexai_dir, 30.0)
    try:
        assert monitor.tick() == 30.0
    finally:
        monitor.stop()


def test_no_folder_to_watch_means_polling_until_there_is_one(tmp_path: Path) -> None:
    folder = tmp_path / "xdg-cache" / "hexai"
    monitor = _hexai_monitor(folder, 1.0)
    try:
        assert monitor.tick() == 1.0  # nothing can wake the monitor: it must look
        hexai_update(folder, "openai", "gpt-4.1", 400, 40)  # hexai's first write makes it
        assert monitor.tick() == WATCHED_POLL_S  # the poll started the watch
        assert monitor.slot.get()[1].totals.reqs == 1  # type: ignore[union-attr]
    finally:
        monitor.stop()


def test_a_source_without_a_watch_is_polled() -> None:
    class Polled:
        name = "polled"

    assert not wakes_on_change(Polled())  # type: ignore[arg-type]


def test_all_sleeps_longer_only_when_every_member_is_watched(
    hexai_dir: Path, isolated_env: Path
) -> None:
    hexai_update(hexai_dir, "openai", "gpt-4.1", 400, 40)
    ctx = AppContext.load()
    settings = ctx.settings.replace(source="all")
    monitor = Monitor(settings, ctx.build_source, history=ctx.history())
    try:
        assert monitor.tick() == WATCHED_POLL_S
        assert list(monitor._source.members) == ["hexai"]  # type: ignore[union-attr]
    finally:
        monitor.stop()
    # roder's database is polled (stat calls), so ``all`` with it looks every poll interval
    roder_open(isolated_env / "home" / ".roder" / "analytics" / "usage.sqlite3").close()
    monitor = Monitor(settings, ctx.build_source, history=ctx.history())
    try:
        assert monitor.tick() == settings.poll_interval_s
        assert "roder" in monitor._source.members  # type: ignore[union-attr]
    finally:
        monitor.stop()
        ctx.close()


def test_a_new_event_is_published_at_once_while_the_monitor_sleeps_long(
    hexai_dir: Path,
) -> None:
    """After its first figures (the watch runs by then) the monitor sleeps a minute: the poll
    interval is 60 s, over WATCHED_POLL_S. Figures with the write in them within the 30 s hang
    guard can only come from the watcher's wake, whether the write lands before or during that
    sleep (a wake before it makes the sleep return at once)."""
    monitor = _hexai_monitor(hexai_dir, 60.0)
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
