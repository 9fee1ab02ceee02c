"""The codex source's ``HasLimits`` half: the plan windows its log reader learns, kept in
burntray's history as they change (so a restart, or a one-shot ``status``, knows the last
observation before Codex reports again)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from burntray.lazylog import get_logger
from burntray.store.limits import latest_windows, record_windows

if TYPE_CHECKING:
    from burntray.model.limits import PlanWindow
    from burntray.sources.codex.limits import CodexLimits
    from burntray.store.history import HistoryStore
    from burntray.store.usage_events import UsageEvents

log = get_logger(__name__)


class PlanLimitsFromLog:
    """Mixed into a record source whose ``reader`` has ``limits`` (a ``CodexLimits``)."""

    name: str
    _events: UsageEvents | None
    _limits_seen = -1  # the limits' version when last kept

    @property
    def _limits(self) -> CodexLimits:
        return self.reader.limits  # type: ignore[attr-defined,no-any-return]

    def attach_history(self, history: HistoryStore) -> None:
        super().attach_history(history)  # type: ignore[misc]
        try:
            # the last observation of each window, with the start of its rise (the pace)
            self._limits.remember(latest_windows(history, (self.name,)))
        except Exception:  # an unreadable table: the logs still say what they say
            log.exception("%s: plan limits in the history unreadable", self.name)

    def poll(self) -> bool:
        changed: bool = super().poll()  # type: ignore[misc]
        limits = self._limits
        if limits.version == self._limits_seen:
            return changed
        self._limits_seen = limits.version
        new = limits.take_new()
        if new and self._events is not None:
            try:
                record_windows(self._events.history, new)
            except Exception:  # the figures stay live; only their record is missing
                log.exception("%s: plan limits not recorded", self.name)
        return True

    def plan_windows(self, now_ns: int) -> tuple[PlanWindow, ...]:
        return self._limits.plan_windows(now_ns)


__all__ = ["PlanLimitsFromLog"]
