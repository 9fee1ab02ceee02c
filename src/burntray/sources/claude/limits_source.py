"""The claude source with the plan's windows: what ``burntray statusline`` recorded.

Claude Code reports its plan's 5-hour and weekly windows only to its status line; each run of
``burntray statusline`` keeps the session's last report in burntray's own folder (see
``.statusline``). This source reads that folder beside the logs: ``plan_windows`` merges the
sessions' reports (the freshest wins, a passed reset resets: ``model.limits``), and every
Snapshot carries them in ``limits``. Until a record exists (a user who never installed the
status line) the record parser and the plan-window model are not even imported: every warm
``status`` pays for them otherwise. A new report wakes the monitor at once where inotify
watches the folder; elsewhere, and as a safety net, each poll compares the folder's listing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgspec.structs import replace

from burntray.model.snapshot import Snapshot
from burntray.sources.agent_logs.source import ClaudeSource
from burntray.sources.claude.records import SUFFIX, folder_signature

if TYPE_CHECKING:
    from burntray.io.watch import FolderWatcher
    from burntray.model.limits import PlanWindow
    from burntray.model.own_cost import OwnCost
    from burntray.sources.claude.observations import Observation


def _record_watcher(folder: Path, wake: Callable[[], None]) -> FolderWatcher:
    """A watch on the records' folder: any record written (atomically: a rename) wakes. Made
    only by a running tray (ctypes and inotify load then, not for ``status``)."""
    from burntray.io.watch import FolderWatcher  # noqa: PLC0415

    return FolderWatcher(folder, frozenset(), wake, suffixes=(SUFFIX,))


class ClaudeLimitsSource(ClaudeSource):
    """``ClaudeSource`` that also knows the plan's windows (``HasLimits``) and Claude Code's own
    cost per session (``HasOwnSessionCosts``)."""

    def __init__(self, *args: Any, limits_dir: Path, **kwargs: Any) -> None:
        self.limits_dir = limits_dir
        self._observations: list[Observation] = []
        self._signature: tuple[tuple[str, int, int], ...] | None = None
        self._record_watcher: FolderWatcher | None = None
        self._limits_wake: Callable[[], None] | None = None
        super().__init__(*args, **kwargs)

    def plan_windows(self, now_ns: int) -> tuple[PlanWindow, ...]:
        if self._signature is None:
            self._refresh_limits()
        if not self._observations:  # nothing recorded: no need to load the windows' model
            return ()
        from burntray.sources.claude.observations import plan_windows  # noqa: PLC0415

        return plan_windows(self._observations, now_ns)

    def own_costs(self, start_ns: int, end_ns: int) -> list[OwnCost]:
        """Claude Code's own cost of each session whose status line burntray recorded (its
        running total: the window does not cut it)."""
        if self._signature is None:
            self._refresh_limits()
        if not self._observations:
            return []
        from burntray.model.own_cost import STATUS_LINE, OwnCost  # noqa: PLC0415

        return [
            OwnCost(o.session_id, o.observed_ns, o.cost_usd, STATUS_LINE, per_request=False)
            for o in self._observations
            if o.cost_usd is not None
        ]

    def _refresh_limits(self) -> bool:
        """Read the records again when the folder's listing changed; True when it had."""
        signature = folder_signature(self.limits_dir)
        if signature == self._signature:
            return False
        self._signature = signature
        if not signature:  # no record (the status line never ran): the parser stays unloaded
            self._observations = []
            return True
        from burntray.sources.claude.observations import read_observations  # noqa: PLC0415

        self._observations = read_observations(self.limits_dir)
        return True

    def start(self, wake: Callable[[], None]) -> None:
        super().start(wake)
        self._limits_wake = wake
        self._watch_records()

    def _watch_records(self) -> None:
        if self._limits_wake is None or not self._watch:
            return
        if self._record_watcher is not None and self._record_watcher.active:
            return
        if self._record_watcher is not None:
            self._record_watcher.stop()
        watcher = _record_watcher(self.limits_dir, self._limits_wake)
        # not there yet (no status line ran): the next poll tries again
        self._record_watcher = watcher if watcher.start() else None

    def poll(self) -> bool:
        changed = super().poll()
        self._watch_records()
        return self._refresh_limits() or changed

    def snapshot(self, window_ns: int, now_ns: int | None = None) -> Snapshot:
        now = self._clock_ns() if now_ns is None else now_ns
        snap = super().snapshot(window_ns, now)
        windows = self.plan_windows(now)
        return replace(snap, limits=windows) if windows else snap

    def close(self) -> None:
        if self._record_watcher is not None:
            self._record_watcher.stop()
            self._record_watcher = None
        super().close()
