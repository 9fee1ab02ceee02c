"""The StatusNotifierItem backend on a private bus, driven by a test panel and a fake watcher."""

from __future__ import annotations

import json
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from burntray.config import load_settings
from tests.integration.sni_bus import (
    ITEM_IFACE,
    MENU_IFACE,
    RED,
    WATCHER,
    DBusCallError,
    Panel,
    TrayApp,
    fake_watcher,
    solid_icon,
    unwrap_layout,
    wait_until,
)
from tests.processes import private_bus, read_line


@pytest.fixture
def bus_address() -> Iterator[str]:
    with private_bus() as address:
        yield address


@pytest.fixture
def panel(bus_address: str) -> Iterator[Panel]:
    with Panel(bus_address) as client:
        yield client


@pytest.fixture
def app(tmp_path: Path) -> TrayApp:
    return TrayApp(tmp_path / "config.toml")


class RunningIcon:
    def __init__(self, icon: Any) -> None:
        self.icon = icon
        self.thread = threading.Thread(target=icon.run, name="test-icon-run")
        self.thread.start()

    def stop(self) -> None:
        self.icon.stop()
        self.thread.join(10)
        assert not self.thread.is_alive(), "SniIcon.run() did not return after stop()"


@pytest.fixture
def start_icon(bus_address: str, app: TrayApp) -> Iterator[Any]:
    from burntray.ui.sni import SniIcon

    running: list[RunningIcon] = []

    def start(**kwargs: Any) -> Any:
        kwargs.setdefault("icon", solid_icon(RED))
        kwargs.setdefault("title", "burntray\nhexai · 3.0 rpm · $0.42")
        kwargs.setdefault("menu", app.menu())
        icon = SniIcon("burntray", sni_bus_address=bus_address, **kwargs)
        running.append(RunningIcon(icon))
        return icon

    yield start
    for handle in running:
        handle.stop()


def registered(panel: Panel, icon: Any) -> Any:
    return panel.wait_signal(
        "StatusNotifierItemRegistered", lambda msg: msg.body[0] == icon.bus_name
    )


def item_get(panel: Panel, icon: Any, name: str) -> Any:
    return panel.get(icon.bus_name, "/StatusNotifierItem", ITEM_IFACE, name)


def menu_call(panel: Panel, icon: Any, member: str, signature: str, *body: Any) -> Any:
    return panel.call(icon.bus_name, "/MenuBar", MENU_IFACE, member, signature, *body)


def layout_of(panel: Panel, icon: Any) -> tuple[int, dict[str, Any]]:
    revision, root = menu_call(panel, icon, "GetLayout", "iias", 0, -1, [])
    return revision, unwrap_layout(root)


def find(node: dict[str, Any], label: str) -> dict[str, Any]:
    for child in node["children"]:
        if child["props"].get("label") == label:
            return child
        if child["children"]:
            try:
                return find(child, label)
            except LookupError:
                pass
    raise LookupError(label)


def test_panel_reads_every_property_and_the_menu(
    panel: Panel, bus_address: str, start_icon: Any
) -> None:
    with fake_watcher(bus_address):
        icon = start_icon()
        registered(panel, icon)

        props = panel.get_all(icon.bus_name, "/StatusNotifierItem", ITEM_IFACE)
        assert props["Id"] == "burntray"
        assert props["Category"] == "ApplicationStatus"
        assert props["Title"] == "burntray"
        assert props["Status"] == "Active"
        assert props["ItemIsMenu"] is False  # "Open report" is the default: left click runs it
        assert props["Menu"] == "/MenuBar"
        sizes = [(w, h) for w, h, _data in props["IconPixmap"]]
        assert sizes == [(16, 16), (22, 22), (24, 24), (32, 32), (48, 48), (64, 64)]
        for width, height, data in props["IconPixmap"]:
            assert len(data) == width * height * 4
            # ARGB32 in network byte order: alpha, red, green, blue.
            assert data[:4] == bytes([255, 255, 0, 0])
        _icon_name, tip_pixmaps, tip_title, tip_text = props["ToolTip"]
        assert (tip_title, tip_text) == ("burntray", "hexai · 3.0 rpm · $0.42")
        assert len(tip_pixmaps) == 6

        menu_props = panel.get_all(icon.bus_name, "/MenuBar", MENU_IFACE)
        assert menu_props["Version"] == 3
        assert menu_props["Status"] == "normal"

        revision, root = layout_of(panel, icon)
        assert revision >= 1
        labels = [c["props"].get("label", c["props"]["type"]) for c in root["children"]]
        assert labels == [
            "Open report",
            "hexai: 12 req · $0.42",
            "separator",
            "Window",
            "Notifications",
            "separator",
            "Quit",
        ]
        assert find(root, "hexai: 12 req · $0.42")["props"]["enabled"] is False
        window = find(root, "Window")
        assert window["props"]["children-display"] == "submenu"
        radios = {c["props"]["label"]: c["props"] for c in window["children"]}
        assert {k: (v["toggle-type"], v["toggle-state"]) for k, v in radios.items()} == {
            "15m": ("radio", 0),
            "1h": ("radio", 1),
            "24h": ("radio", 0),
        }
        notifications = find(root, "Notifications")["props"]
        assert (notifications["toggle-type"], notifications["toggle-state"]) == ("checkmark", 1)

        # Depth 0 returns the node without children; property filters are honoured.
        _rev, shallow = menu_call(panel, icon, "GetLayout", "iias", window["id"], 0, ["label"])
        assert unwrap_layout(shallow) == {
            "id": window["id"],
            "props": {"label": "Window"},
            "children": [],
        }
        group = menu_call(panel, icon, "GetGroupProperties", "aias", [window["id"]], ["label"])[0]
        assert [(i, {k: v for k, (_s, v) in p.items()}) for i, p in group] == [
            (window["id"], {"label": "Window"})
        ]
        (value,) = menu_call(panel, icon, "GetProperty", "is", notifications_id(root), "label")
        assert value == ("s", "Notifications")
        with pytest.raises(DBusCallError, match="no menu item with id 999"):
            menu_call(panel, icon, "GetLayout", "iias", 999, -1, [])
        # No ids means every item (how libdbusmenu-based panels fetch everything at once).
        everything = menu_call(panel, icon, "GetGroupProperties", "aias", [], ["type"])[0]
        assert len(everything) == 11  # root, 7 entries, 3 radio entries
        assert menu_call(panel, icon, "AboutToShowGroup", "ai", [0, window["id"], 999]) == (
            [],
            [999],
        )


def notifications_id(root: dict[str, Any]) -> int:
    return int(find(root, "Notifications")["id"])


def test_clicks_run_callbacks_that_save_config(
    panel: Panel, bus_address: str, start_icon: Any, app: TrayApp
) -> None:
    with fake_watcher(bus_address):
        icon = start_icon()
        registered(panel, icon)
        revision, root = layout_of(panel, icon)
        assert not app.config_path.exists()

        day = find(find(root, "Window"), "24h")
        assert menu_call(panel, icon, "AboutToShow", "i", 0) == (False,)
        menu_call(panel, icon, "Event", "isvu", day["id"], "clicked", ("i", 0), 0)
        wait_until(
            lambda: app.config_path.exists() and load_settings(app.config_path).window == "24h",
            "config.toml to hold window = 24h",
        )
        assert tomllib.loads(app.config_path.read_text())["window"] == "24h"
        # The radio group follows: 24h on, 1h off, announced as a property update.
        update = panel.wait_signal("ItemsPropertiesUpdated")
        changed = {item_id: {k: v for k, (_s, v) in p.items()} for item_id, p in update.body[0]}
        one_hour = find(find(root, "Window"), "1h")["id"]
        assert changed == {day["id"]: {"toggle-state": 1}, one_hour: {"toggle-state": 0}}
        new_revision, new_root = layout_of(panel, icon)
        assert new_revision > revision
        assert find(new_root, "24h")["props"]["toggle-state"] == 1

        # EventGroup: the valid event runs, the unknown id is reported back.
        (id_errors,) = menu_call(
            panel,
            icon,
            "EventGroup",
            "a(isvu)",
            [(notifications_id(root), "clicked", ("i", 0), 0), (4242, "clicked", ("i", 0), 0)],
        )
        assert id_errors == [4242]
        wait_until(
            lambda: load_settings(app.config_path).notifications is False,
            "notifications = false in config.toml",
        )

        # A disabled item does nothing; Activate (left click on the icon) runs the default item.
        disabled = find(root, "hexai: 12 req · $0.42")
        menu_call(panel, icon, "Event", "isvu", disabled["id"], "clicked", ("i", 0), 0)
        panel.call(icon.bus_name, "/StatusNotifierItem", ITEM_IFACE, "Activate", "ii", 10, 10)
        assert app.reports_opened.wait(10)

        # "Quit" stops the icon from its own callback: the item leaves the bus.
        menu_call(panel, icon, "Event", "isvu", find(root, "Quit")["id"], "clicked", ("i", 0), 0)
        panel.wait_signal("StatusNotifierItemUnregistered", lambda m: m.body[0] == icon.bus_name)
        wait_until(lambda: not panel.name_has_owner(icon.bus_name), "the item's name released")


def test_changes_emit_signals_only_when_something_changed(
    panel: Panel, bus_address: str, start_icon: Any, app: TrayApp
) -> None:
    with fake_watcher(bus_address):
        icon = start_icon()
        registered(panel, icon)
        panel.drain()

        icon.icon = solid_icon((0, 0, 255, 255))
        panel.wait_signal("NewIcon")
        assert item_get(panel, icon, "IconPixmap")[0][2][:4] == bytes([255, 0, 0, 255])

        icon.title = "burntray\nhexai · 9.0 rpm · $1.00"
        panel.wait_signal("NewToolTip")
        assert item_get(panel, icon, "ToolTip")[3] == "hexai · 9.0 rpm · $1.00"

        # Same title and same image again: nothing to tell the panel. The attention change that
        # follows is the marker: no NewTitle/NewToolTip/NewIcon may arrive before it.
        icon.title = "burntray\nhexai · 9.0 rpm · $1.00"
        icon.icon = solid_icon((0, 0, 255, 255))
        icon.set_attention(True)
        status = panel.wait_signal("NewStatus")
        assert status.body == ("NeedsAttention",)
        assert item_get(panel, icon, "Status") == "NeedsAttention"
        icon.set_attention(False)
        assert panel.wait_signal("NewStatus").body == ("Active",)

        # A new menu entry changes the layout's shape: LayoutUpdated with the new revision.
        revision, _root = layout_of(panel, icon)
        app.extra_items.append("cburn: offline")
        icon.update_menu()
        updated = panel.wait_signal("LayoutUpdated")
        new_revision, root = layout_of(panel, icon)
        assert updated.body == (new_revision, 0)
        assert new_revision > revision
        find(root, "cburn: offline")


def test_watcher_restart_leads_to_registration_again(
    panel: Panel, bus_address: str, start_icon: Any
) -> None:
    with fake_watcher(bus_address):
        icon = start_icon()
        registered(panel, icon)
    wait_until(lambda: not panel.name_has_owner(WATCHER), "the first watcher gone")
    with fake_watcher(bus_address):
        registered(panel, icon)
        (items,) = (
            panel.get(WATCHER, "/StatusNotifierWatcher", WATCHER, "RegisteredStatusNotifierItems"),
        )
        assert items == [icon.bus_name]


def test_item_waits_for_a_watcher_that_starts_later(
    panel: Panel, bus_address: str, start_icon: Any
) -> None:
    icon = start_icon()
    wait_until(lambda: panel.name_has_owner(icon.bus_name), "the item on the bus")
    with fake_watcher(bus_address):
        registered(panel, icon)


def test_stop_unregisters_and_run_returns(panel: Panel, bus_address: str, start_icon: Any) -> None:
    from burntray.ui.sni import SniIcon

    with fake_watcher(bus_address):
        icon = SniIcon("burntray", solid_icon(RED), "burntray", None, sni_bus_address=bus_address)
        runner = threading.Thread(target=icon.run)
        runner.start()
        registered(panel, icon)
        assert item_get(panel, icon, "ItemIsMenu") is True  # no menu, so no default action
        icon.stop()
        runner.join(10)
        assert not runner.is_alive()
        panel.wait_signal("StatusNotifierItemUnregistered", lambda m: m.body[0] == icon.bus_name)
        assert not panel.name_has_owner(icon.bus_name)
        # After stop, setters are harmless no-ops.
        icon.title = "after stop"
        icon.set_attention(True)


def test_notify_and_remove_notification(panel: Panel, bus_address: str, start_icon: Any) -> None:
    with fake_watcher(bus_address, notifications=True) as service:
        icon = start_icon()
        registered(panel, icon)
        icon.notify("spend rose 40 % in 10 min", "burntray: cost spike")
        first = json.loads(read_line(service.stdout, 10, "Notify call"))
        assert first == {
            "call": "Notify",
            "app": "burntray",
            "replaces": 0,
            "summary": "burntray: cost spike",
            "body": "spend rose 40 % in 10 min",
            "id": 1,
        }
        icon.notify("back to normal")
        second = json.loads(read_line(service.stdout, 10, "second Notify call"))
        assert (second["replaces"], second["summary"]) == (1, "burntray")
        icon.remove_notification()
        closed = json.loads(read_line(service.stdout, 10, "CloseNotification call"))
        assert closed == {"call": "CloseNotification", "id": 1}


def test_run_without_a_bus_raises_a_clear_error() -> None:
    from burntray.ui.sni import SniError, SniIcon

    before = threading.active_count()
    icon = SniIcon(
        "burntray",
        solid_icon(RED),
        "burntray",
        sni_bus_address="unix:path=/nonexistent/burntray-no-bus",
    )
    with pytest.raises(SniError, match="cannot put the tray item on the session bus"):
        icon.run()
    wait_until(lambda: threading.active_count() <= before, "no thread left behind")


def test_sni_available_reports_why_not(bus_address: str) -> None:
    from burntray.ui.sni import sni_available

    ok, why = sni_available("unix:path=/nonexistent/burntray-no-bus")
    assert not ok and "cannot connect to the session bus" in why
    ok, why = sni_available(bus_address)
    assert not ok and "no org.kde.StatusNotifierWatcher" in why
    with fake_watcher(bus_address):
        # a bus that does not answer within the probe's timeout gives (False, "... did not
        # answer within ..."): True is itself the proof that it answered in time
        assert sni_available(bus_address) == (
            True,
            "org.kde.StatusNotifierWatcher is on the session bus",
        )
    ok, why = sni_available()  # the isolated test env's bus address cannot connect
    assert not ok and "/nonexistent/" in why
