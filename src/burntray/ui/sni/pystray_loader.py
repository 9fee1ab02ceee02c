"""Load pystray for its base classes even where pystray cannot load a display backend.

``import pystray`` picks a backend at import time and raises when none loads: with no ``$DISPLAY``
(a pure Wayland session) and no PyGObject, its xorg backend raises ``DisplayNameError``. This
backend needs only ``pystray._base`` (Icon, Menu, MenuItem), so when the normal import fails it
is retried with pystray's dummy backend, which imports nothing platform specific.
"""

from __future__ import annotations

import logging
import os
import sys
from types import ModuleType

log = logging.getLogger(__name__)


def _forget_pystray() -> None:
    for name in [n for n in sys.modules if n == "pystray" or n.startswith("pystray.")]:
        del sys.modules[name]


def load_pystray() -> ModuleType:
    """The ``pystray`` package (its ``Menu``/``MenuItem`` work either way)."""
    try:
        import pystray  # noqa: PLC0415
    except Exception as error:  # DisplayNameError, ImportError: whatever the backend raised
        log.info("pystray has no display backend here (%s); using its base classes only", error)
        _forget_pystray()
        previous = os.environ.get("PYSTRAY_BACKEND")
        os.environ["PYSTRAY_BACKEND"] = "dummy"
        try:
            import pystray  # noqa: PLC0415, F401
        finally:
            if previous is None:
                del os.environ["PYSTRAY_BACKEND"]
            else:
                os.environ["PYSTRAY_BACKEND"] = previous
    return sys.modules["pystray"]


def pystray_base() -> ModuleType:
    """``pystray._base``, where the backend-independent Icon, Menu and MenuItem live."""
    load_pystray()
    import pystray._base  # noqa: PLC0415, F401

    return sys.modules["pystray._base"]
