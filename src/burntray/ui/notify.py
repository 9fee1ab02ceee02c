"""Desktop notifications: desktop-notifier on a thread of its own, pystray's notify as fallback.

Why desktop-notifier: one maintained library covers Linux (``org.freedesktop.Notifications``
over D-Bus via dbus-fast, with the app name, icon and a "default" action for clicks), Windows
(WinRT toasts) and macOS (UNUserNotificationCenter, from a signed app bundle). It is asyncio
based and needs a running loop to hear clicks, so ``DesktopNotify`` owns one loop on one daemon
thread: ``notify`` only schedules and returns at once, so the monitor thread never waits on the
bus. Where desktop-notifier has no working backend (macOS outside an app bundle, old Windows) or
a send fails (no notification service on the bus), the injected ``fallback`` is used, e.g.
pystray's ``Icon.notify`` (the tray passes it; it is called on the notifier thread).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from burntray.lazylog import get_logger

log = get_logger(__name__)

APP_NAME = "burntray"
ICON_NAME = "burntray"  # the name the packages install the app icon under (hicolor theme)

Fallback = Callable[[str, str], None]  # (title, body)


class DesktopNotify:
    """Sends notifications without blocking the caller. Safe to call from any thread."""

    def __init__(
        self,
        app_name: str = APP_NAME,
        icon: Path | None = None,
        on_click: Callable[[], None] | None = None,
        fallback: Fallback | None = None,
        label: str = "",
    ) -> None:
        # ``label`` (the demo's "DEMO") leads every title and the app name, so a notification
        # from synthetic data is never read as real spend.
        self.label = label
        self.app_name = f"{app_name} {label}" if label else app_name
        self.icon = icon
        self.on_click = on_click
        self.fallback = fallback
        self.sent = 0  # delivered through desktop-notifier
        self.fallback_used = 0
        self.failed = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._notifier: Any = None  # desktop_notifier.DesktopNotifier, made on the loop thread
        self._native = True  # False once desktop-notifier turned out to have no real backend

    def notify(self, title: str, body: str) -> None:
        if self.label:
            title = f"{self.label} · {title}"
        loop = self._ensure_loop()
        asyncio.run_coroutine_threadsafe(self._send(title, body), loop)

    def close(self, timeout: float = 2.0) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=self._run, args=(loop,), name="burntray-notify", daemon=True
                )
                self._loop, self._thread = loop, thread
                thread.start()
            return self._loop

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.close()

    def _make_notifier(self) -> Any:
        from desktop_notifier import DesktopNotifier, Icon  # noqa: PLC0415 - slow import
        from desktop_notifier.backends.dummy import DummyNotificationCenter  # noqa: PLC0415
        from desktop_notifier.main import get_backend_class  # noqa: PLC0415

        if issubclass(get_backend_class(), DummyNotificationCenter):
            self._native = False  # this platform needs the fallback
            return None
        icon = Icon(path=self.icon) if self.icon is not None else Icon(name=ICON_NAME)
        return DesktopNotifier(app_name=self.app_name, app_icon=icon)

    async def _send(self, title: str, body: str) -> None:
        if self._notifier is None and self._native:
            try:
                self._notifier = self._make_notifier()
            except Exception as exc:  # e.g. a build without desktop-notifier: the fallback
                _expected_failure("desktop notifications unavailable", exc)
                self._native = False
        try:
            delivered = False
            if self._native:
                dispatched = threading.Event()
                await self._notifier.send(
                    title,
                    body,
                    on_dispatched=dispatched.set,
                    on_clicked=self._clicked if self.on_click is not None else None,
                )
                delivered = dispatched.is_set()  # desktop-notifier logs failures, never raises
            if delivered:
                self.sent += 1
                return
            if self.fallback is not None:
                self.fallback(title, body)
                self.fallback_used += 1
                return
            self.failed += 1
            log.warning("notification not delivered (no notification service): %s", title)
        except Exception as exc:  # no notification service, a refused call: one line
            self.failed += 1
            _expected_failure(f"notification failed: {title}", exc)

    def _clicked(self) -> None:
        try:
            if self.on_click is not None:
                self.on_click()
        except Exception:
            log.exception("notification click handler failed")


def _expected_failure(what: str, exc: BaseException) -> None:
    """A failure the desktop can cause (no service, no D-Bus): one warning line with the
    exception's type and text; the traceback only in a verbose (-v) log."""
    log.warning("%s (%s: %s)", what, type(exc).__name__, exc)
    log.debug("%s: traceback", what, exc_info=exc)


def pystray_fallback(icon: Any) -> Fallback:
    """``icon.notify`` as a fallback (pystray's argument order is message, title)."""

    def send(title: str, body: str) -> None:
        icon.notify(body, title)

    return send
