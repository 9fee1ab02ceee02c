"""The live terminal view: one line, refreshed in place; Ctrl-C exits 0.

Used when there is no display or tray, and by ``burntray run --terminal``. It reads the same
monitor as the tray, on the main thread, from the latest-value slot.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import TextIO

from burntray.app import AppContext
from burntray.lazylog import get_logger
from burntray.logsetup import setup_logging
from burntray.model.format import status_line
from burntray.runtime.alerting import install_alerts
from burntray.runtime.monitor import Monitor
from burntray.ui.notify import DesktopNotify

log = get_logger(__name__)


def run_terminal(
    ctx: AppContext,
    reason: str = "",
    out: TextIO | None = None,
    stop: threading.Event | None = None,
    verbose: bool = False,
) -> int:
    out = out or sys.stdout
    stop = stop or threading.Event()
    setup_logging(ctx.paths, verbose)
    interactive = out.isatty()
    if reason:
        print(f"burntray: terminal view ({reason}); Ctrl-C quits", file=sys.stderr)
    log.info(
        "terminal view: started (source %s, window %s)", ctx.settings.source, ctx.settings.window
    )
    if ctx.config_error:
        print(f"burntray: config ignored, using defaults:\n{ctx.config_error}", file=sys.stderr)
    monitor = Monitor(
        ctx.settings,
        ctx.build_source,
        history=ctx.history(),
        clock_ns=ctx.clock_ns,
    )
    notifier = DesktopNotify(label="DEMO" if ctx.demo else "")
    install_alerts(monitor, ctx, notifier)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    monitor.start()
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
        monitor.stop()
        notifier.close()
        if interactive:
            out.write("\n")
        ctx.close()
    return 0
