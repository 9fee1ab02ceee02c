"""``get_logger``: a module's logger, with ``logging`` imported at the first message.

``logging`` (with ``traceback``, ``linecache``, ``tokenize``, ``string`` and ``threading``) costs
~4 ms to import, and ``burntray status --format tmux``, which tmux runs every few seconds, logs
nothing when all is well. So burntray's modules take their logger from ``get_logger``: a stand-in
that fetches ``logging.getLogger(name)`` the first time it is used, and every attribute from it
(so records name the caller's line, as a plain logger's do).

A one-shot command's console logging is set up with ``when_used``: at once if ``logging`` is
loaded already, else just before the first message of any burntray logger. Every burntray module
logs through ``get_logger``, so no message can come before the set-up.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import logging

_pending: list[Callable[[], None]] = []


class _LazyLogger:
    __slots__ = ("_logger", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._logger: logging.Logger | None = None

    def __getattr__(self, attr: str) -> Any:
        logger = self._logger
        if logger is None:
            import logging  # noqa: PLC0415 - the point of this class

            _run_pending()
            logger = self._logger = logging.getLogger(self._name)
        return getattr(logger, attr)

    def __repr__(self) -> str:
        return f"<logger {self._name} (imported on first use)>"


def get_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)``, looked up on first use (see the module doc)."""
    return cast("logging.Logger", _LazyLogger(name))


def when_used(setup: Callable[[], None]) -> None:
    """Run ``setup`` (it configures logging) now if ``logging`` is loaded, else just before
    the first message of a burntray logger; never when nothing is logged."""
    if "logging" in sys.modules:
        setup()
    else:
        _pending.append(setup)


def cancel_pending() -> None:
    """Forget the set-ups ``when_used`` is holding: a command that sets up its own logging
    (``serve``'s log file) must not have it replaced by the console set-up at the first
    message."""
    _pending.clear()


def _run_pending() -> None:
    while _pending:
        try:
            setup = _pending.pop(0)
        except IndexError:  # another thread's first message took it
            break
        setup()
