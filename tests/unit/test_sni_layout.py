"""The pure parts of the SNI backend: pystray menu -> dbusmenu layout, and icon pixmaps."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from burntray.ui.sni.menu_layout import (
    ROOT_ID,
    build_layout,
    diff_layouts,
    escape_label,
    select_props,
)
from burntray.ui.sni.pixmap import PIXMAP_SIZES, image_pixmaps, rgba_to_argb
from burntray.ui.sni.pystray_loader import load_pystray

# Collected before the isolation fixture sets PYSTRAY_BACKEND: the loader copes with no display.
pystray = load_pystray()


def test_layout_ids_props_and_default_item() -> None:
    state = {"window": "1h", "sound": False}
    menu = pystray.Menu(
        pystray.MenuItem("Open _report", lambda: None, default=True),
        pystray.MenuItem("idle", None, enabled=False),
        pystray.Menu.SEPARATOR,
        pystray.MenuItem(
            "Window",
            pystray.Menu(
                *(
                    pystray.MenuItem(
                        w, None, checked=lambda _i, w=w: state["window"] == w, radio=True
                    )
                    for w in ("1h", "24h")
                )
            ),
        ),
        pystray.MenuItem("Sound", None, checked=lambda _i: state["sound"]),
        pystray.MenuItem("hidden", None, visible=False),
    )
    layout = build_layout(menu)
    root = layout.root
    assert root.id == ROOT_ID
    ids = [c.id for c in root.children]
    assert ROOT_ID not in ids and len(set(ids)) == 5
    assert all(0 < i < 2**31 for i in ids)
    assert root.children[0].props["label"] == "Open __report"
    assert root.children[1].props["enabled"] is False
    assert root.children[2].props == {"type": "separator", "visible": True}
    window = root.children[3]
    assert window.props["children-display"] == "submenu"
    assert [(c.props["toggle-type"], c.props["toggle-state"]) for c in window.children] == [
        ("radio", 1),
        ("radio", 0),
    ]
    assert root.children[4].props["toggle-type"] == "checkmark"
    assert "toggle-type" not in root.children[0].props
    assert layout.default_item is root.children[0].item
    assert len(layout.by_id) == 8 and {n.id for n in window.children} < set(layout.by_id)
    assert build_layout(menu).by_id.keys() == layout.by_id.keys()  # the same ids every time


def test_no_menu_is_an_empty_root() -> None:
    layout = build_layout(None)
    assert layout.root.children == ()
    assert layout.default_item is None


def test_diff_tells_property_changes_from_shape_changes() -> None:
    state: dict[str, Any] = {"window": "1h", "extra": False}

    def items() -> Any:
        for w in ("1h", "24h"):
            yield pystray.MenuItem(
                w, None, checked=lambda _i, w=w: state["window"] == w, radio=True
            )
        if state["extra"]:
            yield pystray.MenuItem("extra", None)

    menu = pystray.Menu(items)
    before = build_layout(menu)
    assert not diff_layouts(before, build_layout(menu)).any

    state["window"] = "24h"
    after = build_layout(menu)
    change = diff_layouts(before, after)
    assert not change.shape_changed
    one_hour, day = (node.id for node in before.root.children)
    assert sorted(change.updated) == sorted(
        [(one_hour, {"toggle-state": 0}), (day, {"toggle-state": 1})]
    )
    assert change.removed == []

    state["extra"] = True
    assert diff_layouts(after, build_layout(menu)).shape_changed


def test_diff_reports_removed_properties() -> None:
    checked = {"on": True}
    menu = pystray.Menu(
        pystray.MenuItem("x", None, checked=lambda _i: True if checked["on"] else None)
    )
    before = build_layout(menu)
    checked["on"] = False
    change = diff_layouts(before, build_layout(menu))
    assert change.removed == [(before.root.children[0].id, ["toggle-state", "toggle-type"])]


def test_ids_follow_entries_not_positions() -> None:
    """A header row appearing or going must not hand an entry's id to another entry: panels
    keep the properties of ids they know, and a shifted id showed a stale checkbox."""
    state: dict[str, Any] = {"headers": ["hexai · $1.20 today"], "confirm": False}

    def rows() -> Any:
        for text in state["headers"]:
            yield pystray.MenuItem(text, None, enabled=False)
        yield pystray.Menu.SEPARATOR
        yield pystray.MenuItem("Open report", lambda: None, default=True)
        if state["confirm"]:
            yield pystray.MenuItem("Empty hexai's stats?", None, enabled=False)
            yield pystray.MenuItem("Yes, empty it", lambda: None)
        yield pystray.MenuItem("Notifications", lambda: None, checked=lambda _i: True)
        yield pystray.MenuItem(
            "Alerts", pystray.Menu(pystray.MenuItem("Spike", None, checked=lambda _i: False))
        )
        yield pystray.MenuItem("Refresh now", lambda: None)
        yield pystray.Menu.SEPARATOR
        yield pystray.MenuItem("Quit", lambda: None)

    def labelled(layout: Any) -> dict[str, int]:
        return {
            str(node.props.get("label", node.props.get("type"))) + f"@{node.id}": node.id
            for node in layout.by_id.values()
        }

    def ids_by_label(layout: Any) -> dict[str, int]:
        return {
            str(node.props["label"]): node.id
            for node in layout.by_id.values()
            if "label" in node.props and not str(node.props["label"]).startswith("hexai")
        }

    menu = pystray.Menu(rows)
    before = build_layout(menu)
    state["headers"] = ["hexai · $1.30 today", "offline: cannot read stats.json", "spike"]
    state["confirm"] = True
    grown = build_layout(menu)
    state["headers"] = []
    state["confirm"] = False
    shrunk = build_layout(menu)
    for layout in (grown, shrunk):
        common = {k: v for k, v in ids_by_label(layout).items() if k in ids_by_label(before)}
        assert common == ids_by_label(before)
    # No id ever names two different kinds of entry (a checkbox and a plain row, say).
    kinds: dict[int, tuple[Any, ...]] = {}
    for layout in (before, grown, shrunk):
        for node in layout.by_id.values():
            kind = (node.props.get("type"), node.props.get("toggle-type"), bool(node.children))
            assert kinds.setdefault(node.id, kind) == kind, labelled(layout)
    # The header's figure changed, not what it is: a property update on the same id.
    state["headers"] = ["hexai · $1.20 today"]
    again = build_layout(menu)
    state["headers"] = ["hexai · $1.25 today"]
    change = diff_layouts(again, build_layout(menu))
    assert not change.shape_changed
    assert change.updated == [(again.root.children[0].id, {"label": "hexai · $1.25 today"})]


def test_a_shape_change_also_reports_the_property_changes_of_kept_entries() -> None:
    state = {"extra": False, "on": True}

    def rows() -> Any:
        if state["extra"]:
            yield pystray.MenuItem("header", None, enabled=False)
        yield pystray.MenuItem("Sound", None, checked=lambda _i: state["on"])

    menu = pystray.Menu(rows)
    before = build_layout(menu)
    state["extra"], state["on"] = True, False
    change = diff_layouts(before, build_layout(menu))
    assert change.shape_changed
    assert change.updated == [(before.root.children[0].id, {"toggle-state": 0})]


def test_select_props_empty_means_all() -> None:
    props = {"label": "a", "enabled": True}
    assert select_props(props, []) == props
    assert select_props(props, ["label", "nope"]) == {"label": "a"}


@given(st.text())
def test_escaped_labels_round_trip(text: str) -> None:
    # A panel turns "__" back into "_" and treats a single "_" as a mnemonic marker.
    escaped = escape_label(text)
    assert escaped.replace("__", "_") == text
    assert escaped.count("_") == 2 * text.count("_")


@given(st.binary(min_size=0, max_size=64).map(lambda b: b[: len(b) - len(b) % 4]))
def test_argb_is_rgba_rotated(rgba: bytes) -> None:
    argb = rgba_to_argb(rgba)
    for i in range(0, len(rgba), 4):
        r, g, b, a = rgba[i : i + 4]
        assert argb[i : i + 4] == bytes([a, r, g, b])


def test_pixmaps_at_every_size_in_network_byte_order() -> None:
    image = Image.new("RGBA", (64, 64), (10, 20, 30, 200))
    pixmaps = image_pixmaps(image)
    assert [(w, h) for w, h, _ in pixmaps] == [(s, s) for s in PIXMAP_SIZES]
    for width, height, data in pixmaps:
        assert len(data) == width * height * 4
        assert data[:4] == bytes([200, 10, 20, 30])


def test_non_square_images_keep_their_aspect() -> None:
    pixmaps = image_pixmaps(Image.new("RGB", (64, 32), (1, 2, 3)), sizes=(16,))
    assert [(w, h) for w, h, _ in pixmaps] == [(16, 8)]
    assert pixmaps[0][2][:4] == bytes([255, 1, 2, 3])  # RGB gains an opaque alpha


def _python(code: str, env_drop: tuple[str, ...] = ()) -> str:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in env_drop}
    done = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_importing_the_backend_package_stays_cheap() -> None:
    out = _python(
        "import sys, burntray.ui.sni; print('pystray' in sys.modules, 'dbus_fast' in sys.modules)"
    )
    assert out == "False False"


def test_sni_icon_loads_without_display_or_backend_choice() -> None:
    # A Wayland session: no DISPLAY, no PYSTRAY_BACKEND. Plain "import pystray" raises there.
    out = _python(
        "import os; from burntray.ui.sni import SniIcon; import pystray;"
        "print(SniIcon.__mro__[1].__module__, pystray.Menu.__module__,"
        " os.environ.get('PYSTRAY_BACKEND'))",
        env_drop=("DISPLAY", "PYSTRAY_BACKEND"),
    )
    assert out == "pystray._base pystray._base None"


def test_platform_icon_class_follows_pystray_backend_choice(monkeypatch: Any) -> None:
    import pytest

    from burntray.ui.sni.pystray_loader import platform_icon_class

    monkeypatch.setenv("PYSTRAY_BACKEND", "dummy")
    import pystray._dummy

    assert platform_icon_class() is pystray._dummy.Icon
    monkeypatch.setenv("PYSTRAY_BACKEND", "nosuch")
    with pytest.raises(ImportError, match="no pystray backend loads here: nosuch"):
        platform_icon_class()
