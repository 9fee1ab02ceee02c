"""The two D-Bus objects a tray item exports: org.kde.StatusNotifierItem and com.canonical.dbusmenu.

These run on the bus thread only. The icon hands them immutable values (pixmaps, a
:class:`MenuLayout`); they answer a panel's calls from that state and emit the change signals.
Calls that run user code (a click, Activate) are passed to callbacks that must not block: the icon
queues them on its action thread.
"""

# No "from __future__ import annotations" here: dbus-fast reads these annotations as D-Bus
# signatures at class creation, and a postponed "None" would evaluate to no signature at all.

from collections.abc import Callable, Iterable, Sequence
from typing import Annotated, Any

from dbus_fast import DBusError, ErrorType, Variant
from dbus_fast.annotations import (
    DBusBool,
    DBusInt32,
    DBusObjectPath,
    DBusSignature,
    DBusStr,
    DBusUInt32,
    DBusVariant,
)
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import (
    ServiceInterface,
    dbus_method,
    dbus_property,
    dbus_signal,
)

from burntray.lazylog import get_logger
from burntray.ui.sni.menu_layout import (
    ROOT_ID,
    MenuLayout,
    MenuNode,
    PropValue,
    diff_layouts,
    select_props,
)
from burntray.ui.sni.pixmap import Pixmap

log = get_logger(__name__)

ITEM_PATH = "/StatusNotifierItem"
MENU_PATH = "/MenuBar"
DBUSMENU_VERSION = 3

PixmapList = Annotated[list[list[Any]], DBusSignature("a(iiay)")]
ToolTip = Annotated[list[Any], DBusSignature("(sa(iiay)ss)")]
LayoutReply = Annotated[list[Any], DBusSignature("u(ia{sv}av)")]
GroupProps = Annotated[list[list[Any]], DBusSignature("a(ia{sv})")]
IntList = Annotated[list[int], DBusSignature("ai")]
StrList = Annotated[list[str], DBusSignature("as")]
EventList = Annotated[list[list[Any]], DBusSignature("a(isvu)")]
AboutToShowGroupReply = Annotated[list[Any], DBusSignature("aiai")]
RemovedProps = Annotated[list[list[Any]], DBusSignature("a(ias)")]
PropsUpdatedSignal = Annotated[list[Any], DBusSignature("a(ia{sv})a(ias)")]
LayoutUpdatedSignal = Annotated[list[Any], DBusSignature("ui")]
ActivationSignal = Annotated[list[Any], DBusSignature("iu")]

Callback = Callable[[], None]


def _pixmap_wire(pixmaps: Sequence[Pixmap]) -> list[list[Any]]:
    return [[width, height, data] for width, height, data in pixmaps]


class StatusNotifierItem(ServiceInterface):
    """org.kde.StatusNotifierItem, as KDE's specification and freedesktop panels read it."""

    def __init__(
        self,
        item_id: str,
        on_activate: Callback,
        on_secondary_activate: Callback,
    ) -> None:
        super().__init__("org.kde.StatusNotifierItem")
        self._id = item_id
        self._title = ""
        self._tooltip_title = ""
        self._tooltip_text = ""
        self._status = "Active"
        self._pixmaps: list[list[Any]] = []
        self._item_is_menu = True
        self._on_activate = on_activate
        self._on_secondary_activate = on_secondary_activate

    # -- state changes (bus thread) ---------------------------------------------------------

    def set_title(self, title: str) -> None:
        """pystray's title is the tooltip text: first line is the heading, the rest its body."""
        heading, _, body = title.partition("\n")
        if heading != self._title:
            self._title = heading
            self.new_title()
        if (heading, body) != (self._tooltip_title, self._tooltip_text):
            self._tooltip_title, self._tooltip_text = heading, body
            self.new_tool_tip()

    def set_pixmaps(self, pixmaps: Sequence[Pixmap]) -> None:
        wire = _pixmap_wire(pixmaps)
        if wire != self._pixmaps:
            self._pixmaps = wire
            self.new_icon()
            # The tooltip carries the icon too.
            self.new_tool_tip()

    def set_status(self, status: str) -> None:
        if status != self._status:
            self._status = status
            self.new_status(status)

    def set_item_is_menu(self, item_is_menu: bool) -> None:
        # No signal exists for this one; panels read it when they handle a click.
        self._item_is_menu = item_is_menu

    # -- properties ------------------------------------------------------------------------

    @dbus_property(access=PropertyAccess.READ, name="Category")
    def category(self) -> DBusStr:
        return "ApplicationStatus"

    @dbus_property(access=PropertyAccess.READ, name="Id")
    def item_id(self) -> DBusStr:
        return self._id

    @dbus_property(access=PropertyAccess.READ, name="Title")
    def title(self) -> DBusStr:
        return self._title

    @dbus_property(access=PropertyAccess.READ, name="Status")
    def status(self) -> DBusStr:
        return self._status

    @dbus_property(access=PropertyAccess.READ, name="WindowId")
    def window_id(self) -> DBusInt32:
        return 0

    @dbus_property(access=PropertyAccess.READ, name="IconThemePath")
    def icon_theme_path(self) -> DBusStr:
        return ""

    @dbus_property(access=PropertyAccess.READ, name="IconName")
    def icon_name(self) -> DBusStr:
        return ""

    @dbus_property(access=PropertyAccess.READ, name="IconPixmap")
    def icon_pixmap(self) -> PixmapList:
        return self._pixmaps

    @dbus_property(access=PropertyAccess.READ, name="OverlayIconName")
    def overlay_icon_name(self) -> DBusStr:
        return ""

    @dbus_property(access=PropertyAccess.READ, name="OverlayIconPixmap")
    def overlay_icon_pixmap(self) -> PixmapList:
        return []

    @dbus_property(access=PropertyAccess.READ, name="AttentionIconName")
    def attention_icon_name(self) -> DBusStr:
        return ""

    @dbus_property(access=PropertyAccess.READ, name="AttentionIconPixmap")
    def attention_icon_pixmap(self) -> PixmapList:
        # burntray draws the alert into the icon itself, so the attention icon is the icon.
        return self._pixmaps

    @dbus_property(access=PropertyAccess.READ, name="AttentionMovieName")
    def attention_movie_name(self) -> DBusStr:
        return ""

    @dbus_property(access=PropertyAccess.READ, name="ToolTip")
    def tool_tip(self) -> ToolTip:
        return ["", self._pixmaps, self._tooltip_title, self._tooltip_text]

    @dbus_property(access=PropertyAccess.READ, name="ItemIsMenu")
    def item_is_menu(self) -> DBusBool:
        return self._item_is_menu

    @dbus_property(access=PropertyAccess.READ, name="Menu")
    def menu(self) -> DBusObjectPath:
        return MENU_PATH

    # -- methods ---------------------------------------------------------------------------

    @dbus_method(name="Activate")
    def activate(self, x: DBusInt32, y: DBusInt32) -> None:
        self._on_activate()

    @dbus_method(name="SecondaryActivate")
    def secondary_activate(self, x: DBusInt32, y: DBusInt32) -> None:
        self._on_secondary_activate()

    @dbus_method(name="ContextMenu")
    def context_menu(self, x: DBusInt32, y: DBusInt32) -> None:
        # Panels that speak dbusmenu draw the menu themselves; one that asks the item to draw it
        # gets nothing, because this backend has no toolkit to draw with.
        log.info("ContextMenu at (%d, %d) ignored: the panel should show the dbusmenu menu", x, y)

    @dbus_method(name="Scroll")
    def scroll(self, delta: DBusInt32, orientation: DBusStr) -> None:
        return None

    # -- signals ---------------------------------------------------------------------------

    @dbus_signal(name="NewTitle")
    def new_title(self) -> None:
        return None

    @dbus_signal(name="NewIcon")
    def new_icon(self) -> None:
        return None

    @dbus_signal(name="NewAttentionIcon")
    def new_attention_icon(self) -> None:
        return None

    @dbus_signal(name="NewOverlayIcon")
    def new_overlay_icon(self) -> None:
        return None

    @dbus_signal(name="NewToolTip")
    def new_tool_tip(self) -> None:
        return None

    @dbus_signal(name="NewStatus")
    def new_status(self, status: str) -> DBusStr:
        return status


def _variant(value: PropValue) -> Variant:
    if isinstance(value, bool):
        return Variant("b", value)
    if isinstance(value, int):
        return Variant("i", value)
    return Variant("s", value)


def _wire_props(props: dict[str, PropValue]) -> dict[str, Variant]:
    return {name: _variant(value) for name, value in props.items()}


class DbusMenu(ServiceInterface):
    """com.canonical.dbusmenu version 3 over a :class:`MenuLayout` snapshot."""

    def __init__(
        self,
        layout: MenuLayout,
        on_clicked: Callable[[MenuNode], None],
        on_about_to_show: Callback,
    ) -> None:
        super().__init__("com.canonical.dbusmenu")
        self._layout = layout
        self._revision = 1
        self._on_clicked = on_clicked
        self._on_about_to_show = on_about_to_show

    @property
    def revision(self) -> int:
        return self._revision

    def set_layout(self, layout: MenuLayout) -> None:
        change = diff_layouts(self._layout, layout)
        self._layout = layout
        if not change.any:
            return
        self._revision += 1
        # Properties first: a panel keeps the entries it knows across a LayoutUpdated and only
        # this signal refreshes them; the layout then adds and drops entries.
        if change.updated or change.removed:
            self.items_properties_updated(
                [[item_id, _wire_props(props)] for item_id, props in change.updated],
                [[item_id, names] for item_id, names in change.removed],
            )
        if change.shape_changed:
            self.layout_updated(self._revision, ROOT_ID)

    def _node(self, item_id: int) -> MenuNode:
        node = self._layout.node(item_id)
        if node is None:
            raise DBusError(ErrorType.INVALID_ARGS, f"no menu item with id {item_id}")
        return node

    def _wire_node(self, node: MenuNode, depth: int, names: list[str]) -> list[Any]:
        children: list[Variant] = []
        if depth != 0:
            children = [
                Variant("(ia{sv}av)", self._wire_node(child, depth - 1, names))
                for child in node.children
            ]
        return [node.id, _wire_props(select_props(node.props, names)), children]

    # -- properties ------------------------------------------------------------------------

    @dbus_property(access=PropertyAccess.READ, name="Version")
    def version(self) -> DBusUInt32:
        return DBUSMENU_VERSION

    @dbus_property(access=PropertyAccess.READ, name="TextDirection")
    def text_direction(self) -> DBusStr:
        return "ltr"

    @dbus_property(access=PropertyAccess.READ, name="Status")
    def status(self) -> DBusStr:
        return "normal"

    @dbus_property(access=PropertyAccess.READ, name="IconThemePath")
    def icon_theme_path(self) -> StrList:
        return []

    # -- methods ---------------------------------------------------------------------------

    @dbus_method(name="GetLayout")
    def get_layout(
        self, parent_id: DBusInt32, recursion_depth: DBusInt32, property_names: StrList
    ) -> LayoutReply:
        node = self._node(parent_id)
        return [self._revision, self._wire_node(node, recursion_depth, property_names)]

    @dbus_method(name="GetGroupProperties")
    def get_group_properties(self, ids: IntList, property_names: StrList) -> GroupProps:
        # An empty id list means every item (libdbusmenu's behaviour, which panels rely on).
        wanted: Iterable[int] = ids or sorted(self._layout.by_id)
        reply: list[list[Any]] = []
        for item_id in wanted:
            node = self._layout.node(item_id)
            if node is not None:
                reply.append([item_id, _wire_props(select_props(node.props, property_names))])
        return reply

    @dbus_method(name="GetProperty")
    def get_property(self, item_id: DBusInt32, name: DBusStr) -> DBusVariant:
        props = self._node(item_id).props
        if name not in props:
            raise DBusError(ErrorType.INVALID_ARGS, f"menu item {item_id} has no property {name}")
        return _variant(props[name])

    @dbus_method(name="Event")
    def event(
        self, item_id: DBusInt32, event_id: DBusStr, data: DBusVariant, timestamp: DBusUInt32
    ) -> None:
        self._dispatch(self._node(item_id), event_id)

    @dbus_method(name="EventGroup")
    def event_group(self, events: EventList) -> IntList:
        id_errors: list[int] = []
        for item_id, event_id, _data, _timestamp in events:
            node = self._layout.node(item_id)
            if node is None:
                id_errors.append(item_id)
            else:
                self._dispatch(node, event_id)
        if events and len(id_errors) == len(events):
            raise DBusError(ErrorType.INVALID_ARGS, f"no menu items with ids {id_errors}")
        return id_errors

    @dbus_method(name="AboutToShow")
    def about_to_show(self, item_id: DBusInt32) -> DBusBool:
        self._node(item_id)
        # The menu is re-evaluated off the bus thread; if it changed, the usual signals follow.
        self._on_about_to_show()
        return False

    @dbus_method(name="AboutToShowGroup")
    def about_to_show_group(self, ids: IntList) -> AboutToShowGroupReply:
        id_errors = [item_id for item_id in ids if self._layout.node(item_id) is None]
        self._on_about_to_show()
        return [[], id_errors]

    def _dispatch(self, node: MenuNode, event_id: str) -> None:
        if event_id != "clicked":
            return  # "hovered", "opened", "closed" carry nothing burntray acts on.
        if node.item is None or not node.props.get("enabled", True):
            return
        self._on_clicked(node)

    # -- signals ---------------------------------------------------------------------------

    @dbus_signal(name="ItemsPropertiesUpdated")
    def items_properties_updated(
        self, updated: list[list[Any]], removed: list[list[Any]]
    ) -> PropsUpdatedSignal:
        return [updated, removed]

    @dbus_signal(name="LayoutUpdated")
    def layout_updated(self, revision: int, parent: int) -> LayoutUpdatedSignal:
        return [revision, parent]

    @dbus_signal(name="ItemActivationRequested")
    def item_activation_requested(self, item_id: int, timestamp: int) -> ActivationSignal:
        return [item_id, timestamp]
