"""The live terminal view: one line, refreshed in place; Ctrl-C exits 0.

Used when there is no display or tray, and by ``burntray run --terminal``. It reads the same
monitor as the tray, on the main thread, from the latest-value slot.
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from burntray.app import AppContext
from burntray.lazylog import get_logger
from burntray.model.format import status_line
from burntray.runtime.session import Session
from burntray.ui.notify import DesktopNotify

log = get_logger(__name__)


def run_terminal(
    ctx: AppContext,
    reason: str = "",
    out: TextIO | None = None,
    stop: threading.Event | None = None,
    verbose: bool = False,
) -> int:
    """Show the live line on ``out`` until ``stop``, SIGTERM or SIGINT (Ctrl-C); 0."""
    out = out or sys.stdout
    session = Session(
        ctx,
        view="terminal view",
        notifier=DesktopNotify(label="DEMO" if ctx.demo else ""),
        verbose=verbose,
        stop=stop,
    )
    stop = session.stop_requested
    session.start()
    interactive = out.isatty()
    if reason:
        print(f"burntray: terminal view ({reason}); Ctrl-C quits", file=sys.stderr)
    if ctx.config_error:
        print(f"burntray: config ignored, using defaults:\n{ctx.config_error}", file=sys.stderr)
    monitor = session.monitor
    seen, last_line = 0, ""
    try:
        while not stop.is_set():
            seen, snapshot = monitor.slot.wait_newer(seen, timeout=0.5)
            if snapshot is None:
                continue
            line = ("DEMO · " if ctx.demo else "") + status_line(snapshot)
            if snapshot.alert_text:
                line += " · " + snapshot.alert_text
            if line == last_line:
                continue
            last_line = line
            if interactive:
                out.write("\r\x1b[2K" + line)
            else:
                out.write(line + "\n")
            out.flush()
    except KeyboardInterrupt:
        pass
    finally:
        session.close()
        if interactive:
            out.write("\n")
    return 0
