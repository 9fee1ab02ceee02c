"""pystray's xorg icon made safe to drive from another thread (every X call on its loop
thread, woken over a private connection), and the xorg title with its menu hint.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from burntray.lazylog import get_logger
from burntray.ui.icon import compose_on_background

log = get_logger(__name__)


XORG_CALL_TIMEOUT_S = 5.0


def serialised_xorg_icon() -> Any:
    """pystray's xorg icon (0.19.5), made safe to drive from the dispatcher thread.

    pystray runs icon/title/stop on its loop thread by sending itself a ClientMessage, but it
    sends it over the loop's own X connection from the calling thread: two threads on one
    python-xlib connection, which can lose the loop's wake-up (a hung update or a hung quit).
    Here the wake-up travels over a private second connection, so only the loop thread ever
    uses the icon's connection; each call waits for its own answer, at most 5 s. The class also
    asks X for button presses, which pystray forgets, so a left click runs the default item, and
    draws the icon unstretched over the tray's own background (pystray stretches it over black).
    """
    import queue  # noqa: PLC0415

    from pystray import _xorg  # noqa: PLC0415
    from Xlib import X  # noqa: PLC0415
    from Xlib.display import Display  # noqa: PLC0415
    from Xlib.protocol import event as xevent  # noqa: PLC0415

    class SerialisedXorgIcon(_xorg.Icon):  # type: ignore[misc]
        def _create_window(self) -> Any:
            window = super()._create_window()
            window.change_attributes(
                event_mask=X.ExposureMask | X.StructureNotifyMask | X.ButtonPressMask,
                # The tray's background shows through where the window is not drawn; read back
                # below to blend the icon's transparent parts over it.
                background_pixmap=X.ParentRelative,
            )
            return window

        def _assert_icon_data(self, width: int, height: int) -> None:
            # Before the window is shown the background cannot be read: drawn over grey then,
            # and drawn again at the next expose.
            drawn: Any = getattr(self, "_icon_data", None)
            if drawn and drawn.size == (width, height) and getattr(self, "_icon_on_tray", False):
                return
            background = self._tray_background(width, height)
            self._icon_on_tray = background is not None
            drawn = compose_on_background(self._icon, (width, height), background)
            drawn.tostring = drawn.tobytes  # what python-xlib's put_pil_image calls
            self._icon_data = drawn

        def _tray_background(self, width: int, height: int) -> Any:
            """What the tray paints behind the icon: the window cleared to its parent's
            background and read back (None when the server cannot give it)."""
            from PIL import Image  # noqa: PLC0415

            try:
                self._window.clear_area(0, 0, width, height)
                reply = self._window.get_image(0, 0, width, height, X.ZPixmap, 0xFFFFFFFF)
                if reply.depth != 24 or len(reply.data) != width * height * 4:
                    return None
                return Image.frombytes("RGB", (width, height), reply.data, "raw", "BGRX")
            except Exception as exc:  # Xlib errors: draw over a neutral grey instead
                log.debug("xorg: tray background unreadable: %r", exc)
                return None

        def _rewrite_implementation(self, *methods: Callable[[], None]) -> None:
            self._wake_display = Display()
            self._wake_lock = threading.Lock()
            self._answers: queue.Queue[tuple[int, BaseException | None]] = queue.Queue()
            self._call_seq = 0
            handlers: dict[int, Callable[[], None]] = {}
            for original in methods:
                atom = self._display.intern_atom(f"_PYSTRAY_{original.__name__.upper()}")
                handlers[atom] = original
                setattr(self, original.__name__, self._via_loop(original, atom))

            def on_client_message(event: Any) -> None:  # on the loop thread
                handler = handlers.get(event.client_type)
                if handler is None:
                    return
                seq = event.data[1][1]
                try:
                    handler()
                except BaseException as exc:
                    self._answers.put((seq, exc))
                else:
                    self._answers.put((seq, None))

            self._message_handlers[X.ClientMessage] = on_client_message

        def _via_loop(self, original: Callable[[], None], atom: int) -> Callable[[], None]:
            def call() -> None:
                loop = getattr(self, "_thread", None)
                if loop is not None and loop.ident == threading.get_ident():
                    original()
                    return
                with self._wake_lock:
                    self._call_seq += 1
                    seq = self._call_seq
                    target = self._wake_display.create_resource_object("window", self._window.id)
                    message = xevent.ClientMessage(
                        window=target, client_type=atom, data=(32, (X.CurrentTime, seq, 0, 0, 0))
                    )
                    target.send_event(message, event_mask=X.NoEventMask)
                    self._wake_display.flush()
                    deadline = time.monotonic() + XORG_CALL_TIMEOUT_S
                    while True:
                        try:
                            answer_seq, error = self._answers.get(
                                timeout=max(0.0, deadline - time.monotonic())
                            )
                        except queue.Empty:
                            log.error("xorg: %s got no answer in time", original.__name__)
                            return
                        if answer_seq == seq:
                            break  # older answers belong to calls that timed out
                if error is not None:
                    raise error

            return call

        def close_wake_connection(self) -> None:
            self._wake_display.close()

    return SerialisedXorgIcon


# pystray's xorg icon has no menu: its tooltip says what a click does and how to get the menu.
XORG_MENU_HINT = (
    "No menu on this tray: a left click opens the report. For the menu, install "
    "burntray[gtk] (PyGObject) or use a StatusNotifierItem panel."
)


def title_for(backend: str, title: str) -> str:
    """pystray's xorg backend sets the title as a Latin-1 WM_NAME: keep it encodable; it also
    gets the menu hint (xorg titles have no length limit, so the hint never cuts a figure)."""
    if backend != "xorg":
        return title
    title = f"{title}\n{XORG_MENU_HINT}"
    return title.replace("…", "...").encode("latin-1", "replace").decode("latin-1")
