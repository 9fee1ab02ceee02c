"""``burntray`` / ``burntray run``: the tray when there is one, else the terminal view.

The backend is chosen once (``ui.backend``); when there is no display or no tray, or the chosen
backend fails to start, the terminal view runs instead with a one-line explanation.

``open_url`` starts the browser for "Open report" and ``report --open``, waits long enough to
tell a failure, and reaps it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Mapping

from burntray.app import AppContext
from burntray.lazylog import get_logger

log = get_logger(__name__)


def launch(
    ctx: AppContext, *, terminal: bool = False, verbose: bool = False, demo: bool = False
) -> int:
    from burntray.ui.terminal import run_terminal  # noqa: PLC0415

    label = "DEMO with synthetic data; " if demo else ""
    if terminal:
        return run_terminal(ctx, reason=f"{label}asked for with --terminal", verbose=verbose)
    from burntray.ui.backend import TERMINAL, choose_backend  # noqa: PLC0415

    choice = choose_backend(ctx.env)
    if choice.name == TERMINAL:
        return run_terminal(ctx, reason=f"{label}no tray: {choice.reason}", verbose=verbose)
    from burntray.ui.tray import TrayApp  # noqa: PLC0415

    app = TrayApp(ctx, choice, demo=demo, verbose=verbose)
    try:
        app.prepare()
    except Exception as exc:  # e.g. Xlib cannot connect, GTK cannot initialise
        app.close()  # its session (a /metrics server already on, the notifier) ends here
        return run_terminal(
            ctx, reason=f"{label}the {choice.name} tray failed to start: {exc}", verbose=verbose
        )
    return app.run()  # its session sets up the log


# --- the browser for "Open report" -------------------------------------------------------------

BROWSER_CHECK_S = 3.0  # how long a browser may take to fail before it counts as having opened


def open_url(url: str, wait_s: float | None = None, env: Mapping[str, str] | None = None) -> str:
    """Show ``url`` in the user's browser; returns ``""`` when one started, else why none did.

    The browser is ``$BROWSER`` (entries separated by ``os.pathsep``, ``%s`` standing for the
    URL, else it is appended, as Python's ``webbrowser`` reads it), else the desktop's opener
    (``xdg-open``, ``open``), else whatever ``webbrowser`` finds. Each is started in its own
    session and watched for ``wait_s`` (default ``BROWSER_CHECK_S``): failing to start or
    exiting non-zero in that time is a failure (with its first line of complaint) and the next
    entry is tried; one still running then has opened the page. Every process started is
    waited for (a thread waits for one still running), so none is left as a zombie, and a
    late non-zero exit is logged.
    Blocks up to ``wait_s`` per entry: call it from a job thread.
    """
    env = os.environ if env is None else env
    wait_s = BROWSER_CHECK_S if wait_s is None else wait_s
    if sys.platform == "win32" and not env.get("BROWSER", "").strip():
        try:
            os.startfile(url)  # type: ignore[attr-defined]  # noqa: S606 - Windows only
        except OSError as exc:
            return f"Windows could not open {url}: {exc.strerror or exc}"
        return ""
    commands = browser_commands(url, env)
    reasons: list[str] = []
    for argv in commands:
        why = _start_and_watch(argv, wait_s)
        if not why:
            return ""
        reasons.append(why)
        log.warning("browser: %s", why)
    if not commands:
        return _webbrowser_fallback(url)
    return "; ".join(reasons)


def browser_commands(url: str, env: Mapping[str, str]) -> list[list[str]]:
    """The commands to try, in order, for ``url`` (see ``open_url``)."""
    commands = []
    for entry in env.get("BROWSER", "").split(os.pathsep):
        try:  # Windows paths keep their backslashes: one program path per entry there
            words = shlex.split(entry) if os.name != "nt" else [entry.strip().strip('"')]
        except ValueError:  # an unbalanced quote: take the entry as one program name
            words = [entry.strip()]
        if not words or not words[0]:
            continue
        if any("%s" in w for w in words):
            commands.append([w.replace("%s", url) for w in words])
        else:
            commands.append([*words, url])
    if commands:
        return commands
    opener = "open" if sys.platform == "darwin" else "xdg-open"
    if shutil.which(opener, path=env.get("PATH")):
        return [[opener, url]]
    return []


def _start_and_watch(argv: list[str], wait_s: float) -> str:
    name = os.path.basename(argv[0])
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # the browser outlives a closed tray or terminal
        )
    except OSError as exc:
        return f"{name} could not be started: {exc.strerror or exc}"
    assert proc.stderr is not None
    try:
        proc.wait(wait_s)
    except subprocess.TimeoutExpired:
        threading.Thread(
            target=_reap_browser, args=(proc, name), name="burntray-browser", daemon=True
        ).start()
        return ""
    said = proc.stderr.read(4000).decode(errors="replace").strip().splitlines()
    proc.stderr.close()
    if proc.returncode == 0:
        return ""
    return f"{name} failed (exit {proc.returncode})" + (f": {said[0][:300]}" if said else "")


def _reap_browser(proc: subprocess.Popen[bytes], name: str) -> None:
    """Drain what a running browser writes (a full pipe would stall it), then reap it."""
    assert proc.stderr is not None
    last = b""
    with proc.stderr:
        while chunk := proc.stderr.read(65536):
            last = chunk
    code = proc.wait()
    if code != 0:
        lines = last.decode(errors="replace").strip().splitlines()
        tail = f": {lines[-1][:300]}" if lines else ""
        log.warning("browser %s exited with code %s%s", name, code, tail)


def _webbrowser_fallback(url: str) -> str:
    import webbrowser  # noqa: PLC0415 - only when neither $BROWSER nor an opener exists

    try:
        if webbrowser.open(url):
            return ""
    except (webbrowser.Error, OSError) as exc:
        return f"no browser could be started: {exc}"
    return "no browser found: set $BROWSER or install xdg-utils"
