"""End to end: a real writer process spends into a hexai cache while ``burntray run --terminal``
runs as a user runs it, on a private D-Bus with a fake notification daemon.

Exactly one Notify for the spike, with the numbers in its text; none while spending goes on
within the cooldown; none after a restart in the middle of the spike.
"""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from burntray.sources.hexai.writer import hexai_update
from tests.processes import wait_for

from .notify_bus import NotifyBus, notification_service_bus

pytestmark = pytest.mark.slow

WRITER = Path(__file__).with_name("spend_writer.py")
# claude-sonnet-4-5 output costs $15 per million tokens and hexai tokens are bytes/4:
SPIKE_RECV = 4 * 80_000  # $1.20 in one request: $14.40/h over the 5 min window
BASELINE_RECV = 4 * 40_000  # $0.60 half an hour ago: $0.60/h over the baseline hour
SUMMARY = "burntray: spend spike (hexai)"
BODY = (
    "Spend spike: $14.40/h (5 min) - 24.0x the last hour. Top: anthropic claude-sonnet-4-5 $14.40/h"
)


class Burntray:
    """``python -m burntray run --terminal`` with its stdout lines collected on a thread."""

    def __init__(self, env: dict[str, str], command: str = "run") -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "burntray", command, "--terminal"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_line(self, needle: str, timeout_s: float = 20) -> str:
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"burntray never printed {needle!r}; got {self.seen[-5:]}")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append(line)
            if needle in line:
                return line

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                assert self.proc.wait(10) == 0
            finally:
                if self.proc.poll() is None:
                    self.proc.kill()
                    self.proc.wait(5)


def run_writer(hexai_dir: Path, count: int, interval_s: float, recv: int) -> None:
    result = subprocess.run(
        [sys.executable, str(WRITER), str(hexai_dir), str(count), str(interval_s), str(recv)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.splitlines()[-1] == f"wrote {count}"


def alert_log(home: Path) -> list[tuple[str, str, str, str]]:
    with sqlite3.connect(home / "data" / "history.sqlite3") as conn:
        return conn.execute("SELECT source, kind, level, message FROM alert_log").fetchall()


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[NotifyBus]:
    with notification_service_bus(tmp_path) as bus:
        yield bus


def test_one_notification_per_spike_none_within_cooldown_none_after_restart(
    bus: NotifyBus, hexai_dir: Path, tmp_path: Path
) -> None:
    home = Path(os.environ["BURNTRAY_HOME"])
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text('source = "hexai"\npoll_interval = 0.2\n')
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": bus.address}
    half_hour_ago = time.time_ns() - 30 * 60 * 1_000_000_000
    model = ("anthropic", "claude-sonnet-4-5")
    hexai_update(hexai_dir, *model, 0, BASELINE_RECV, clock_ns=lambda: half_hour_ago)

    app = Burntray(env)
    try:
        app.wait_line("1 reqs")  # running, with the quiet baseline only
        assert bus.notifications() == []

        run_writer(hexai_dir, 1, 0, SPIKE_RECV)  # one expensive request: the spike
        wait_for(bus.notifications, 20, "the spike notification")
        app.wait_line("Spend spike: $14.40/h (5 min)")
        (note,) = bus.notifications()
        assert note["app_name"] == "burntray"
        assert note["summary"] == SUMMARY
        assert note["body"] == BODY
        assert note["app_icon"] == "burntray"

        # Spending goes on (10 more requests) within the cooldown: the same spike, no Notify.
        run_writer(hexai_dir, 10, 0.2, SPIKE_RECV // 4)
        app.wait_line("12 reqs")  # burntray has seen every write; alerts run before the line
        assert len(bus.notifications()) == 1
        assert alert_log(home) == [("hexai", "spike", "spike", BODY)]
    finally:
        app.stop()

    # Restart in the middle of the spike: the persisted state says it was already told.
    run_writer(hexai_dir, 1, 0, SPIKE_RECV // 4)
    app = Burntray(env)
    try:
        line = app.wait_line("13 reqs")
        assert "Spend spike:" in line  # the spike state came back with the persisted state
        assert len(bus.notifications()) == 1
        assert len(alert_log(home)) == 1
    finally:
        app.stop()
    log_text = (home / "log" / "burntray.log").read_text()
    assert log_text.count("alert (hexai) burntray: spend spike") == 1


def test_the_demo_says_demo_in_its_lines_and_notifications(bus: NotifyBus) -> None:
    """`burntray demo` spends only synthetic money: a spike it notifies must not read as real."""
    demo_root = Path(os.environ["BURNTRAY_HOME"]) / "cache" / "demo"
    (demo_root / "config").mkdir(parents=True)
    (demo_root / "config" / "config.toml").write_text("poll_interval = 0.2\n")
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": bus.address}
    app = Burntray(env, "demo")
    try:
        app.wait_line("DEMO · hexai · 1h · ")
        # $60 in one request into the demo's own synthetic cache: a spike over any baseline.
        hexai_update(demo_root / "hexai", "anthropic", "claude-sonnet-4-5", 0, 4 * 4_000_000)
        wait_for(bus.notifications, 20, "the demo's spike notification")
        app.wait_line("Spend spike:")
        note = bus.notifications()[0]
        assert note["app_name"] == "burntray DEMO"
        assert note["summary"] == "DEMO · burntray: spend spike (hexai)"
    finally:
        app.stop()
