"""``burntray --self-test``: is this installation able to run? Checked the way the app starts.

Each check does what the app does at start, short of showing anything: resolve the paths, load
the settings, read every source once, render an icon, load the tray backend (a ``pystray.Icon``
is created but never run, so nothing appears) or, where there is no display and no tray host
(a headless server), check the terminal view the app shows there instead, and read the
start-at-login state. The last line says which view was checked. It prints one
line per check and exits 0, or 1 naming what failed. A source that is empty, offline or holds a
corrupt file is reported but is not a failure: that is the user's data, not the installation.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable
from typing import IO, Any

from msgspec import Struct

from burntray import __version__
from burntray.config import Settings
from burntray.config_values import CALENDAR_WINDOWS
from burntray.sources.registry import REGISTRY

ICON_SIZE = 64
TRAY_UI_MODULES = ("burntray.ui.icon", "burntray.ui.presenter")


class CheckResult(Struct, frozen=True):
    name: str
    ok: bool
    detail: str
    elapsed_s: float = 0.0


class _Checks:
    """Runs checks in order, keeping their results; a check that raises is a failure."""

    def __init__(self) -> None:
        self.results: list[CheckResult] = []
        self._mark = time.perf_counter()

    def run(self, name: str, fn: Callable[[], str]) -> None:
        try:
            detail = fn()
        except Exception as exc:  # the self-test reports every failure, it never crashes on one
            self.add(name, False, f"{type(exc).__name__}: {exc}")
        else:
            self.add(name, True, detail)

    def add(self, name: str, ok: bool, detail: str) -> None:
        """Record a result; its time is everything since the previous result (what it cost)."""
        now = time.perf_counter()
        self.results.append(CheckResult(name, ok, detail, now - self._mark))
        self._mark = now


def _build_description() -> str:
    if getattr(sys, "frozen", False):
        return f"frozen build at {sys.executable}"
    return f"Python {sys.version.split()[0]} at {sys.executable}"


def render_test_icon(snapshot: Any = None, settings: Any = None) -> tuple[Any, str]:
    """An RGBA tray icon image and what drew it.

    With the tray in this build, exactly what the tray shows: the presenter's icon spec for the
    snapshot, drawn by ``burntray.ui.icon.render_icon`` (an error there fails the self-test, as
    it would fail the tray). A build without the tray UI draws a plain badge with Pillow, which
    still proves Pillow and its image libraries load.
    """
    try:
        icon_module = importlib.import_module("burntray.ui.icon")
        presenter = importlib.import_module("burntray.ui.presenter")
    except ModuleNotFoundError as exc:
        if exc.name not in TRAY_UI_MODULES:
            raise  # the tray UI is there but something it needs is missing from the build
    else:
        view = presenter.present(snapshot, settings or Settings())
        return icon_module.render_icon(view.icon, ICON_SIZE), "burntray.ui.icon.render_icon"
    from PIL import Image, ImageDraw  # noqa: PLC0415

    image = Image.new("RGBA", (ICON_SIZE, ICON_SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((2, 2, ICON_SIZE - 3, ICON_SIZE - 3), radius=12, fill=(232, 93, 4))
    draw.text((ICON_SIZE // 2, ICON_SIZE // 2), "0.7", fill=(255, 255, 255), anchor="mm")
    return image, "Pillow (this build has no tray icon renderer, burntray.ui.icon)"


def run_self_test(out: IO[str] | None = None) -> int:
    """Run every check, print the report to ``out`` (stdout), return the exit code."""
    out = out or sys.stdout
    started = time.perf_counter()
    checks = _Checks()
    state: dict[str, Any] = {}

    def paths() -> str:
        from burntray.app import AppContext  # noqa: PLC0415

        ctx = AppContext.load(strict=False)
        state["ctx"] = ctx
        p = ctx.paths
        return f"config {p.config_dir}, data {p.data_dir}, cache {p.cache_dir}, log {p.log_dir}"

    checks.run("paths", paths)
    ctx = state.get("ctx")
    if ctx is not None:
        if ctx.config_error:
            # The app runs on defaults then; the user must see why, but the install is fine.
            checks.add("config", True, f"INVALID, defaults in use: {ctx.config_error}")
        elif ctx.config_problems:
            problems = "; ".join(ctx.config_problems)
            checks.add("config", True, f"in use, {len(ctx.config_problems)} left out: {problems}")
        elif ctx.paths.config_file.exists():
            checks.add("config", True, f"{ctx.paths.config_file} valid")
        else:
            checks.add("config", True, "no config.toml yet: defaults")
        checks.run("prices", _prices_line)
        try:
            _check_sources(checks, ctx, state)
        except Exception as exc:  # e.g. an unreadable price file: the sources cannot be built
            checks.add("sources", False, f"{type(exc).__name__}: {exc}")

    def icon() -> str:
        settings = ctx.settings if ctx is not None else None
        image, drawer = render_test_icon(state.get("snapshot"), settings)
        if image is None or image.size[0] < 16 or image.mode not in ("RGBA", "RGB"):
            raise RuntimeError(f"{drawer} returned no usable image: {image!r}")
        if image.getbbox() is None:
            raise RuntimeError(f"{drawer} drew an empty image")
        state["image"] = image
        return f"{image.size[0]}x{image.size[1]} {image.mode} drawn by {drawer}"

    checks.run("icon", icon)
    choice = _backend_choice()
    view = "tray"
    if _headless(choice):
        # No display and no tray host: the documented behaviour is the terminal view, so that
        # is what is checked; loading pystray here would fail for a reason that is not a fault.
        view = "terminal view"
        checks.run("view", lambda: _terminal_view_line(choice, state.get("snapshot")))
    else:
        checks.run("tray", lambda: _load_tray_backend(state.get("image")))
    for name, describe in (
        ("sni", _sni_line),
        ("tray choice", lambda: _backend_choice_line(choice)),
        ("notify", _notifier_line),
    ):
        try:
            line = describe()
        except Exception as exc:  # the module is in the build but cannot be imported
            checks.add(name, False, f"{type(exc).__name__}: {exc}")
        else:
            if line:
                checks.add(name, True, line)

    def autostart() -> str:
        from burntray import autostart as login  # noqa: PLC0415

        ok, how = login.supported()
        if not ok:
            return how
        return f"{how}: {'on' if login.is_enabled() else 'off'}"

    checks.run("autostart", autostart)
    if ctx is not None:
        ctx.close()

    elapsed = time.perf_counter() - started
    print(f"burntray {__version__} self-test ({_build_description()})", file=out)
    for result in checks.results:
        status = "ok  " if result.ok else "FAIL"
        ms = round(result.elapsed_s * 1000)
        print(f"  {status}  {result.name:<12} {ms:>4} ms  {result.detail}", file=out)
    failed = [r for r in checks.results if not r.ok]
    if failed:
        reasons = "; ".join(f"{r.name}: {r.detail}" for r in failed)
        print(f"self-test FAILED in {elapsed:.2f} s: {reasons}", file=out)
        return 1
    print(f"self-test passed in {elapsed:.2f} s (view checked: {view})", file=out)
    return 0


def _prices_line() -> str:
    """The dated price file is package data and holds every built-in price: a build that lost
    it prices nothing (every request "unpriced"), so it is a failure here."""
    from burntray.model.price_table import PRICES_FILE  # noqa: PLC0415
    from burntray.model.pricing import shipped_prices  # noqa: PLC0415

    prices = shipped_prices()
    if not prices:
        raise RuntimeError(f"the price file {PRICES_FILE} is missing from this build")
    return f"price file {PRICES_FILE}: {len(prices)} price keys"


def _check_sources(checks: _Checks, ctx: Any, state: dict[str, Any]) -> None:
    from burntray.sources.build import resolve_auto  # noqa: PLC0415

    source_ctx = ctx.source_context(with_history=False)
    configured = ctx.settings.source
    if configured == "auto":
        in_use = {resolve_auto(source_ctx)}
    elif configured == "all":
        in_use = {s.name for s in REGISTRY if s.probe(source_ctx)[0]}
    else:
        in_use = {configured}
    for spec in REGISTRY:
        name = spec.name
        label = f"source {name}"

        def read(factory: Any = spec.build, name: str = name, probe: Any = spec.probe) -> str:
            available, why = probe(source_ctx)
            source = factory(source_ctx)
            try:
                source.poll()
                now = ctx.clock_ns()
                snapshot = source.snapshot(ctx.settings.window_ns_at(now), now)
            finally:
                source.close()
            if name in in_use:
                state["snapshot"] = snapshot
            status = snapshot.status
            used = " (in use)" if name in in_use else ""
            window = ctx.settings.window
            span = CALENDAR_WINDOWS.get(window, "in " + window)
            figures = f", {snapshot.totals.reqs} reqs {span}"
            detail = f": {status.detail}" if status.detail else ""
            avail = "" if available else f" [{why}]"
            return f"{status.state}{used}{detail}{figures}{avail}"

        checks.run(label, read)


def _load_tray_backend(image: Any) -> str:
    """Import pystray and create (never run) an Icon, exactly as the tray would."""
    import os  # noqa: PLC0415

    try:
        import pystray  # noqa: PLC0415 - importing it needs a display on X11: only here
    except Exception as exc:  # Xlib raises DisplayNameError, not ImportError, without $DISPLAY
        hint = ""
        if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
            hint = " (no $DISPLAY: run it in a desktop session)"
        raise RuntimeError(f"pystray could not load a backend: {exc!r}{hint}") from exc
    icon = pystray.Icon("burntray", image, "burntray self-test")
    backend = type(icon).__module__.rsplit(".", 1)[-1].lstrip("_")
    requested = os.environ.get("PYSTRAY_BACKEND", "")
    how = f"PYSTRAY_BACKEND={requested}" if requested else "auto-selected"
    return f"pystray backend {backend!r} loaded ({how}), icon created, not shown"


def _sni_line() -> str:
    """The StatusNotifierItem backend, when this build has it: present, and whether usable."""
    try:
        sni = importlib.import_module("burntray.ui.sni")
    except ModuleNotFoundError as exc:
        if exc.name == "burntray.ui.sni":
            return ""  # a build without the SNI backend
        raise
    available = getattr(sni, "sni_available", None)
    if available is None:
        return "burntray.ui.sni present"
    try:
        ok, why = available()
    except Exception as exc:  # informative only: the tray falls back to pystray's backends
        return f"burntray.ui.sni present, check failed: {exc!r}"
    return f"StatusNotifierItem {'usable' if ok else 'not usable'}: {why}"


def _backend_choice() -> Any:
    """The backend ``burntray`` would pick here (``ui.backend.choose_backend``), an exception
    if choosing failed, or None when this build has no chooser."""
    try:
        backend = importlib.import_module("burntray.ui.backend")
    except ModuleNotFoundError as exc:
        if exc.name == "burntray.ui.backend":
            return None
        return exc
    except Exception as exc:  # reported by the "tray choice" line
        return exc
    choose = getattr(backend, "choose_backend", None)
    if choose is None:
        return None
    try:
        return choose()
    except Exception as exc:  # informative only
        return exc


def _headless(choice: Any) -> bool:
    """No display and no tray host here (a server), so ``burntray`` shows the terminal view. A
    backend forced with ``PYSTRAY_BACKEND`` is still loaded and checked, as the app would load
    it."""
    import os  # noqa: PLC0415

    if os.environ.get("PYSTRAY_BACKEND", "").strip():
        return False
    # With a display but no tray host yet, the tray backend is still what an installation must
    # be able to load (a panel may start later): only a machine with no display at all is
    # headless.
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return False
    return getattr(choice, "name", None) == "terminal"


def _terminal_view_line(choice: Any, snapshot: Any) -> str:
    """What ``burntray`` does with no tray: the terminal view's modules load and it formats the
    line it would print for the snapshot read above."""
    from burntray.model.format import status_line  # noqa: PLC0415

    importlib.import_module("burntray.ui.terminal")
    shown = (
        f"it would print: {status_line(snapshot)}"
        if snapshot is not None
        else ("no source is in use yet: it prints a line of figures once one is")
    )
    return f"terminal view (no tray here: {choice.reason}); {shown}"


def _backend_choice_line(choice: Any) -> str:
    """Which backend the tray would pick here and why, when this build has the tray's chooser.

    Informational: no tray host (say, GNOME without the AppIndicator extension) is the desktop's
    state, not a broken installation; the tray then explains it and shows the terminal view.
    """
    if choice is None:
        return ""
    if isinstance(choice, ImportError):  # in the build but cannot be imported: a failure
        raise choice
    if isinstance(choice, BaseException):
        return f"backend choice failed: {choice!r}"
    return f"{getattr(choice, 'name', choice)}: {getattr(choice, 'reason', '')}".rstrip(": ")


def _notifier_line() -> str:
    """The desktop-notifier backend alerts would use here (imported, not connected)."""
    try:
        main = importlib.import_module("desktop_notifier.main")
    except ModuleNotFoundError as exc:
        if (exc.name or "").startswith("desktop_notifier"):
            return ""  # a build without native notifications: alerts use their fallback
        raise
    backend = main.get_backend_class()
    return f"desktop-notifier backend {backend.__name__} loaded"
