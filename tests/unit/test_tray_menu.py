"""Real pystray menus (PYSTRAY_BACKEND=dummy) driven like a user: callbacks run, settings saved,
the monitor follows, clear-cache asks first."""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from burntray.app import AppContext
from burntray.config import load_settings
from burntray.model.snapshot import Snapshot
from burntray.runtime.monitor import Monitor
from burntray.sources.hexai import history as hexai_history
from burntray.sources.hexai.source import parse_stats
from burntray.sources.hexai.writer import hexai_update
from burntray.ui.controller import TrayController
from burntray.ui.tray import build_menu, pystray_module


def module_present(name: str) -> bool:
    """Whether a module from a parallel branch (reports, autostart) is in this build."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


@pytest.fixture
def pystray() -> Any:
    assert os.environ["PYSTRAY_BACKEND"] == "dummy"
    return pystray_module("dummy")


class Harness:
    """A controller on a real context and a running monitor; ``menu()`` is what a click sees."""

    def __init__(self, ctx: AppContext, pystray: Any) -> None:
        self.ctx = ctx
        self.pystray = pystray
        self.icon = pystray.Icon("burntray-test")
        self.opened: list[Path] = []
        self.quits = 0
        self.monitor = Monitor(ctx.settings, ctx.build_source, history=ctx.history())
        self.controller = TrayController(
            ctx, self.monitor, opener=self.opened.append, on_quit=self._quit
        )
        self.monitor.start()

    def _quit(self) -> None:
        self.quits += 1

    def snapshot(self, timeout: float = 5.0, where: Any = lambda s: True) -> Snapshot:
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            seen, snap = self.monitor.slot.wait_newer(seen, timeout=0.2)
            if snap is not None and where(snap):
                return snap
        raise AssertionError("no matching snapshot from the monitor")

    def menu(self) -> Any:
        return build_menu(
            self.controller.view(self.monitor.slot.get()[1]), self.controller, self.pystray
        )

    def find(self, *path: str) -> Any:
        items = self.menu()
        item = None
        for label in path:
            matches = [i for i in items.items if str(i.text).startswith(label)]
            assert matches, f"no menu item {label!r} in {[str(i.text) for i in items.items]}"
            item = matches[0]
            if item.submenu:
                items = item.submenu
        return item

    def click(self, *path: str) -> None:
        item = self.find(*path)
        assert item.enabled, f"{path} is disabled"
        item(self.icon)

    def texts(self) -> list[str]:
        return [str(i.text) for i in self.menu().items if str(i.text)]

    def close(self) -> None:
        self.monitor.stop()
        self.controller.join_jobs()
        self.ctx.close()


@pytest.fixture
def harness(pystray: Any) -> Iterator[Harness]:
    """The tray on the hexai source (what these tests exercise); `all` has its own tests."""
    from burntray.paths import app_paths

    config = app_paths().config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('source = "hexai"\n')
    h = Harness(AppContext.load(strict=False), pystray)
    yield h
    h.close()


def test_menu_has_the_header_and_every_section(harness: Harness, hexai_dir: Path) -> None:
    hexai_update(hexai_dir, "openai", "gpt-4.1", 4000, 1000)
    harness.controller.refresh()
    harness.snapshot(where=lambda s: s.totals.reqs == 1)
    texts = harness.texts()
    assert texts[:3] == ["hexai · last 1 h", "1 reqs · 0.02 RPM · <$0.01 est.", texts[2]]
    assert texts[2].startswith("openai/gpt-4.1 · 1 reqs")
    header = [i for i in harness.menu().items if str(i.text) in texts[:3]]
    assert not any(i.enabled for i in header)
    for label in ("Window", "Source", "Show in icon", "Open report", "Open data folder",
                  "Clear cache", "Notifications", "Start at login", "Refresh now", "About",
                  "Quit"):  # fmt: skip
        harness.find(label)
    assert harness.find("Open report").default  # the left-click action
    windows = [str(i.text) for i in harness.find("Window").submenu.items]
    assert windows == ["5 min", "15 min", "1 h", "6 h", "24 h", "7 d", "Today", "This week",
                       "This month"]  # fmt: skip
    figures = [str(i.text) for i in harness.find("Show in icon").submenu.items]
    assert figures == ["RPM", "cost", "requests", "nothing"]


def test_window_choice_is_saved_and_followed(harness: Harness) -> None:
    assert harness.find("Window", "1 h").checked
    harness.click("Window", "15 min")
    assert load_settings(harness.ctx.paths.config_file).window == "15m"
    snap = harness.snapshot(where=lambda s: s.window_ns == 15 * 60 * 10**9)
    assert snap.window_ns == 15 * 60 * 10**9
    assert harness.find("Window", "15 min").checked
    assert not harness.find("Window", "1 h").checked
    assert harness.controller.view(snap).title.startswith("burntray · hexai · 15m\n")


def test_the_window_menu_offers_today_and_this_week(harness: Harness) -> None:
    harness.click("Window", "This week")
    assert load_settings(harness.ctx.paths.config_file).window == "week"
    snap = harness.snapshot(where=lambda s: s.window_name == "week")
    view = harness.controller.view(snap)
    assert view.title.startswith("burntray · hexai · week\n")
    assert view.header[0] == "hexai · this week"
    assert harness.find("Window", "This week").checked
    harness.click("Window", "Today")
    assert load_settings(harness.ctx.paths.config_file).window == "today"
    harness.click("Window", "This month")
    assert load_settings(harness.ctx.paths.config_file).window == "month"
    snap = harness.snapshot(where=lambda s: s.window_name == "month")
    assert harness.controller.view(snap).header[0] == "hexai · this month"


def test_every_setting_survives_a_restart(harness: Harness, pystray: Any) -> None:
    harness.click("Show in icon", "cost")
    harness.click("Source", "hexai cache")
    harness.click("Notifications")
    harness.close()
    restarted = Harness(AppContext.load(strict=False), pystray)
    try:
        settings = restarted.controller.settings
        assert (settings.icon_figure, settings.source, settings.notifications) == (
            "cost", "hexai", False,
        )  # fmt: skip
        assert restarted.find("Show in icon", "cost").checked
        assert restarted.find("Source", "hexai cache").checked
        assert not restarted.find("Notifications").checked
    finally:
        restarted.close()


def test_sources_say_why_they_cannot_be_used(pystray: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def source_items() -> dict[str, Any]:
        h = Harness(AppContext.load(strict=False), pystray)
        try:
            return {str(i.text): i for i in h.find("Source").submenu.items}
        finally:
            h.close()

    labels = source_items()
    assert "Auto" in labels
    hexai = next(t for t in labels if t.startswith("hexai cache"))
    assert "no cache dir at" in hexai  # the isolated home has no hexai cache yet
    cburn = next(t for t in labels if t.startswith("cburn daemon"))
    # nothing listens on the isolated default address: the label says why it cannot be used
    assert cburn.startswith("cburn daemon (") and cburn.endswith(")"), cburn
    # An address that cannot be used at all: the entry names the setting and why.
    monkeypatch.setenv("BURNTRAY_CBURN_URL", "ftp://example.invalid/x")
    cburn = next(t for t in source_items() if t.startswith("cburn daemon"))
    assert cburn.startswith("cburn daemon (BURNTRAY_CBURN_URL = 'ftp://example.invalid/x' is not")


def test_clear_hexai_asks_first_and_can_be_declined(harness: Harness, hexai_dir: Path) -> None:
    for _ in range(3):
        hexai_update(hexai_dir, "openai", "gpt-4.1", 100, 10)
    stats = hexai_dir / "stats.json"
    harness.click("Clear cache", "hexai stats…")
    assert parse_stats(stats.read_bytes()).event_count == 3  # nothing happens before "yes"
    assert any(t.startswith("Empty hexai stats (3 events in ") for t in harness.texts())
    harness.click("    No, keep it")
    assert parse_stats(stats.read_bytes()).event_count == 3
    assert "nothing cleared" in harness.texts()
    assert not any(t.startswith("Empty hexai") for t in harness.texts())

    harness.click("Clear cache", "hexai stats…")
    harness.click("    Yes, empty it")
    assert harness.controller.join_jobs()
    assert parse_stats(stats.read_bytes()).event_count == 0
    assert harness.controller.ui.message == f"cleared 3 events from {stats}"
    assert any(t.startswith("cleared 3 events from ") for t in harness.texts())


def test_clear_history(harness: Harness, hexai_dir: Path) -> None:
    hexai_update(hexai_dir, "openai", "gpt-4.1", 100, 10)
    harness.controller.refresh()
    harness.snapshot(where=lambda s: s.totals.reqs == 1)
    history = harness.ctx.history()
    assert history is not None and hexai_history.count_events(history) == 1
    harness.click("Clear cache", "burntray history…")
    assert any(t.startswith("Empty burntray history (") for t in harness.texts())
    harness.click("    Yes, empty it")
    assert harness.controller.join_jobs()
    assert hexai_history.count_events(history) == 0
    message = f"cleared 1 usage records from {harness.ctx.paths.history_db}"
    assert harness.controller.ui.message == message
    # too long for one row: a submenu holds it whole, wrapped
    entry = harness.find("cleared 1 usage records")
    assert " ".join(str(i.text) for i in entry.submenu.items).replace(" ", "") == message.replace(
        " ", ""
    )


def test_clear_failure_is_shown(harness: Harness, hexai_dir: Path) -> None:
    """An unreadable stats.json cannot be counted, so it is not offered for clearing at all:
    the menu says why and the file keeps every byte."""
    stats = hexai_dir / "stats.json"
    stats.write_text("{not json")
    harness.click("Clear cache", "hexai stats…")
    texts = harness.texts()
    assert any(t.startswith("hexai stats not cleared: cannot read") for t in texts), texts
    assert not any(t.startswith("Empty hexai") for t in texts)
    assert not any("Yes, empty it" in t for t in texts)
    assert stats.read_text() == "{not json"


def test_a_confirmed_clear_that_fails_says_so(harness: Harness, hexai_dir: Path) -> None:
    hexai_update(hexai_dir, "openai", "gpt-4.1", 100, 10)
    harness.click("Clear cache", "hexai stats…")
    assert any(t.startswith("Empty hexai stats (1 events") for t in harness.texts())
    # Before the answer, stats.json becomes a folder with a file in it: nothing can replace it,
    # whoever runs the test (root ignores a read-only dir, which this test used to rely on).
    (hexai_dir / "stats.json").unlink()
    (hexai_dir / "stats.json").mkdir()
    (hexai_dir / "stats.json" / "keep").write_text("x")
    harness.click("    Yes, empty it")
    assert harness.controller.join_jobs()
    shown = [t for t in harness.texts() if "cleared" in t]
    assert len(shown) == 1 and shown[0].startswith("hexai stats not cleared:"), shown
    assert (hexai_dir / "stats.json" / "keep").read_text() == "x"  # nothing was changed


def test_open_data_folder_report_about_quit(harness: Harness) -> None:
    harness.click("Open data folder")
    assert harness.controller.join_jobs()
    assert harness.opened == [harness.ctx.paths.data_dir]
    assert harness.ctx.paths.data_dir.is_dir()
    if not module_present("burntray.report.build"):
        harness.click("Open report")
        assert harness.controller.join_jobs()
        assert harness.opened[-1] == harness.ctx.paths.data_dir
        assert any(t.startswith("opened ") for t in harness.texts())
    harness.click("About")
    assert any(t.startswith("burntray ") and "LLM usage" in t for t in harness.texts())
    harness.click("Quit")
    assert harness.quits == 1


def test_invalid_config_is_never_overwritten(pystray: Any, isolated_env: Path) -> None:
    ctx0 = AppContext.load(strict=False)
    ctx0.paths.config_file.parent.mkdir(parents=True)
    bad = b"window = forever\n"  # not TOML: a bad value alone no longer stops saving
    ctx0.paths.config_file.write_bytes(bad)
    h = Harness(AppContext.load(strict=False), pystray)
    try:
        assert "config.toml is invalid: defaults in use, changes not saved" in h.texts()
        h.click("Window", "5 min")
        assert h.ctx.paths.config_file.read_bytes() == bad
        assert h.controller.settings.window == "5m"  # still applied for this run
        assert h.find("Window", "5 min").checked
        assert "changed for this run only: config.toml is invalid, so it is not saved" in h.texts()
    finally:
        h.close()


def test_a_menu_click_keeps_the_users_comments_and_keys(pystray: Any) -> None:
    """Clicking a menu item sets that one key in the user's file; the rest stays as written."""
    from burntray.paths import app_paths

    config = app_paths().config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    text = '# mine: the tmux line reads hexai\nsource = "hexai"  # not all\n'
    config.write_text(text)
    h = Harness(AppContext.load(strict=False), pystray)
    try:
        h.click("Window", "24 h")
        assert config.read_text() == text + 'window = "24h"\n'
        h.click("Notifications")
        assert config.read_text() == text + 'window = "24h"\nnotifications = false\n'
    finally:
        h.close()


def test_a_crashing_source_shows_as_an_error_state(pystray: Any) -> None:
    ctx = AppContext.load(strict=False)

    def broken(_settings: object) -> Any:
        raise RuntimeError("source exploded")

    monitor = Monitor(ctx.settings, broken)
    controller = TrayController(ctx, monitor)
    monitor.start()
    try:
        _seen, snap = monitor.slot.wait_newer(0, timeout=5)
        assert snap is not None
        view = controller.view(snap)
        assert view.icon.state == "error"
        assert "internal error: RuntimeError('source exploded')" in view.title
    finally:
        monitor.stop()
        ctx.close()


def test_alerts_submenu_sets_threshold_and_budget(harness: Harness) -> None:
    applied: list[float] = []
    harness.controller.on_settings = lambda s: applied.append(s.alert_spike_usd_per_hour)
    groups = [str(i.text) for i in harness.find("Alerts").submenu.items]
    assert groups == ["Spike alert at", "Daily budget"]  # notifications: the menu's own toggle
    assert harness.find("Alerts", "Spike alert at", "$5/h").checked
    harness.click("Alerts", "Spike alert at", "$20/h")
    harness.click("Alerts", "Daily budget", "$10")
    saved = load_settings(harness.ctx.paths.config_file)
    assert (saved.alert_spike_usd_per_hour, saved.alert_daily_budget_usd) == (20.0, 10.0)
    assert applied == [20.0, 20.0]  # the alert engine hears every change
    assert harness.find("Alerts", "Spike alert at", "$20/h").checked
    assert not harness.find("Alerts", "Spike alert at", "$5/h").checked


def test_start_at_login_toggles_the_login_entry(harness: Harness, isolated_env: Path) -> None:
    if not module_present("burntray.autostart"):
        pytest.skip("this build has no burntray.autostart")
    from burntray import autostart

    supported, why = autostart.supported()
    if not supported:
        assert not harness.find("Start at login").enabled
        assert why in str(harness.find("Start at login").text)
        return
    assert not harness.find("Start at login").checked
    harness.click("Start at login")
    assert autostart.is_enabled()
    assert load_settings(harness.ctx.paths.config_file).start_at_login
    assert harness.find("Start at login").checked
    harness.click("Start at login")
    assert not autostart.is_enabled()
    assert not load_settings(harness.ctx.paths.config_file).start_at_login


def test_demo_leaves_login_items_alone(pystray: Any) -> None:
    ctx = AppContext.load(strict=False)
    monitor = Monitor(ctx.settings, ctx.build_source)
    controller = TrayController(ctx, monitor, demo=True)
    menu = build_menu(controller.view(None), controller, pystray)
    item = next(i for i in menu.items if str(i.text).startswith("Start at login"))
    assert str(item.text) == "Start at login (not in the demo)"
    assert not item.enabled
    assert str(menu.items[0].text) == "DEMO · synthetic data, not your usage"
    ctx.close()


def zombie_children() -> list[int]:
    """Our own children that exited and were never reaped."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] == "Z" and int(fields[1]) == os.getpid():
            found.append(int(stat.parent.name))
    return found


@pytest.mark.parametrize(
    ("script", "said"),
    [
        ('echo "xdg-open: no method available for opening $1" >&2; exit 3',
         "cannot open {folder}: xdg-open failed (exit 3): xdg-open: no method available for "
         "opening {folder}"),
        ("exit 0", "opened {folder}"),
        ("sleep 1; exit 0", "opened {folder}"),  # still running at the check: it is opening
    ],
    ids=["opener fails", "opener succeeds", "opener takes its time"],
)  # fmt: skip
def test_open_data_folder_tells_what_xdg_open_did_and_leaves_no_zombie(
    pystray: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str, said: str
) -> None:
    import functools
    import sys

    if not sys.platform.startswith("linux"):
        pytest.skip("xdg-open is the Linux opener")
    from burntray.ui.controller import open_path

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "xdg-open").write_text(f"#!/bin/sh\n{script}\n")
    (bin_dir / "xdg-open").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    h = Harness(AppContext.load(strict=False), pystray)
    h.controller.opener = functools.partial(open_path, wait_s=0.5)
    try:
        h.click("Open data folder")
        assert h.controller.join_jobs()
        assert h.controller.ui.message == said.format(folder=h.ctx.paths.data_dir)
        deadline = time.monotonic() + 5
        while zombie_children() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert zombie_children() == []
    finally:
        h.close()
