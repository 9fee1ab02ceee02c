"""Each source's health in ``burntray.log``: a line when it changes, never one per tick.

The monitor publishes a Snapshot every tick; a source that cannot be read stays in error for
hours. Logging the error each tick would bury everything else (and the throttle would keep only
a line per 10 minutes); logging nothing left a user with an empty log and a red icon. So the
log gets one line when a source goes into error, offline or stale (with the reason), one when
the reason changes, and one when it recovers. Under ``all`` each tool is followed on its own.
"""

from __future__ import annotations

import re

from burntray.lazylog import get_logger
from burntray.model.snapshot import Snapshot, SourceStatus

log = get_logger("burntray.sources")

_TROUBLE = ("error", "offline")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def _condition(status: SourceStatus) -> str:
    """The part of a status worth a line: ``error``, ``offline``, ``stale`` or ``ok``."""
    if status.state in _TROUBLE:
        return status.state
    if status.stale and status.state not in ("starting",):
        return "stale"
    return "ok"


class SourceStateLog:
    """Call with every published Snapshot; it logs what changed since the last one."""

    def __init__(self) -> None:
        # source -> (condition, its reason with numbers masked): a reason that only counts on
        # ("offline for 12 s", "3 bad lines") is the same reason, not a new line each tick
        self._last: dict[str, tuple[str, str]] = {}

    def __call__(self, snapshot: Snapshot) -> None:
        if snapshot.by_source:
            for fig in snapshot.by_source:
                self._observe(fig.source, fig.label, fig.status)
        else:
            self._observe(snapshot.source, snapshot.source, snapshot.status)

    def _observe(self, name: str, label: str, status: SourceStatus) -> None:
        if status.state == "starting":
            return  # the first read is pending: nothing is known yet
        condition = _condition(status)
        detail = status.detail if condition != "ok" else ""
        previous = self._last.get(name)
        self._last[name] = (condition, _NUMBER.sub("#", detail))
        if previous == self._last[name]:
            return
        if condition == "ok":
            if previous is not None and previous[0] != "ok":
                log.info("source %s: readable again (was %s)", label, previous[0])
            return
        reason = detail or "no reason given"
        if condition == "stale":
            log.warning("source %s: stale, showing the last good figures: %s", label, reason)
        else:
            log.warning("source %s: %s: %s", label, condition, reason)
