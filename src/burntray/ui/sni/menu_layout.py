"""A pystray menu, evaluated once, as a com.canonical.dbusmenu layout (pure: no bus, no pystray).

The tray evaluates the menu's dynamic parts (text, checked, enabled, visible callables) into a
frozen :class:`MenuLayout`; the bus thread only ever reads such snapshots.

Ids are stable: an item's id is a hash of its identity path (its parent's identity, then its own
kind and label), never its position. libdbusmenu-based panels keep the menu item objects of ids
they already know across a LayoutUpdated, with their old properties; were ids positional, a header
row appearing would shift every later id onto a different item, which then kept a stale
checkbox. So the same id always means the same entry, and :func:`diff_layouts` reports both a
shape change (LayoutUpdated) and the property changes of the entries that stayed
(ItemsPropertiesUpdated).
"""

from __future__ import annotations

import hashlib
from collections.abc import Container, Iterable, Mapping
from typing import Any, Protocol

from msgspec import Struct

ROOT_ID = 0

# A property value as dbusmenu sends it: label/type/toggle-type are strings, enabled/visible
# booleans, toggle-state an int32.
PropValue = str | bool | int


class PystrayMenuItem(Protocol):
    """The parts of ``pystray.MenuItem`` the layout reads."""

    @property
    def text(self) -> str: ...
    @property
    def checked(self) -> bool | None: ...
    @property
    def radio(self) -> bool: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def default(self) -> bool: ...
    @property
    def submenu(self) -> Any: ...


class MenuNode(Struct, frozen=True):
    id: int
    props: Mapping[str, PropValue]
    children: tuple[MenuNode, ...] = ()
    # The pystray item this node runs when clicked (None for the root and separators); layouts
    # are compared by shape and props (``layout_change``), never as whole values
    item: Any = None


class MenuLayout(Struct, frozen=True):
    root: MenuNode
    by_id: Mapping[int, MenuNode]
    # The first item marked default: what Activate (a left click on the icon) runs.
    default_item: Any = None

    def node(self, item_id: int) -> MenuNode | None:
        return self.by_id.get(item_id)


def escape_label(text: str) -> str:
    """dbusmenu reads "_" as a mnemonic marker; a literal underscore is written "__"."""
    return text.replace("_", "__")


def _item_props(item: PystrayMenuItem, has_submenu: bool) -> dict[str, PropValue]:
    props: dict[str, PropValue] = {
        "type": "standard",
        "label": escape_label(item.text),
        "enabled": bool(item.enabled),
        "visible": True,
    }
    checked = item.checked
    if checked is not None:
        props["toggle-type"] = "radio" if item.radio else "checkmark"
        props["toggle-state"] = 1 if checked else 0
    if has_submenu:
        props["children-display"] = "submenu"
    return props


def _identity(item: Any, separator: Any) -> str:
    """What an entry is, as far as its siblings go.

    Entries that act, tick or open a submenu are their label. Plain disabled rows (headers, a
    confirmation question) and separators are known by their kind and their rank among their
    kind, because their text carries changing figures; such rows all have the same property
    names, so a row that takes another's id leaves nothing stale behind.
    """
    if item is separator:
        return "separator"
    if item.submenu is None and not item.enabled and item.checked is None:
        return "text"
    return f"item:{item.text}"


def stable_id(path: str, taken: Container[int]) -> int:
    """A positive int32 id from ``path``; a (rare) clash within one layout takes the next hash."""
    salt = 0
    while True:
        digest = hashlib.blake2b(f"{path}#{salt}".encode(), digest_size=4).digest()
        item_id = int.from_bytes(digest, "big") & 0x7FFFFFFF
        if item_id != ROOT_ID and item_id not in taken:
            return item_id
        salt += 1


def build_layout(menu: Iterable[Any] | None, separator: Any = None) -> MenuLayout:
    """Evaluate a pystray menu (iterating it yields its visible items) into a layout.

    ``separator`` is ``pystray.Menu.SEPARATOR``; it is taken from the menu's class when omitted.
    """
    if separator is None and menu is not None:
        separator = getattr(type(menu), "SEPARATOR", None)
    by_id: dict[int, MenuNode] = {}
    taken: set[int] = set()
    default_item: Any = None

    def build(items: Iterable[Any], parent: str) -> tuple[MenuNode, ...]:
        nonlocal default_item
        nodes: list[MenuNode] = []
        seen: dict[str, int] = {}
        for item in items:
            identity = _identity(item, separator)
            rank = seen.get(identity, 0)
            seen[identity] = rank + 1
            path = f"{parent}/{identity}#{rank}"
            item_id = stable_id(path, taken)
            taken.add(item_id)
            if item is separator:
                node = MenuNode(item_id, {"type": "separator", "visible": True})
            else:
                submenu = item.submenu
                children = build(submenu, path) if submenu is not None else ()
                if default_item is None and submenu is None and item.default:
                    default_item = item
                node = MenuNode(
                    item_id, _item_props(item, submenu is not None), children, item=item
                )
            by_id[item_id] = node
            nodes.append(node)
        return tuple(nodes)

    children = build(menu, "") if menu is not None else ()
    root = MenuNode(ROOT_ID, {"children-display": "submenu"}, children)
    by_id[ROOT_ID] = root
    return MenuLayout(root, by_id, default_item)


class LayoutChange(Struct, frozen=True):
    shape_changed: bool
    # (id, {property: new value}) for items in both layouts whose properties changed.
    updated: list[tuple[int, dict[str, PropValue]]]
    # (id, [property names that disappeared]), items in both layouts.
    removed: list[tuple[int, list[str]]]

    @property
    def any(self) -> bool:
        return self.shape_changed or bool(self.updated) or bool(self.removed)


def _shape(node: MenuNode) -> tuple[Any, ...]:
    return (node.id, node.props.get("type"), tuple(_shape(child) for child in node.children))


def diff_layouts(old: MenuLayout, new: MenuLayout) -> LayoutChange:
    """Whether the tree changed, and the property changes of the entries in both layouts.

    Both are reported even when the shape changed: a panel that keeps its entries across a
    LayoutUpdated refreshes their properties only from ItemsPropertiesUpdated.
    """
    updated: list[tuple[int, dict[str, PropValue]]] = []
    removed: list[tuple[int, list[str]]] = []
    for item_id, new_node in sorted(new.by_id.items()):
        old_node = old.by_id.get(item_id)
        if old_node is None:
            continue
        old_props = old_node.props
        changed = {k: v for k, v in new_node.props.items() if old_props.get(k) != v}
        gone = sorted(k for k in old_props if k not in new_node.props)
        if changed:
            updated.append((item_id, changed))
        if gone:
            removed.append((item_id, gone))
    return LayoutChange(_shape(old.root) != _shape(new.root), updated, removed)


def select_props(props: Mapping[str, PropValue], names: Iterable[str]) -> dict[str, PropValue]:
    """The requested properties; an empty request means all of them (dbusmenu's rule)."""
    wanted = list(names)
    if not wanted:
        return dict(props)
    return {name: props[name] for name in wanted if name in props}
