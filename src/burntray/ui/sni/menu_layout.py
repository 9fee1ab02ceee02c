"""A pystray menu, evaluated once, as a com.canonical.dbusmenu layout (pure: no bus, no pystray).

The tray evaluates the menu's dynamic parts (text, checked, enabled, visible callables) into a
frozen :class:`MenuLayout`; the bus thread only ever reads such snapshots. Ids are assigned in
depth-first order, so an unchanged menu keeps its ids and a panel's cached layout stays valid;
:func:`diff_layouts` tells whether the shape changed (LayoutUpdated) or only properties did
(ItemsPropertiesUpdated).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

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


@dataclass(frozen=True)
class MenuNode:
    id: int
    props: Mapping[str, PropValue]
    children: tuple[MenuNode, ...] = ()
    # The pystray item this node runs when clicked (None for the root and separators).
    item: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class MenuLayout:
    root: MenuNode
    by_id: Mapping[int, MenuNode]
    # The first item marked default: what Activate (a left click on the icon) runs.
    default_item: Any = field(default=None, compare=False)

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


def build_layout(menu: Iterable[Any] | None, separator: Any = None) -> MenuLayout:
    """Evaluate a pystray menu (iterating it yields its visible items) into a layout.

    ``separator`` is ``pystray.Menu.SEPARATOR``; it is taken from the menu's class when omitted.
    """
    if separator is None and menu is not None:
        separator = getattr(type(menu), "SEPARATOR", None)
    by_id: dict[int, MenuNode] = {}
    next_id = ROOT_ID + 1
    default_item: Any = None

    def build(items: Iterable[Any]) -> tuple[MenuNode, ...]:
        nonlocal next_id, default_item
        nodes: list[MenuNode] = []
        for item in items:
            item_id = next_id
            next_id += 1
            if item is separator:
                node = MenuNode(item_id, {"type": "separator", "visible": True})
            else:
                submenu = item.submenu
                children = build(submenu) if submenu is not None else ()
                if default_item is None and submenu is None and item.default:
                    default_item = item
                node = MenuNode(
                    item_id, _item_props(item, submenu is not None), children, item=item
                )
            by_id[item_id] = node
            nodes.append(node)
        return tuple(nodes)

    children = build(menu) if menu is not None else ()
    root = MenuNode(ROOT_ID, {"children-display": "submenu"}, children)
    by_id[ROOT_ID] = root
    return MenuLayout(root, by_id, default_item)


@dataclass(frozen=True)
class LayoutChange:
    shape_changed: bool
    # (id, {property: new value}) for items whose properties changed; shape unchanged only.
    updated: list[tuple[int, dict[str, PropValue]]]
    # (id, [property names that disappeared]).
    removed: list[tuple[int, list[str]]]

    @property
    def any(self) -> bool:
        return self.shape_changed or bool(self.updated) or bool(self.removed)


def _shape(node: MenuNode) -> tuple[Any, ...]:
    return (node.id, node.props.get("type"), tuple(_shape(child) for child in node.children))


def diff_layouts(old: MenuLayout, new: MenuLayout) -> LayoutChange:
    if _shape(old.root) != _shape(new.root):
        return LayoutChange(True, [], [])
    updated: list[tuple[int, dict[str, PropValue]]] = []
    removed: list[tuple[int, list[str]]] = []
    for item_id, new_node in sorted(new.by_id.items()):
        old_props = old.by_id[item_id].props
        changed = {k: v for k, v in new_node.props.items() if old_props.get(k) != v}
        gone = sorted(k for k in old_props if k not in new_node.props)
        if changed:
            updated.append((item_id, changed))
        if gone:
            removed.append((item_id, gone))
    return LayoutChange(False, updated, removed)


def select_props(props: Mapping[str, PropValue], names: Iterable[str]) -> dict[str, PropValue]:
    """The requested properties; an empty request means all of them (dbusmenu's rule)."""
    wanted = list(names)
    if not wanted:
        return dict(props)
    return {name: props[name] for name in wanted if name in props}
