"""SniIcon: a pystray Icon that is a StatusNotifierItem with a dbusmenu menu, in pure Python.

Threads: the bus thread runs an asyncio loop that owns the D-Bus connection and the exported
objects; nothing else touches them. Public setters (icon, title, update_menu, set_attention,
notify) run on the caller's thread, turn what they were given into immutable values (pixmaps,
text, a :class:`MenuLayout`) and hand them to the bus thread with ``call_soon_threadsafe``.
Menu callbacks and the default action run on one action thread, in click order, so a slow
callback never stalls the bus and a callback may call any icon method.

Long, but one job: the one class that is a pystray Icon over D-Bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dbus_fast import DBusError, Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from burntray.lazylog import get_logger
from burntray.runtime.session import wait_for_stop
from burntray.ui.sni.menu_layout import MenuLayout, MenuNode, build_layout
from burntray.ui.sni.pixmap import Pixmap, image_pixmaps
from burntray.ui.sni.probe import WATCHER_NAME
from burntray.ui.sni.pystray_loader import load_pystray
from burntray.ui.sni.service import ITEM_PATH, MENU_PATH, DbusMenu, StatusNotifierItem

load_pystray()  # with its dummy backend: no GTK or Xlib for the SNI path (see the loader)
from pystray._base import Icon as PystrayIcon  # noqa: E402

log = get_logger(__name__)

WATCHER_PATH = "/StatusNotifierWatcher"
NOTIFICATIONS_NAME = "org.freedesktop.Notifications"
NOTIFICATIONS_PATH = "/org/freedesktop/Notifications"
_instance_numbers = itertools.count(1)


class SniError(RuntimeError):
    """The StatusNotifierItem could not be put on the session bus."""


class SniIcon(PystrayIcon):  # type: ignore[misc]
    """pystray's Icon API over org.kde.StatusNotifierItem + com.canonical.dbusmenu.

    Extra keyword arguments (pystray's platform-prefix convention): ``sni_bus_address`` (default:
    ``$DBUS_SESSION_BUS_ADDRESS``).
    """

    HAS_DEFAULT_ACTION = True
    HAS_MENU = True
    HAS_MENU_RADIO = True
    HAS_NOTIFICATION = True
    # Bound on how long stop() waits for the item to leave the bus.
    STOP_TIMEOUT_S = 5.0
    START_TIMEOUT_S = 5.0

    def __init__(
        self, name: str, icon: Any = None, title: str | None = None, menu: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(name, icon=icon, title=title, menu=menu, **kwargs)
        self._options = {
            key.removeprefix("sni_"): value
            for key, value in kwargs.items()
            if key.startswith("sni_")
        }
        self._bus_address: str | None = self._options.get("bus_address") or None
        self.bus_name = f"org.kde.StatusNotifierItem-{os.getpid()}-{next(_instance_numbers)}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._bus_thread: threading.Thread | None = None
        self._started = threading.Event()
        self._finished = threading.Event()
        self._start_error: BaseException | None = None
        self._actions = ThreadPoolExecutor(1, thread_name_prefix="burntray-sni-action")
        self._pixmap_cache_lock = threading.Lock()
        self._pixmap_cache: tuple[tuple[str, tuple[int, int], bytes], list[Pixmap]] | None = None
        # Owned by the bus thread from here on.
        self._bus: Any = None
        self._item: Any = None
        self._dbusmenu: Any = None
        self._want_visible = False
        self._owns_name = False
        self._visibility_lock: asyncio.Lock | None = None
        # Notify calls wait for the previous reply, so each one can replace the last by its id.
        self._notification_lock: asyncio.Lock | None = None
        self._notification_id = 0

    # -- pystray API --------------------------------------------------------------------------

    def run(self, setup: Callable[[Any], None] | None = None) -> None:
        # Connect before pystray starts the setup thread, so a missing bus raises here and
        # leaves no thread waiting for a ready signal that never comes.
        self._start_bus()
        super().run(setup)

    def run_detached(self, setup: Callable[[Any], None] | None = None) -> None:
        self._start_bus()
        super().run_detached(setup)

    def set_attention(self, on: bool) -> None:
        """Status NeedsAttention (panels highlight the item) while ``on``, else Active."""
        self._post(self._apply_status, "NeedsAttention" if on else "Active")

    def _run(self) -> None:
        self._mark_ready()
        wait_for_stop(self._finished)  # pystray's run: the main thread, where handlers run

    def _run_detached(self) -> None:
        self._mark_ready()

    def _show(self) -> None:
        # pystray marks the icon visible only after _show returns, but registration runs on the
        # bus thread and a panel may already show the item: icon/title set from then on must
        # reach the panel, so the flag is raised first.
        self._visible = True
        self._post(self._apply_visible, True)

    def _hide(self) -> None:
        self._visible = False
        self._post(self._apply_visible, False)

    def _update_icon(self) -> None:
        if self._icon:
            self._post(self._apply_pixmaps, self._pixmaps_for(self._icon))
        self._icon_valid = True

    def _pixmaps_for(self, image: Any) -> list[Pixmap]:
        """Scaled pixmaps, reused while the pixels are the same: an app that sets an unchanged
        icon every poll then costs a byte comparison, not six resamplings."""
        key = (image.mode, image.size, image.tobytes())
        with self._pixmap_cache_lock:
            if self._pixmap_cache is not None and self._pixmap_cache[0] == key:
                return self._pixmap_cache[1]
        pixmaps = image_pixmaps(image)
        with self._pixmap_cache_lock:
            self._pixmap_cache = (key, pixmaps)
        return pixmaps

    def _update_title(self) -> None:
        self._post(self._apply_title, self._title)

    def _update_menu(self) -> None:
        self._post(self._apply_layout, self._evaluate_menu())

    def _notify(self, message: str, title: str | None = None) -> None:
        summary = title if title is not None else self._title.partition("\n")[0]
        self._post(lambda: self._spawn(self._send_notification(summary, message)))

    def _remove_notification(self) -> None:
        self._post(lambda: self._spawn(self._close_notification()))

    def _stop(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            self._post(lambda: self._spawn(self._shutdown()))
            on_bus_thread = threading.current_thread() is self._bus_thread
            if not on_bus_thread and not self._finished.wait(self.STOP_TIMEOUT_S):
                log.warning("the D-Bus thread did not stop within %s s", self.STOP_TIMEOUT_S)
        self._actions.shutdown(wait=False)

    # -- caller-thread helpers ----------------------------------------------------------------

    def _evaluate_menu(self) -> MenuLayout:
        return build_layout(self._menu if self._menu else None)

    def _post(self, function: Callable[..., Any], *args: Any) -> None:
        """Run ``function(*args)`` on the bus thread; a no-op before run() and after stop()."""
        loop = self._loop
        if loop is None or self._finished.is_set():
            return
        # RuntimeError: the loop closed between the check and the call; the icon has stopped.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(function, *args)

    def _run_action(self, action: Callable[[], None]) -> None:
        def guarded() -> None:
            try:
                action()
            except Exception:
                log.exception("tray action failed")

        # RuntimeError: the icon is stopping, and clicks that arrive now are dropped.
        with contextlib.suppress(RuntimeError):
            self._actions.submit(guarded)

    def _start_bus(self) -> None:
        if self._bus_thread is not None:
            return
        initial_pixmaps = self._pixmaps_for(self._icon) if self._icon else []
        initial = (initial_pixmaps, self._title, self._evaluate_menu())
        self._loop = asyncio.new_event_loop()
        self._bus_thread = threading.Thread(
            target=self._bus_main, args=(initial,), name="burntray-sni-bus", daemon=True
        )
        self._bus_thread.start()
        if not self._started.wait(self.START_TIMEOUT_S):
            raise SniError(f"no session bus connection within {self.START_TIMEOUT_S} s")
        if self._start_error is not None:
            raise SniError(f"cannot put the tray item on the session bus: {self._start_error}")

    # -- bus thread ---------------------------------------------------------------------------

    def _bus_main(self, initial: tuple[list[Pixmap], str, MenuLayout]) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve(*initial))
        except Exception:
            log.exception("the StatusNotifierItem bus connection failed")
        finally:
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()
            self._started.set()
            self._finished.set()

    async def _serve(self, pixmaps: list[Pixmap], title: str, layout: MenuLayout) -> None:
        try:
            bus = await MessageBus(bus_address=self._bus_address).connect()
            self._bus = bus
            self._visibility_lock = asyncio.Lock()
            self._notification_lock = asyncio.Lock()
            self._item = StatusNotifierItem(
                self.name,
                on_activate=lambda: self._run_action(self),
                on_secondary_activate=lambda: self._run_action(self),
            )
            self._dbusmenu = DbusMenu(
                layout,
                on_clicked=self._on_clicked,
                on_about_to_show=lambda: self._run_action(self.update_menu),
            )
            self._apply_pixmaps(pixmaps)
            self._apply_title(title)
            self._apply_layout(layout)
            bus.export(ITEM_PATH, self._item)
            bus.export(MENU_PATH, self._dbusmenu)
            bus.add_message_handler(self._on_bus_message)
            await bus.call(
                Message(
                    destination="org.freedesktop.DBus",
                    path="/org/freedesktop/DBus",
                    interface="org.freedesktop.DBus",
                    member="AddMatch",
                    signature="s",
                    body=[
                        "type='signal',sender='org.freedesktop.DBus',"
                        "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
                        f"arg0='{WATCHER_NAME}'"
                    ],
                )
            )
        except Exception as error:
            self._start_error = error
            if self._bus is not None:
                self._bus.disconnect()
            return
        self._started.set()
        try:
            await bus.wait_for_disconnect()  # type: ignore[no-untyped-call]
        except Exception as error:
            log.warning("session bus connection lost: %s", error)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        task.add_done_callback(_log_task_failure)

    def _on_clicked(self, node: MenuNode) -> None:
        item = node.item
        self._run_action(self._handler(item))

    def _on_bus_message(self, message: Any) -> bool:
        if (
            message.member == "NameOwnerChanged"
            and message.interface == "org.freedesktop.DBus"
            and message.body
            and message.body[0] == WATCHER_NAME
        ):
            new_owner = message.body[2]
            if new_owner and self._want_visible:
                log.info("a StatusNotifierWatcher appeared (%s); registering again", new_owner)
                self._spawn(self._register())
        return False  # let dbus-fast go on handling the message

    def _apply_pixmaps(self, pixmaps: list[Pixmap]) -> None:
        if self._item is not None:
            self._item.set_pixmaps(pixmaps)

    def _apply_title(self, title: str) -> None:
        if self._item is not None:
            self._item.set_title(title)

    def _apply_status(self, status: str) -> None:
        if self._item is not None:
            self._item.set_status(status)

    def _apply_layout(self, layout: MenuLayout) -> None:
        if self._item is not None:
            # With a default item a left click runs it (Activate); without, it opens the menu.
            self._item.set_item_is_menu(layout.default_item is None)
            self._dbusmenu.set_layout(layout)

    def _apply_visible(self, visible: bool) -> None:
        self._want_visible = visible
        self._spawn(self._register() if visible else self._unregister())

    async def _register(self) -> None:
        assert self._visibility_lock is not None
        async with self._visibility_lock:
            if not self._want_visible:
                return
            if not self._owns_name:
                await self._bus.request_name(self.bus_name)
                self._owns_name = True
            reply = await self._bus.call(
                Message(
                    destination=WATCHER_NAME,
                    path=WATCHER_PATH,
                    interface=WATCHER_NAME,
                    member="RegisterStatusNotifierItem",
                    signature="s",
                    body=[self.bus_name],
                )
            )
            if reply.message_type == MessageType.ERROR:
                error = DBusError._from_message(reply)
                log.info("not registered yet (%s: %s); waiting for a watcher", error.type, error)
            else:
                log.info("registered %s with the StatusNotifierWatcher", self.bus_name)

    async def _unregister(self) -> None:
        # SNI has no Unregister call: a watcher forgets an item when its bus name goes away.
        assert self._visibility_lock is not None
        async with self._visibility_lock:
            if self._owns_name and not self._want_visible:
                await self._bus.release_name(self.bus_name)
                self._owns_name = False

    async def _shutdown(self) -> None:
        self._want_visible = False
        try:
            await asyncio.wait_for(self._unregister(), self.STOP_TIMEOUT_S / 2)
        finally:
            self._bus.disconnect()

    async def _send_notification(self, summary: str, body: str) -> None:
        assert self._notification_lock is not None
        async with self._notification_lock:
            await self._send_notification_now(summary, body)

    async def _send_notification_now(self, summary: str, body: str) -> None:
        reply = await self._bus.call(
            Message(
                destination=NOTIFICATIONS_NAME,
                path=NOTIFICATIONS_PATH,
                interface=NOTIFICATIONS_NAME,
                member="Notify",
                signature="susssasa{sv}i",
                body=[
                    self.name,
                    self._notification_id,  # replace our previous one instead of stacking
                    "",
                    summary,
                    body,
                    [],
                    {"urgency": Variant("y", 1)},
                    -1,
                ],
            )
        )
        if reply.message_type == MessageType.ERROR:
            log.warning("notification not shown: %s %s", reply.error_name, reply.body)
            return
        self._notification_id = reply.body[0]

    async def _close_notification(self) -> None:
        assert self._notification_lock is not None
        async with self._notification_lock:
            if not self._notification_id:
                return
            notification_id, self._notification_id = self._notification_id, 0
            await self._bus.call(
                Message(
                    destination=NOTIFICATIONS_NAME,
                    path=NOTIFICATIONS_PATH,
                    interface=NOTIFICATIONS_NAME,
                    member="CloseNotification",
                    signature="u",
                    body=[notification_id],
                )
            )


def _log_task_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("tray D-Bus task failed: %s", task.exception())
