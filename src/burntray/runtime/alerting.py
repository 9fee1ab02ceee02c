"""The alert engine: measures, runs the pure detector, persists, and hands alerts on.

It is a ``Monitor.enrichers`` entry, so it runs on the monitor thread after every poll: it asks
the live source for the short window, the baseline hour and (when a budget is set) today, runs
``burntray.model.alerts.evaluate``, sets ``Snapshot.alert_level``/``alert_text``, saves the state
and logs fired alerts in the history DB (one transaction), and gives each alert to the notifier,
whose ``notify`` returns at once (delivery happens on the notifier's own thread).

The tray and the terminal view get it the same way: ``install_alerts(monitor, ctx, notifier)``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Protocol

from msgspec.structs import replace

from burntray.config import Settings
from burntray.lazylog import get_logger
from burntray.model.alerts import (
    BASELINE_NS,
    AlertConfig,
    AlertState,
    Evaluation,
    Reading,
    TopUsage,
    evaluate,
    window_label,
)
from burntray.model.snapshot import Snapshot
from burntray.model.timefmt import NS_PER_DAY, NS_PER_SECOND, format_rfc3339_ns, parse_duration_ns
from burntray.sources.base import Source

if TYPE_CHECKING:
    # The engine's own parts (sqlite3, the alert store, the plan windows' alerts) load when an
    # engine is built or a history is read: ``status --format json`` on a home without a history
    # evaluates the alerts with none of them.
    from burntray.app import AppContext
    from burntray.runtime.monitor import Monitor
    from burntray.store.alert_store import AlertStore
    from burntray.store.history import HistoryStore

log = get_logger(__name__)

TODAY_REFRESH_NS = 15 * NS_PER_SECOND  # today's spend moves slowly; re-measure this often
CHECKPOINT_NS = 60 * NS_PER_SECOND  # persist "still watching" at most this often
_MEASURED_STATES = ("ok", "empty")


class AlertNotifier(Protocol):
    def notify(self, title: str, body: str) -> None:
        """Hand over one notification; must return at once (deliver in the background)."""
        ...


def alert_config(settings: Settings) -> AlertConfig:
    return AlertConfig(
        spike_usd_per_hour=settings.alert_spike_usd_per_hour,
        spike_multiple=settings.alert_spike_multiple,
        short_window_ns=parse_duration_ns(settings.alert_short_window),
        floor_usd=settings.alert_floor_usd,
        hysteresis=settings.alert_hysteresis,
        cooldown_ns=parse_duration_ns(settings.alert_cooldown),
        daily_budget_usd=settings.alert_daily_budget_usd,
        rpm_threshold=settings.alert_rpm_threshold,
    )


def local_day(now_ns: int, tz: dt.tzinfo | None = None) -> tuple[str, int]:
    """The local date at ``now_ns`` and when that day began (ns); ``tz`` None = system zone."""
    moment = dt.datetime.fromtimestamp(now_ns / NS_PER_SECOND, tz).astimezone(tz)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment.date().isoformat(), int(midnight.timestamp()) * NS_PER_SECOND


def _top(snapshot: Snapshot) -> tuple[TopUsage | None, TopUsage | None]:
    rows = snapshot.by_model
    priced = [r for r in rows if r.cost_usd]
    by_cost = max(priced, key=lambda r: r.cost_usd or 0.0, default=None)
    by_reqs = max(rows, key=lambda r: r.reqs, default=None)

    def usage(row: Any) -> TopUsage | None:
        if row is None:
            return None
        return TopUsage(row.provider, row.model, row.cost_usd or 0.0, row.reqs)

    return usage(by_cost), usage(by_reqs)


def spent_since(source: Source, start_ns: int, now_ns: int) -> float:
    if now_ns <= start_ns:
        return 0.0
    return source.snapshot(now_ns - start_ns, now_ns).totals.cost_usd


def measure(
    source: Source,
    config: AlertConfig,
    now_ns: int,
    today: tuple[str, float | None] = ("", None),
) -> Reading:
    """Ask the live source for the short window and the baseline hour before it."""
    short = source.snapshot(config.short_window_ns, now_ns)
    longer = source.snapshot(config.short_window_ns + BASELINE_NS, now_ns)
    top_cost, top_reqs = _top(short)
    return Reading(
        now_ns=now_ns,
        short_cost_usd=short.totals.cost_usd,
        short_reqs=short.totals.reqs,
        baseline_cost_usd=max(0.0, longer.totals.cost_usd - short.totals.cost_usd),
        top_by_cost=top_cost,
        top_by_reqs=top_reqs,
        day=today[0],
        spent_today_usd=today[1],
    )


class AlertEngine:
    """Runs on the monitor thread (``__call__``); ``update_settings`` may come from any thread."""

    def __init__(
        self,
        settings: Settings,
        history: HistoryStore | None,
        notifier: AlertNotifier | None = None,
        tz: dt.tzinfo | None = None,
    ) -> None:
        import sqlite3  # noqa: PLC0415 - the engine's parts load with it (see the imports)
        import threading  # noqa: PLC0415 - idem

        from burntray.runtime.limit_alerting import LimitAlertEngine  # noqa: PLC0415 - idem
        from burntray.store.alert_store import AlertStore  # noqa: PLC0415 - idem

        self._lock = threading.Lock()
        self._settings = settings
        self._config = alert_config(settings)
        self.notifier = notifier
        self._tz = tz
        self._store: AlertStore | None = None
        if history is not None:
            try:
                self._store = AlertStore(history)
            except sqlite3.Error:
                log.exception("alert state cannot be kept: alerts may repeat after a restart")
        self._states: dict[str, AlertState] = {}
        self._saved: dict[str, AlertState] = {}
        self._today: dict[str, tuple[int, str, float]] = {}  # source -> (measured, day, spent)
        self.last: dict[str, Evaluation] = {}
        self.limits = LimitAlertEngine(settings, history, notifier)  # the plan windows' alerts

    def update_settings(self, settings: Settings) -> None:
        with self._lock:
            self._settings = settings
            self._config = alert_config(settings)
        self.limits.update_settings(settings)

    def _state_for(self, source: str) -> AlertState:
        state = self._states.get(source)
        if state is None:
            state = AlertState()
            if self._store is not None:
                try:
                    state = self._store.load_state(source)
                except _sqlite_error():
                    log.exception("cannot read alert state for %s", source)
            self._states[source] = self._saved[source] = state
        return state

    def _today_spend(self, source: Source, now_ns: int) -> tuple[str, float | None]:
        day, start = local_day(now_ns, self._tz)
        cached = self._today.get(source.name)
        if cached is not None and cached[1] == day and now_ns - cached[0] < TODAY_REFRESH_NS:
            return day, cached[2]
        spent = spent_since(source, start, now_ns)
        self._today[source.name] = (now_ns, day, spent)
        return day, spent

    def __call__(self, snapshot: Snapshot, source: Source) -> Snapshot:
        with self._lock:
            settings, config = self._settings, self._config
        name = snapshot.source
        try:  # the windows as the tools reported them, whatever the spend figures' state
            self.limits.notifier = self.notifier
            self.limits(snapshot)
        except Exception:
            log.exception("plan-limit alerts failed")
        if snapshot.status.state not in _MEASURED_STATES:
            previous = self.last.get(name)  # stale numbers: keep showing what we last knew
            if previous is None:
                return snapshot
            return replace(snapshot, alert_level=previous.level, alert_text=previous.text)
        now = snapshot.as_of_ns
        today = self._today_spend(source, now) if config.daily_budget_usd > 0 else ("", None)
        reading = measure(source, config, now, today)
        state = self._state_for(name)
        result = evaluate(config, state, reading, name)
        self._states[name] = result.state
        self.last[name] = result
        self._persist(name, result)
        for alert in result.fired:
            log.info("alert (%s) %s: %s", name, alert.title, alert.message)
            if settings.notifications and self.notifier is not None:
                try:
                    self.notifier.notify(alert.title, alert.message)
                except Exception:
                    log.exception("notifier failed")
        for kind in result.suppressed:
            log.info("alert (%s) %s: kept quiet (cooldown)", name, kind)
        return replace(snapshot, alert_level=result.level, alert_text=result.text)

    def _persist(self, source: str, result: Evaluation) -> None:
        saved = self._saved.get(source)
        state = result.state
        due = (
            result.fired
            or saved is None
            or replace(saved, checked_ns=None) != replace(state, checked_ns=None)
            or (state.checked_ns or 0) - (saved.checked_ns or 0) >= CHECKPOINT_NS
        )
        if not due or self._store is None:
            return
        try:
            self._store.save(source, state, result.fired)
            self._saved[source] = state
        except _sqlite_error():
            log.exception("cannot save alert state for %s", source)

    def prune_log(self, now_ns: int, retention_days: int) -> None:
        if self._store is not None:
            self._store.prune(now_ns - retention_days * NS_PER_DAY)


def install_alerts(
    monitor: Monitor, ctx: AppContext, notifier: AlertNotifier | None
) -> AlertEngine:
    """Add the alert engine to ``monitor``. Call ``engine.update_settings`` with
    ``monitor.update_settings`` when settings change (the tray menu does both)."""
    history = ctx.history()
    engine = AlertEngine(ctx.settings, history, notifier)
    try:
        engine.prune_log(ctx.clock_ns(), ctx.settings.history_retention_days)
    except _sqlite_error():
        log.exception("cannot prune the alert log")
    monitor.enrichers.append(engine)
    return engine


def _sqlite_error() -> type[Exception]:
    """sqlite3's error class, for an ``except`` where a store is in use (loaded by then)."""
    import sqlite3  # noqa: PLC0415 - see the imports: loaded only where a store is in use

    return sqlite3.Error


def _utc(ns: int | None) -> str | None:
    return None if ns is None else format_rfc3339_ns(ns, dt.UTC)


def alert_status(
    source: Source,
    settings: Settings,
    now_ns: int,
    history: HistoryStore | None,
    tz: dt.tzinfo | None = None,
) -> dict[str, Any]:
    """The ``alerts`` object of ``status --format json``: evaluated now, firing nothing.

    Reads the persisted state (if there is a history) so ``spike_since`` and ``last_fired`` match
    what the running app knows; writes nothing.
    """
    config = alert_config(settings)
    day, start = local_day(now_ns, tz)
    spent_today = spent_since(source, start, now_ns)
    reading = measure(source, config, now_ns, (day, spent_today))
    store = None
    if history is not None:
        from burntray.store.alert_store import AlertStore  # noqa: PLC0415 - see the imports

        store = AlertStore(history)
    state = store.load_state(source.name) if store is not None else AlertState()
    result = evaluate(config, state, reading, source.name)
    last = store.last_fired(source.name) if store is not None else None
    budget = config.daily_budget_usd
    return {
        "level": result.level,
        "text": result.text or None,
        "short_window": window_label(config.short_window_ns),
        "rate_usd_per_hour": round(result.rate_usd_per_hour, 6),
        "baseline_usd_per_hour": round(result.baseline_usd_per_hour, 6),
        "rpm": round(result.rpm, 6),
        "spike_threshold_usd_per_hour": config.spike_usd_per_hour,
        "spike_since": _utc(result.state.spike.active_since_ns),
        "last_fired": None
        if last is None
        else {
            "at": _utc(last.ts_ns),
            "kind": last.kind,
            "level": last.level,
            "message": last.message,
        },
        "spent_today_usd": round(spent_today, 6),
        "budget_usd": budget if budget > 0 else None,
        "budget_used_pct": round(spent_today / budget * 100, 2) if budget > 0 else None,
        "notifications": settings.notifications,
    }


def doctor_lines(ctx: AppContext) -> list[str]:
    """What ``burntray doctor`` says about alerts: the rules in force and the last alert."""
    import sys  # noqa: PLC0415

    settings = ctx.settings
    config = alert_config(settings)
    budget = f"${config.daily_budget_usd:g}/day" if config.daily_budget_usd > 0 else "not set"
    rpm = f"{config.rpm_threshold:g} rpm" if config.rpm_threshold > 0 else "off"
    lines = [
        f"spike        >= ${config.spike_usd_per_hour:g}/h over "
        f"{window_label(config.short_window_ns)} and >= {config.spike_multiple:g}x the last "
        f"hour (floor ${config.floor_usd:g}); ends below {config.hysteresis:.0%} of it",
        f"cooldown     {settings.alert_cooldown} per source and kind",
        f"budget       {budget}; request-rate alert {rpm}",
    ]
    if not settings.notifications:
        lines.append("notify       off (alerts still show in the icon and the log)")
    elif sys.platform.startswith("linux"):
        bus = ctx.env.get("DBUS_SESSION_BUS_ADDRESS", "")
        lines.append(
            "notify       on, over D-Bus org.freedesktop.Notifications"
            + (f" ({bus})" if bus else ": NO session bus (DBUS_SESSION_BUS_ADDRESS unset)")
        )
    else:
        lines.append("notify       on (desktop-notifier)")
    if ctx.paths.history_db.exists():
        history = ctx.history()
        if history is not None:
            from burntray.store.alert_store import AlertStore  # noqa: PLC0415 - see the imports

            last = AlertStore(history).recent()[-1:]
            lines.append(
                f"last alert   {_utc(last[0].ts_ns)} {last[0].source}: {last[0].message}"
                if last
                else "last alert   none yet"
            )
    return lines
