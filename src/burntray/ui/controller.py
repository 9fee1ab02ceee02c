"""What the tray's menu items do: settings changes, clear-cache, reports, autostart, quit.

No pystray here, so every action is testable without a display. Actions run on the tray's
thread and stay quick: anything that may block (clearing behind a lock, writing a report) runs
in a short job thread, which only updates the controller's state and asks for a redraw; it never
touches the tray. Every settings change is saved to config.toml at once and handed to the
monitor; a config.toml that was invalid at start is never overwritten (the menu says so).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from msgspec.structs import replace

from burntray import __version__
from burntray.actions import clear_targets, describe_clear, run_clear
from burntray.app import AppContext
from burntray.config import Settings, load_config
from burntray.config_write import save_settings
from burntray.errors import BurntrayError, ConfigError
from burntray.lazylog import get_logger
from burntray.model.progress import ScanProgress
from burntray.model.snapshot import Snapshot
from burntray.paths import ensure_dir
from burntray.runtime.monitor import Monitor
from burntray.sources.registry import META_SOURCES, REGISTRY
from burntray.ui.presenter import ClearTarget, SourceChoice, TrayView, UiState, present
from burntray.ui.text_fit import ROW_LIMIT

log = get_logger(__name__)

Opener = Callable[[Path], None]


OPEN_CHECK_S = 3.0  # how long an opener may take to fail before it counts as having opened


def open_path(path: Path, wait_s: float = OPEN_CHECK_S) -> None:
    """Open a folder or file with the desktop's default application; raises ``OSError`` saying
    why when the opener fails.

    ``xdg-open``/``open`` hand the path to an application and exit: a non-zero exit within
    ``wait_s`` is a failure (with the opener's first line of complaint). One still running
    then is taking its time showing the path and counts as done; a thread of ours waits for it
    so it never lingers as a zombie. Blocks up to ``wait_s``: call it from a job thread.
    """
    if sys.platform == "win32":
        os.startfile(path)  # type: ignore[attr-defined]  # noqa: S606 - Windows only
        return
    opener = "open" if sys.platform == "darwin" else "xdg-open"
    try:
        proc = subprocess.Popen(
            [opener, str(path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise OSError(f"{opener} is not installed: open {path} yourself") from None
    assert proc.stderr is not None
    try:
        proc.wait(wait_s)
    except subprocess.TimeoutExpired:
        threading.Thread(target=_reap, args=(proc,), name="burntray-opener", daemon=True).start()
        return
    said = proc.stderr.read(2000).decode(errors="replace").strip().splitlines()
    proc.stderr.close()
    if proc.returncode != 0:
        why = f": {said[0]}" if said else ""
        raise OSError(f"{opener} failed (exit {proc.returncode}){why}")


def _reap(proc: subprocess.Popen[bytes]) -> None:
    """Read and drop what a slow opener writes (a full pipe would stall it), then reap it."""
    assert proc.stderr is not None
    with proc.stderr:
        while proc.stderr.read(65536):
            pass
    proc.wait()


def source_choices(ctx: AppContext, settings: Settings) -> tuple[SourceChoice, ...]:
    """All, Auto, then every registered source, saying why when it is not there."""

    choices = [SourceChoice(name, REGISTRY.label(name)) for name in META_SOURCES]
    source_ctx = ctx.source_context(settings, with_history=False)
    for spec in REGISTRY:
        try:
            ok, why = spec.probe(source_ctx)
        except Exception as exc:  # a broken probe must not break the menu
            ok, why = False, f"cannot check: {exc}"
        label = spec.label if ok or not why else f"{spec.label} ({why})"
        choices.append(SourceChoice(spec.name, _cut(label), enabled=True))
    return tuple(choices)


def _cut(text: str) -> str:
    return text if len(text) <= ROW_LIMIT else text[: ROW_LIMIT - 1] + "…"


class TrayController:
    def __init__(
        self,
        ctx: AppContext,
        monitor: Monitor,
        *,
        demo: bool = False,
        opener: Opener = open_path,
        on_quit: Callable[[], None] = lambda: None,
    ) -> None:
        self.ctx = ctx
        self.monitor = monitor
        self.opener = opener
        self.on_quit = on_quit
        self.on_change: Callable[[], None] = lambda: None  # set by the tray: redraw
        self.announce: Callable[[str], None] = lambda _message: None  # set by the tray: notify
        self.on_settings: Callable[[Settings], None] = lambda _settings: None  # e.g. alerts
        self._lock = threading.Lock()
        self._settings = ctx.settings
        self._jobs: list[threading.Thread] = []
        # the demo changes nothing outside its own folder, so not the login items either
        supported, reason, enabled = (
            (False, "not in the demo", False) if demo else (self._autostart_state())
        )
        self._ui = UiState(
            demo=demo,
            config_error=ctx.config_error,
            config_problems=ctx.config_problems,
            price_error=ctx.prices().problem,
            sources=source_choices(ctx, ctx.settings),
            clear_targets=tuple((t.key, t.label) for t in clear_targets()),
            autostart_supported=supported,
            autostart_reason=reason,
            autostart_on=enabled,
            version=__version__,
        )

    # --- state ------------------------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        with self._lock:
            return self._settings

    @property
    def ui(self) -> UiState:
        with self._lock:
            return self._ui

    def view(self, snapshot: Snapshot | None) -> TrayView:
        with self._lock:
            settings, ui = self._settings, self._ui
        return present(snapshot, settings, ui)

    def _set_ui(self, **changes: object) -> None:
        with self._lock:
            self._ui = replace(self._ui, **changes)
        self.on_change()

    def _say(self, message: str, announce: bool = False) -> None:
        log.info("tray: %s", message)
        self._set_ui(message=message)
        if announce:
            self.announce(message)

    def show_progress(self, progress: tuple[ScanProgress, ...]) -> None:
        """A long read's progress (``ui.progress_watch``), in the menu and the tooltip."""
        self._set_ui(progress=progress)

    def monitor_died(self) -> None:
        self._set_ui(monitor_error="the monitor stopped; see the log file")

    # --- settings ------------------------------------------------------------------------------
    def change(self, **changes: object) -> bool:
        """Apply a settings change: validate, save at once, hand it to the monitor."""
        with self._lock:
            current = self._settings
        try:
            new = current.replace(**changes)
        except ConfigError as exc:
            self._say(f"not changed: {exc}")
            return False
        if new == current:
            return True
        message = ""
        problems = self.ui.config_problems
        if self.ctx.config_error:
            message = "changed for this run only: config.toml is invalid, so it is not saved"
        else:
            try:  # only the keys this change touched: the user's text stays theirs
                save_settings(self.ctx.paths.config_file, new, previous=current)
                # a bad key the change replaced is no longer one to report
                problems = load_config(self.ctx.paths.config_file)[1]
            except (OSError, ConfigError) as exc:
                message = f"changed for this run only: cannot save config.toml: {exc}"
        with self._lock:
            self._settings = new
            self._ui = replace(self._ui, config_problems=problems)
            if message:
                self._ui = replace(self._ui, message=message)
        if message:
            log.warning("tray: %s", message)
        self.monitor.update_settings(new)
        self.on_settings(new)
        if "source" in changes or "options" in changes:
            self._set_ui(sources=source_choices(self.ctx, new))
        self.on_change()
        return True

    def set_window(self, window: str) -> None:
        self.change(window=window)

    def set_source(self, source: str) -> None:
        self.change(source=source)

    def set_icon_figure(self, figure: str) -> None:
        self.change(icon_figure=figure)

    def toggle_notifications(self) -> None:
        self.change(notifications=not self.settings.notifications)

    def toggle_metrics(self) -> None:
        """Serve /metrics (and /healthz, /v1/status) from the tray, or stop."""
        self.change(tray_metrics=not self.settings.tray_metrics)

    def metrics_failed(self, message: str) -> None:
        """The endpoint could not serve (port taken...): untick "Serve /metrics" and say why."""
        self.change(tray_metrics=False)
        self._say(message, announce=True)

    def refresh(self) -> None:
        self._set_ui(message="", sources=source_choices(self.ctx, self.settings))
        self.monitor.refresh()

    # --- start at login (issue 7's module, when this build has it) ------------------------------
    @staticmethod
    def _autostart_state() -> tuple[bool, str, bool]:
        try:
            autostart = importlib.import_module("burntray.autostart")
        except ImportError:
            return False, "not in this build", False
        try:
            supported, reason = autostart.supported()
            enabled = bool(autostart.is_enabled()) if supported else False
        except Exception as exc:
            return False, f"cannot check: {exc}", False
        return bool(supported), str(reason), enabled

    def toggle_autostart(self) -> None:
        ui = self.ui
        if not ui.autostart_supported:
            self._say(f"Start at login is not available: {ui.autostart_reason}")
            return
        autostart = importlib.import_module("burntray.autostart")
        want = not ui.autostart_on
        try:
            autostart.set_enabled(want)
        except Exception as exc:  # AutostartError: the message says what went wrong
            self._say(f"Start at login not changed: {exc}", announce=True)
            return
        self._set_ui(autostart_on=want)
        self.change(start_at_login=want)

    # --- opening things -----------------------------------------------------------------------
    def open_data_folder(self) -> None:
        """Opening waits a moment for the opener's verdict: on a job thread, not the tray's."""
        self._run_job("open data folder", self._open_data_folder)

    def _open_data_folder(self) -> None:
        folder = self.ctx.paths.data_dir
        try:
            ensure_dir(folder)
            self.opener(folder)
        except OSError as exc:
            self._say(f"cannot open {folder}: {exc}", announce=True)
            return
        self._say(f"opened {folder}")

    def open_report(self) -> None:
        self._run_job("report", self._write_and_open_report)

    def _write_and_open_report(self) -> None:
        try:
            build = importlib.import_module("burntray.report.build")
        except ImportError:
            self._say("reports are not in this build yet: opening the data folder instead")
            self._open_data_folder()
            return
        try:
            path = build.write_report(self.ctx, self.settings)
            why = build.open_in_browser(path)
        except Exception as exc:
            log.exception("report failed")
            self._say(f"report failed: {exc}", announce=True)
            return
        if why:  # written, but the browser did not show it: say so, and where the file is
            self._say(f"report not opened ({why}): {path}", announce=True)
            return
        self._say(f"report: {path}")

    # --- clear cache: ask, then confirm -----------------------------------------------------
    def ask_clear(self, target: ClearTarget) -> None:
        """Say what would be emptied and wait for "yes"; when that cannot even be read, nothing
        is offered (clearing what cannot be counted could lose data)."""
        try:
            detail = describe_clear(self.ctx, target, self.settings)
        except BurntrayError as exc:
            label = dict(self.ui.clear_targets).get(target, target)
            self._set_ui(confirm=None, confirm_detail="", message=f"{label} not cleared: {exc}")
            return
        self._set_ui(confirm=target, confirm_detail=detail, message="")

    def cancel_clear(self) -> None:
        self._set_ui(confirm=None, confirm_detail="", message="nothing cleared")

    def confirm_clear(self) -> None:
        target = self.ui.confirm
        if target is None:
            return
        self._set_ui(confirm=None, confirm_detail="", message="clearing…")
        self._run_job("clear", lambda: self._clear(target))

    def _clear(self, target: ClearTarget) -> None:
        """Same semantics as ``burntray clear-cache`` (the same actions)."""
        label = dict(self.ui.clear_targets).get(target, target)
        try:
            self._say(run_clear(self.ctx, target, self.settings), announce=True)
        except BurntrayError as exc:
            self._say(f"{label} not cleared: {exc}", announce=True)
            return
        self.monitor.refresh()

    # --- jobs, about, quit -------------------------------------------------------------------
    def _run_job(self, name: str, fn: Callable[[], None]) -> None:
        def job() -> None:
            try:
                fn()
            except Exception as exc:
                log.exception("tray job %s failed", name)
                self._say(f"{name} failed: {exc}", announce=True)

        thread = threading.Thread(target=job, name=f"burntray-{name}", daemon=True)
        with self._lock:
            self._jobs = [t for t in self._jobs if t.is_alive()] + [thread]
        thread.start()

    def join_jobs(self, timeout: float = 5.0) -> bool:
        """Wait for running jobs (shutdown, tests); True when none is left."""
        with self._lock:
            jobs = list(self._jobs)
        for thread in jobs:
            thread.join(timeout)
        return not any(t.is_alive() for t in jobs)

    def about(self) -> None:
        self._say(
            f"burntray {__version__} · LLM usage at a glance · log: {self.ctx.paths.log_file}"
        )

    def quit(self) -> None:
        log.info("tray: quit requested")
        self.on_quit()
