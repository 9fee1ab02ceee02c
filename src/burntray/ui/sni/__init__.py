"""Native Linux tray backend: StatusNotifierItem + com.canonical.dbusmenu over dbus-fast.

``sni_available()`` is cheap and imports neither pystray nor the icon. ``SniIcon`` is loaded on
first use, because defining it imports pystray's base classes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from burntray.ui.sni.probe import sni_available

if TYPE_CHECKING:
    from burntray.ui.sni.icon import SniError, SniIcon

__all__ = ["SniError", "SniIcon", "sni_available"]


def __getattr__(name: str) -> Any:
    if name in ("SniIcon", "SniError"):
        from burntray.ui.sni import icon  # noqa: PLC0415 (defining SniIcon imports pystray)

        return getattr(icon, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
