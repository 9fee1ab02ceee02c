"""The tray adapter: with ``ui.xorg_icon``, the only module that imports pystray (lazily, once
a backend is chosen).

Start order: monitor (worker) -> dispatcher (hand-off) -> icon loop on the main thread. The
monitor and the job threads never touch the icon: the dispatcher hands a new TrayView to the
tray's thread and a view is applied only when it differs from the one shown. On GTK backends
the hand-off is ``GLib.idle_add``; elsewhere the dispatcher thread is the one serialised updater
(the SNI icon passes values to its bus thread; the xorg icon, ``ui.xorg_icon``, runs every X
call on its own loop thread, woken over a private connection, so it cannot deadlock). Quit,
SIGTERM and SIGINT all stop the same way: icon loop first, then the dispatcher and the monitor
are joined; exit 0.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable
from typing import Any

from msgspec.structs import replace

from burntray.app import AppContext
from burntray.config import Settings
from burntray.config_write import first_run_settings
from burntray.lazylog import get_logger
from burntray.runtime.dispatch import Dispatcher, call_now
from burntray.runtime.session import STOP_SIGNALS, STOP_TIMEOUT_S, Session
from burntray.serve.endpoint import MetricsEndpoint
from burntray.ui.alert_menu import MenuChoice
from burntray.ui.backend import PYSTRAY_BACKENDS, BackendChoice
from burntray.ui.controller import TrayController
from burntray.ui.icon import render_icon
from burntray.ui.menu_choices import FIGURE_CHOICES, WINDOW_CHOICES
from burntray.ui.notify import DesktopNotify, pystray_fallback
from burntray.ui.presenter import IconSpec, TrayView
from burntray.ui.progress_watch import ProgressWatch
from burntray.ui.xorg_icon import serialised_xorg_icon, title_for

log = get_logger(__name__)

# Panels scale what they get; these sizes keep the figure legible after that scaling.
ICON_PX = {"xorg": 32, "gtk": 32, "win32": 32, "darwin": 44}
DEFAULT_ICON_PX = 64  # SNI and AppIndicator hosts pick their own size from a larger image


def pystray_module(backend: str) -> Any:
    """pystray, imported so that it loads only what ``backend`` needs.

    pystray picks a backend when first imported (and without a display that import raises), so
    the choice is set first; the SNI backend needs only pystray's base classes (dummy backend).
    Icon classes come from ``icon_class``, whatever backend pystray chose at import.
    """
    if backend == "sni":
        return importlib.import_module("burntray.ui.sni.pystray_loader").load_pystray()
    if backend in PYSTRAY_BACKENDS or backend == "dummy":
        os.environ["PYSTRAY_BACKEND"] = backend
    import pystray  # noqa: PLC0415 - importing pystray without a display raises

    return pystray


def icon_class(backend: str) -> Any:
    """The Icon class for ``backend``: SNI, our serialised xorg icon, or pystray's own."""
    if backend == "sni":
        return importlib.import_module("burntray.ui.sni").SniIcon
    if backend == "xorg":
        return serialised_xorg_icon()
    return importlib.import_module(f"pystray._{backend}").Icon


def build_menu(view: TrayView, controller: TrayController, pystray: Any) -> Any:
    """A real ``pystray.Menu`` for ``view``; each callback calls the controller."""
    item, menu, sep = pystray.MenuItem, pystray.Menu, pystray.Menu.SEPARATOR

    def do(fn: Callable[[], None]) -> Callable[[Any, Any], None]:
        def action(_icon: Any, _item: Any) -> None:
            fn()

        return action

    def is_on(on: bool) -> Callable[[Any], bool]:
        def checked(_item: Any) -> bool:
            return on

        return checked

    def pick(fn: Callable[[str], None], key: str) -> Callable[[Any, Any], None]:
        return do(lambda: fn(key))

    def radio(choices: tuple[tuple[str, str], ...], current: str, fn: Callable[[str], None]) -> Any:
        return menu(
            *(
                item(label, pick(fn, key), checked=is_on(key == current), radio=True)
                for key, label in choices
            )
        )

    sources = menu(
        *(
            item(c.label, pick(controller.set_source, c.key), checked=is_on(c.key == view.source),
                 radio=True, enabled=c.enabled)
            for c in view.sources
        )
    )  # fmt: skip
    clear = menu(
        *(item(f"{label}…", pick(controller.ask_clear, key)) for key, label in view.clear_targets)
    )

    def lines(texts: tuple[str, ...]) -> Any:
        return menu(*(item(text, None, enabled=False) for text in texts))

    # The top: the figures only, then each error whole in its own submenu; the actions follow
    # at once, so a small screen needs no scrolling. Paths and diagnostics are under Details,
    # beside About (Window stays the first entry a keyboard reaches when all is well).
    rows: list[Any] = [item(text, None, enabled=False) for text in view.header]
    rows += [
        item(p.label, lines(p.lines)) if p.lines else item(p.label, None, enabled=False)
        for p in view.problems
    ]
    rows += [
        sep,
        item("Window", radio(WINDOW_CHOICES, view.window, controller.set_window)),
        item("Source", sources),
        item("Show in icon", radio(FIGURE_CHOICES, view.icon_figure, controller.set_icon_figure)),
        sep,
        # default: what a left click does (xorg has no menu, so the click opens the report)
        item("Open report", do(controller.open_report), default=True),
        item("Open data folder", do(controller.open_data_folder)),
        item("Clear cache", clear),
    ]
    if view.confirm is not None:
        rows += [
            item(view.confirm_label, None, enabled=False),
            item("    Yes, empty it", do(controller.confirm_clear)),
            item("    No, keep it", do(controller.cancel_clear)),
        ]

    def alert_choice(choice: MenuChoice) -> Any:
        def choose() -> None:
            controller.change(**{choice.setting: choice.value})

        return item(
            choice.label,
            do(choose),
            checked=is_on(choice.checked),
            radio=True,
            enabled=choice.enabled,
        )

    alerts = [item(group.label, menu(*map(alert_choice, group.choices))) for group in view.alerts]
    rows += [
        sep,
        item(view.notifications.label, do(controller.toggle_notifications),
             checked=is_on(view.notifications.on)),
        item(view.metrics.label, do(controller.toggle_metrics), checked=is_on(view.metrics.on)),
        *([item("Alerts", menu(*alerts))] if alerts else []),
        item(view.autostart.label, do(controller.toggle_autostart),
             checked=is_on(view.autostart.on), enabled=view.autostart.enabled),
        item("Refresh now", do(controller.refresh)),
        sep,
        *([item("Details", lines(view.details))] if view.details else []),
        item(view.about, do(controller.about)),
        item("Quit", do(controller.quit)),
    ]  # fmt: skip
    return menu(*rows)


def _menu_key(view: TrayView) -> TrayView:
    """The part of a view the menu shows (icon and title changes do not rebuild the menu)."""
    return replace(view, icon=IconSpec("normal"), title="", attention=False)


class TrayApp:
    """Owns the icon and the threads around it; ``run()`` blocks until quit, returns 0."""

    def __init__(
        self, ctx: AppContext, choice: BackendChoice, demo: bool = False, verbose: bool = False
    ) -> None:
        if not (demo or ctx.demo or ctx.config_error):  # a first start: a new configuration
            ctx.settings = first_run_settings(ctx.paths.config_file, ctx.settings)
        self.ctx = ctx
        self.choice = choice
        self.ready = threading.Event()
        # The session's parts call back into the controller, which needs the session's
        # monitor: they reach it through these late-bound calls.
        #   Alerts (spikes, budget) run on the monitor thread; their notifications and the
        # results of menu actions go through one notifier, which never blocks its caller.
        #   /metrics from the tray: off by default, the menu's "Serve /metrics" toggle; an
        # enricher after the alerts (it exports their level).
        self.metrics = MetricsEndpoint(ctx, on_error=self._metrics_failed)
        self.session = Session(
            ctx,
            view="tray",
            notifier=DesktopNotify(
                on_click=self._open_report,
                label="DEMO" if ctx.demo or demo else "",
            ),
            metrics=self.metrics,
            verbose=verbose,
        )
        self.quit_requested = self.session.stop_requested  # Quit, SIGTERM and SIGINT set it
        self.monitor = self.session.monitor
        self.alerts = self.session.alerts
        self.notifier: DesktopNotify = self.session.notifier  # type: ignore[assignment]
        self.controller = TrayController(
            ctx, self.monitor, demo=demo, on_quit=self.quit_requested.set
        )
        self.icon_px = ICON_PX.get(choice.name, DEFAULT_ICON_PX)
        self._pystray: Any = None
        self._icon: Any = None
        self._shown: TrayView | None = None
        self.dispatcher: Dispatcher[TrayView] = Dispatcher(
            self.monitor.slot,
            render=self.controller.view,
            apply=self._apply,
            schedule=self._scheduler(),
            monitor_alive=lambda: self.monitor.alive,
            on_monitor_dead=self.controller.monitor_died,
        )
        self.monitor.observers.append(self.dispatcher.nudge)
        self.controller.on_change = self.dispatcher.nudge
        self.progress = ProgressWatch(lambda: self.monitor.source, self.controller.show_progress)
        self.session.add_closer("progress", lambda: self.progress.stop(STOP_TIMEOUT_S))
        self.controller.announce = self._announce
        # stopped before the monitor they read; then the session stops the rest
        self.session.add_closer("dispatcher", lambda: self.dispatcher.stop(STOP_TIMEOUT_S))
        self.session.add_closer("menu jobs", lambda: self.controller.join_jobs(STOP_TIMEOUT_S))
        self.metrics.apply(ctx.settings)

        def on_settings(settings: Settings) -> None:
            self.alerts.update_settings(settings)
            self.metrics.apply(settings)

        self.controller.on_settings = on_settings

    def _open_report(self) -> None:
        self.controller.open_report()

    def _metrics_failed(self, why: str) -> None:
        self.controller.metrics_failed(why)

    def _scheduler(self) -> Callable[[Callable[[], None]], None]:
        if self.choice.name == "darwin":  # AppKit: the main thread only (pystray issue #60)
            app_helper = importlib.import_module("PyObjCTools.AppHelper")
            return app_helper.callAfter  # type: ignore[no-any-return]
        if not self.choice.marshals_to_loop:
            return call_now  # the dispatcher thread is the one serialised updater
        from gi.repository import GLib  # noqa: PLC0415

        def on_loop(fn: Callable[[], None]) -> None:
            def once() -> bool:
                fn()
                return False  # run once

            GLib.idle_add(once)

        return on_loop

    # --- the tray's thread -------------------------------------------------------------------
    def _apply(self, view: TrayView) -> None:
        icon, shown = self._icon, self._shown
        if icon is None:
            return
        try:
            if shown is None or view.icon != shown.icon:
                icon.icon = render_icon(view.icon, self.icon_px)
            if shown is None or view.title != shown.title:
                icon.title = title_for(self.choice.name, view.title)
                log.debug("tray title: %r", view.title)  # changes often: debug, not info
            if shown is None or _menu_key(view) != _menu_key(shown):
                icon.menu = build_menu(view, self.controller, self._pystray)
            if (shown is None or view.attention != shown.attention) and hasattr(
                icon, "set_attention"
            ):
                icon.set_attention(view.attention)
        except Exception:
            log.exception("applying the tray view failed")
        self._shown = view

    def _announce(self, message: str) -> None:
        """A desktop notification for an action's result, when notifications are on."""
        if self.controller.settings.notifications:
            self.notifier.notify("burntray", message)

    # --- lifecycle ---------------------------------------------------------------------------

    def prepare(self) -> None:
        """Import the backend and build the icon; raises if this backend cannot start here."""
        if self.choice.marshals_to_loop:  # the X class/name of our windows: "burntray"
            from gi.repository import GLib  # noqa: PLC0415

            GLib.set_prgname("burntray")
            GLib.set_application_name("burntray")
        self._pystray = pystray_module(self.choice.name)
        first = self.controller.view(None)
        self._icon = icon_class(self.choice.name)(
            "burntray",
            icon=render_icon(first.icon, self.icon_px),
            title=title_for(self.choice.name, first.title),
            menu=build_menu(first, self.controller, self._pystray),
        )
        self._shown = first
        if self.choice.marshals_to_loop:  # pystray's notify is marshalled to the GTK loop there
            self.notifier.fallback = pystray_fallback(self._icon)

    def close(self) -> None:
        """Stop everything built so far (also when the icon never ran); a second call does
        nothing."""
        self.session.close(STOP_TIMEOUT_S)

    def run(self) -> int:
        if self._icon is None:
            self.prepare()
        self.session.setup_logging()
        log.info("tray backend: %s (%s)", self.choice.name, self.choice.reason)
        self.session.take_signals()
        stopper = threading.Thread(target=self._stop_when_asked, name="burntray-stopper")
        stopper.daemon = True
        stopper.start()
        crashed = False
        try:
            self._icon.run(setup=self._setup)
        except Exception as exc:
            crashed = not self.quit_requested.is_set()
            if crashed:
                log.exception("the tray loop failed")
            else:  # pystray's GTK backends raise on stop when no notification service is on
                log.warning("tray loop ended with %s (at stop: harmless)", exc)
        finally:
            self.quit_requested.set()
            self.ready.set()
            self.close()
            if hasattr(self._icon, "close_wake_connection"):
                self._icon.close_wake_connection()
        log.info("tray: stopped")
        return 1 if crashed else 0

    def _setup(self, icon: Any) -> None:
        """Runs once the icon loop is ready (pystray calls it in its own thread)."""
        if self.choice.marshals_to_loop:
            self._install_glib_signal_handlers()
        icon.visible = True
        self.session.start_monitor()
        self.progress.start()
        self.dispatcher.start()
        self.dispatcher.nudge()
        self.ready.set()
        log.info("tray: ready")

    def _stop_when_asked(self) -> None:
        self.quit_requested.wait()
        self.ready.wait()  # stopping before the loop is up would be lost
        log.info("tray: stopping")
        self._icon.stop()

    def _install_glib_signal_handlers(self) -> None:
        """pystray's GTK loop resets SIGINT and runs in C: let GLib deliver both signals."""
        from gi.repository import GLib  # noqa: PLC0415

        def on_signal() -> bool:
            self.quit_requested.set()
            return True

        for signum in STOP_SIGNALS:
            GLib.unix_signal_add(GLib.PRIORITY_HIGH, signum, on_signal)
