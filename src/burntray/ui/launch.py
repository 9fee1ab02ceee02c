"""``burntray`` / ``burntray run``: the tray when there is one, else the terminal view.

The backend is chosen once (``ui.backend``); when there is no display or no tray, or the chosen
backend fails to start, the terminal view runs instead with a one-line explanation.
"""

from __future__ import annotations

from burntray.app import AppContext
from burntray.logsetup import setup_logging


def launch(
    ctx: AppContext, *, terminal: bool = False, verbose: bool = False, demo: bool = False
) -> int:
    from burntray.ui.terminal import run_terminal  # noqa: PLC0415

    label = "DEMO with synthetic data; " if demo else ""
    if terminal:
        return run_terminal(ctx, reason=f"{label}asked for with --terminal")
    from burntray.ui.backend import TERMINAL, choose_backend  # noqa: PLC0415

    choice = choose_backend(ctx.env)
    if choice.name == TERMINAL:
        return run_terminal(ctx, reason=f"{label}no tray: {choice.reason}")
    from burntray.ui.tray import TrayApp  # noqa: PLC0415

    app = TrayApp(ctx, choice, demo=demo)
    try:
        app.prepare()
    except Exception as exc:  # e.g. Xlib cannot connect, GTK cannot initialise
        ctx.close()
        return run_terminal(ctx, reason=f"{label}the {choice.name} tray failed to start: {exc}")
    setup_logging(ctx.paths, verbose)  # the terminal view sets up its own
    return app.run()
