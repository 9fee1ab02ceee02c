"""The plan-window alerts at run time: the pure detector (``model.limit_alerts``) fed each
published Snapshot's ``limits``, its state kept in burntray's history (so a restart never tells
a window's threshold twice), each alert logged and handed to the notifier.

It runs inside the alert engine (``runtime.alerting``) on the monitor thread, so the tray, the
terminal view and ``serve`` all get it, under the same notifications switch and notifier (the
demo's notifier labels every title DEMO).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from msgspec.structs import asdict

from burntray.lazylog import get_logger
from burntray.model.limit_alerts import (
    DEFAULT_THRESHOLDS,
    LimitAlertConfig,
    WindowAlertState,
    evaluate_limits,
)
from burntray.model.timefmt import parse_duration_ns
from burntray.store.limits import load_alert_state, save_alert_state

if TYPE_CHECKING:
    from burntray.config import Settings
    from burntray.model.snapshot import Snapshot
    from burntray.runtime.alerting import AlertNotifier
    from burntray.store.history import HistoryStore

log = get_logger(__name__)

ALERT_KIND = "limit"  # alert_log's kind for every plan-window alert (its level says which)


def limit_alert_config(settings: Settings) -> LimitAlertConfig:
    chosen = settings.alert_limit_thresholds
    per_window = dict(chosen) if isinstance(chosen, Mapping) else {}
    return LimitAlertConfig(
        thresholds=DEFAULT_THRESHOLDS if per_window else tuple(chosen),  # type: ignore[arg-type]
        per_window=per_window,
        pace=settings.alert_limit_pace,
        reset=settings.alert_limit_reset,
        cooldown_ns=parse_duration_ns(settings.alert_cooldown),
    )


def states_from_json(text: str | None) -> dict[str, WindowAlertState]:
    """Decode stored states; anything unreadable is a fresh start (logged), never a crash."""
    if not text:
        return {}
    try:
        raw = json.loads(text)
    except ValueError:  # not JSON (json.JSONDecodeError), or not text
        log.warning("plan-limit alert state unreadable, starting fresh: %r", text[:200])
        return {}
    out: dict[str, WindowAlertState] = {}
    if not isinstance(raw, dict):
        return out
    names = set(WindowAlertState.__struct_fields__)
    for key, fields in raw.items():
        if isinstance(key, str) and isinstance(fields, dict):
            try:
                kept = {k: v for k, v in fields.items() if k in names and _fits(k, v)}
                out[key] = WindowAlertState(**kept)
            except TypeError:
                continue
    return out


def _fits(name: str, value: Any) -> bool:
    if name == "pace_told":
        return isinstance(value, bool)
    if name in ("used_percent", "told_percent"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def states_to_json(states: dict[str, WindowAlertState]) -> str:
    # the stdlib's json: a few small states, written as they always were
    return json.dumps({k: asdict(v) for k, v in states.items()}, separators=(",", ":"))


class LimitAlertEngine:
    """Called with every published Snapshot (monitor thread)."""

    def __init__(
        self, settings: Settings, history: HistoryStore | None, notifier: AlertNotifier | None
    ) -> None:
        self._lock = threading.Lock()
        self._settings = settings
        self._config = limit_alert_config(settings)
        self._history = history
        self.notifier = notifier
        self._states: dict[str, dict[str, WindowAlertState]] = {}

    def update_settings(self, settings: Settings) -> None:
        with self._lock:
            self._settings = settings
            self._config = limit_alert_config(settings)

    def _state_key(self, source: str) -> str:
        return f"{source}#limits"

    def _load(self, source: str) -> dict[str, WindowAlertState]:
        states = self._states.get(source)
        if states is None:
            text = None
            if self._history is not None:
                try:
                    text = load_alert_state(self._history, self._state_key(source))
                except sqlite3.Error:
                    log.exception("cannot read plan-limit alert state for %s", source)
            states = self._states[source] = states_from_json(text)
        return states

    def __call__(self, snapshot: Snapshot) -> None:
        if not snapshot.limits:
            return
        with self._lock:
            settings, config = self._settings, self._config
        name = snapshot.source
        before = self._load(name)
        after, fired = evaluate_limits(config, before, snapshot.limits, snapshot.as_of_ns, name)
        self._states[name] = after
        told = [a for a in fired if a.notify]
        if after != before and self._history is not None:
            rows = [(a.ts_ns, name, ALERT_KIND, a.level, a.message) for a in told]
            try:
                save_alert_state(self._history, self._state_key(name), states_to_json(after), rows)
            except sqlite3.Error:
                log.exception("cannot save plan-limit alert state for %s", name)
        for alert in fired:
            if not alert.notify:
                log.info("alert (%s) %s: kept quiet (cooldown)", name, alert.title)
                continue
            log.info("alert (%s) %s: %s", name, alert.title, alert.message)
            if settings.notifications and self.notifier is not None:
                try:
                    self.notifier.notify(alert.title, alert.message)
                except Exception:
                    log.exception("notifier failed")


__all__ = ["LimitAlertEngine", "limit_alert_config", "states_from_json", "states_to_json"]
