"""One session for the tray, the terminal view and ``serve``: it builds the monitor, history,
alerts, notifier and /metrics, and stops them all, promptly and once.

Real parts throughout: the monitor thread over a real hexai cache, the history file in the
test's tmp dir, /metrics over real HTTP on 127.0.0.1, and real ``burntray`` processes stopped
with real signals.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from burntray.app import AppContext
from burntray.runtime.session import Session
from burntray.serve.figures import FiguresBoard
from burntray.serve.run import FiguresPublisher, ServedFigures, figures_server
from burntray.sources.hexai.writer import hexai_update
from burntray.store.history import CHECKPOINTER_THREAD
from burntray.ui.backend import BackendChoice
from burntray.ui.notify import DesktopNotify
from tests.cburn_daemon import free_port
from tests.processes import read_line

USES = ("terminal", "tray", "serve")


def load_context(port: int, tray_metrics: bool = False) -> AppContext:
    from burntray.paths import app_paths

    config = app_paths().config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f'source = "hexai"\n[serve]\nmetrics = "127.0.0.1:{port}"\n'
        f"tray_metrics = {str(tray_metrics).lower()}\n"
    )
    return AppContext.load(strict=False)


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def metrics_text(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        assert answer.status == 200
        return str(answer.read().decode())


def monitor_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "burntray-monitor"]


def build(use: str, ctx: AppContext, port: int) -> Session:
    """The session as each use builds it (the tray through ``TrayApp`` itself)."""
    if use == "terminal":
        return Session(ctx, view="terminal view", notifier=DesktopNotify())
    if use == "tray":
        from burntray.ui.tray import TrayApp

        return TrayApp(ctx, BackendChoice("dummy", "test"), demo=True).session
    board = FiguresBoard(ctx.clock_ns())
    server = figures_server(ctx.settings, "127.0.0.1", port, board)
    server.start()
    served = ServedFigures(server, FiguresPublisher(ctx, ctx.settings, board), None)
    return Session(ctx, view="serve", settings=ctx.settings, metrics=served)


@pytest.mark.parametrize("use", USES)
def test_the_session_starts_and_stops_cleanly(use: str, hexai_dir: Path) -> None:
    hexai_update(hexai_dir, "openai", "gpt-4.1", 4000, 400)
    port = free_port()
    ctx = load_context(port, tray_metrics=True)
    before = len(monitor_threads())
    session = build(use, ctx, port)
    try:
        session.start_monitor()  # logging and signal handlers belong to the process, not pytest
        _, snapshot = session.monitor.slot.wait_newer(0, timeout=10)
        assert snapshot is not None and snapshot.totals.reqs == 1
        assert session.monitor.alive
        assert ctx.paths.history_db.is_file()  # the real history, opened once for the session
        history = ctx.history()  # long-running: its WAL is checkpointed beside the writes
        assert history is not None and history.checkpointer_running
        if use != "terminal":  # the tray (tray_metrics on) and serve publish /metrics
            deadline = time.monotonic() + 10
            while "burntray_requests" not in metrics_text(port):
                assert time.monotonic() < deadline, "no figures on /metrics within 10 s"
                session.monitor.refresh()
                time.sleep(0.05)
    finally:
        session.close()
    assert session.closed and session.stop_requested.is_set()
    assert not session.monitor.alive
    assert len(monitor_threads()) == before
    assert not [t for t in threading.enumerate() if t.name == CHECKPOINTER_THREAD]
    assert not listening(port)  # the /metrics server is closed with the session
    assert ctx._history is None  # the history file is closed
    session.close()  # a second stop does nothing and raises nothing


def test_one_part_failing_to_stop_does_not_keep_the_others_running(hexai_dir: Path) -> None:
    port = free_port()
    ctx = load_context(port)
    session = build("serve", ctx, port)
    stopped: list[str] = []

    def broken() -> None:
        stopped.append("broken")
        raise RuntimeError("cannot stop")

    session.add_closer("broken part", broken)
    session.start_monitor()
    session.close()
    assert stopped == ["broken"]
    assert not session.monitor.alive
    assert not listening(port)
    assert ctx._history is None


def test_a_tray_that_never_showed_frees_its_metrics_port(hexai_dir: Path) -> None:
    """``launch`` falls back to the terminal view when the tray cannot start: the tray's
    session ends first, so the /metrics server it switched on no longer holds the port."""
    from burntray.ui.tray import TrayApp

    port = free_port()
    ctx = load_context(port, tray_metrics=True)
    app = TrayApp(ctx, BackendChoice("dummy", "test"), demo=True)
    assert listening(port)
    app.close()
    assert not listening(port)
    with socket.socket() as sock:  # free for the terminal view's own use, or anyone's
        sock.bind(("127.0.0.1", port))
    app.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("command", ["serve", "terminal"])
def test_a_signal_stops_a_real_process_within_two_seconds(
    command: str, signum: int, hexai_dir: Path
) -> None:
    hexai_update(hexai_dir, "openai", "gpt-4.1", 4000, 400)
    port = free_port()
    args = ["serve", "--source", "hexai", "--metrics", f"127.0.0.1:{port}"]
    if command == "terminal":
        args = ["run", "--terminal"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "burntray", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    try:
        # started: serve says where it listens; the terminal view prints its first line
        stream = proc.stderr if command == "serve" else proc.stdout
        assert stream is not None
        wanted = "burntray serve: source hexai" if command == "serve" else "1 reqs"
        deadline = time.monotonic() + 20
        while wanted not in read_line(stream, 20, f"{command} starting"):
            assert time.monotonic() < deadline, f"{command} did not start"
        if command == "serve":
            assert listening(port)
        proc.send_signal(signum)
        assert proc.wait(timeout=60) == 0  # a hang guard: it ends on the signal
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    if command == "serve":
        assert not listening(port)


def test_the_session_takes_its_views_parts_as_parameters() -> None:
    """runtime is below ui and serve: the session names no view, notifier or server module (the
    tray's endpoint and serve's figures come in as ``metrics``, the desktop notifier as
    ``notifier``), so each of the three can use it without an import knot."""
    from tests.unit.test_structure import import_graph

    reaches = import_graph()["burntray.runtime.session"]
    assert sorted(m for m in reaches if m.startswith(("burntray.ui", "burntray.serve"))) == []
