"""Load pystray for its base classes without letting it load a GUI toolkit.

``import pystray`` picks a backend at import time: with PyGObject installed that loads GTK (about
20 MB more resident memory), and with no ``$DISPLAY`` and no PyGObject (a pure Wayland session)
it raises ``DisplayNameError``. The SNI backend needs only ``pystray._base`` (Icon, Menu,
MenuItem), so the first import goes through pystray's dummy backend. An app that then wants
pystray's own platform backend after all (no StatusNotifierWatcher) asks
:func:`platform_icon_class`, which loads it directly.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType
from typing import Any


def load_pystray() -> ModuleType:
    """The ``pystray`` package; its ``Menu``/``MenuItem`` are the same whichever backend."""
    if "pystray" not in sys.modules:
        previous = os.environ.get("PYSTRAY_BACKEND")
        os.environ["PYSTRAY_BACKEND"] = "dummy"
        try:
            importlib.import_module("pystray")
        finally:
            if previous is None:
                del os.environ["PYSTRAY_BACKEND"]
            else:
                os.environ["PYSTRAY_BACKEND"] = previous
    return sys.modules["pystray"]


def pystray_base() -> ModuleType:
    """``pystray._base``, where the backend-independent Icon, Menu and MenuItem live."""
    load_pystray()
    return importlib.import_module("pystray._base")


def platform_icon_class() -> Any:
    """The Icon class pystray itself would choose (``$PYSTRAY_BACKEND``, else appindicator, gtk,
    xorg on Linux), even when pystray was first imported with its dummy backend.

    Raises ImportError (or the backend's own error, e.g. Xlib's DisplayNameError) like
    ``import pystray`` would.
    """
    load_pystray()
    chosen = os.environ.get("PYSTRAY_BACKEND")
    if chosen:
        candidates = [chosen]
    elif sys.platform == "darwin":
        candidates = ["darwin"]
    elif sys.platform == "win32":
        candidates = ["win32"]
    else:
        candidates = ["appindicator", "gtk", "xorg"]
    errors: list[str] = []
    for name in candidates:
        try:
            return importlib.import_module(f"pystray._{name}").Icon
        except ImportError as error:
            errors.append(f"{name}: {error}")
    raise ImportError("no pystray backend loads here: " + "; ".join(errors))
