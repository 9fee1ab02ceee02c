"""What reaches ``burntray.log``, read from the real file after real runs: `serve`'s alerts, each
source's health changes (once, with the reason), other libraries' failures as one line, and the
demo's synthetic spikes kept out of it."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from burntray.config import Settings
from burntray.logsetup import setup_logging
from burntray.model.pricing import build_price_table
from burntray.paths import AppPaths
from burntray.runtime.monitor import Monitor
from burntray.sources.hexai.source import HexaiSource
from burntray.sources.hexai.writer import hexai_update
from burntray.ui.notify import DesktopNotify
from tests.cburn_daemon import free_port
from tests.processes import read_line, wait_for

pytestmark = pytest.mark.usefixtures("clean_root_logger")

NS = 1_000_000_000
SPIKE_RECV = 4 * 80_000  # $1.20 in one request: $14.40/h over the 5 min window
BASELINE_RECV = 4 * 40_000  # $0.60 half an hour ago
MODEL = ("anthropic", "claude-sonnet-4-5")


def _home() -> Path:
    return Path(os.environ["BURNTRAY_HOME"])


def _config(text: str, root: Path | None = None) -> None:
    config = (root or _home()) / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text(text)


def _text(path: Path) -> str:
    return path.read_text() if path.exists() else ""


OUTPUT: dict[str, str] = {}  # the last process's stdout and stderr, once it has ended


@contextmanager
def _burntray(*args: str) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "burntray", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate(timeout=5)
        OUTPUT.update(stdout=out, stderr=err)
        if proc.returncode != 0:
            print(out, err, file=sys.stderr)


@pytest.mark.slow
def test_serve_writes_a_fired_alert_to_its_log_file(hexai_dir: Path) -> None:
    _config('source = "hexai"\npoll_interval = 0.2\n')
    half_hour_ago = time.time_ns() - 30 * 60 * NS
    hexai_update(hexai_dir, *MODEL, 0, BASELINE_RECV, clock_ns=lambda: half_hour_ago)
    log_file = _home() / "log" / "burntray.log"
    port = free_port()
    with _burntray("serve", "--metrics", f"127.0.0.1:{port}") as proc:
        assert proc.stderr is not None
        started = read_line(proc.stderr, 20, "serve's start line")
        assert started.startswith("burntray serve: source hexai"), started
        hexai_update(hexai_dir, *MODEL, 0, SPIKE_RECV)  # one expensive request: the spike
        wait_for(lambda: "alert (hexai)" in _text(log_file), 20, "the alert in burntray.log")
    text = _text(log_file)
    assert "alert (hexai) burntray: spend spike (hexai): Spend spike: $14.40/h" in text, text


@pytest.mark.slow
def test_serve_logs_a_source_error_once_to_its_file_and_stderr(hexai_dir: Path) -> None:
    _config('source = "hexai"\npoll_interval = 0.2\n')
    stats = hexai_dir / "stats.json"
    broken = '{"version": 1, "events": "not a list"}\n'
    stats.write_text(broken)
    log_file = _home() / "log" / "burntray.log"
    port = free_port()
    seen: set[str] = set()

    def ticks() -> int:  # distinct published snapshots: each is one monitor tick
        stats.write_text(broken)  # the same broken file again: a change wakes the monitor
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/status", timeout=2) as r:
                seen.add(json.load(r)["as_of"])
        except OSError:
            pass
        return len(seen)

    with _burntray("serve", "--metrics", f"127.0.0.1:{port}"):
        wait_for(lambda: "source hexai: error" in _text(log_file), 20, "the error in the log")
        wait_for(lambda: ticks() >= 10, 20, "ten ticks in error")
    text = _text(log_file)
    assert text.count("source hexai: error") == 1, text  # once, not once per tick
    assert "stats.json" in text.split("source hexai: error", 1)[1].splitlines()[0]  # why
    assert OUTPUT["stderr"].count("burntray: source hexai: error") == 1, OUTPUT["stderr"]


def test_a_source_error_is_logged_once_with_its_reason_and_its_recovery(
    hexai_dir: Path, tmp_path: Path
) -> None:
    paths = AppPaths(tmp_path / "c", tmp_path / "d", tmp_path / "k", tmp_path / "log")
    setup_logging(paths)
    stats = hexai_dir / "stats.json"
    prices = build_price_table()
    hexai_update(hexai_dir, *MODEL, 100, 100)
    monitor = Monitor(Settings(source="hexai"), lambda s: HexaiSource(hexai_dir, prices))
    try:
        monitor.tick()
        stats.write_text('{"version": 1, "events": "not a list"}\n')  # hexai's file, broken
        for _ in range(5):  # five ticks in error: one line
            os.utime(stats, ns=(time.time_ns(), time.time_ns()))
            monitor.tick()
        latest = monitor.slot.get()[1]
        assert latest is not None and latest.status.state == "error"
        stats.unlink()
        hexai_update(hexai_dir, *MODEL, 100, 100)
        monitor.tick()
    finally:
        monitor.stop()
    text = paths.log_file.read_text()
    errors = [line for line in text.splitlines() if "source hexai: error" in line]
    assert len(errors) == 1, text
    assert str(stats.name) in errors[0] or "events" in errors[0], errors  # says why
    assert "WARNING" in errors[0]
    assert "source hexai: readable again (was error)" in text


def test_other_libraries_chatter_is_dropped_and_their_failures_are_one_line(
    tmp_path: Path,
) -> None:
    paths = AppPaths(tmp_path / "c", tmp_path / "d", tmp_path / "k", tmp_path / "log")
    setup_logging(paths, verbose=True)  # -v: burntray's own debug lines are wanted
    loop = asyncio.new_event_loop()  # asyncio logs "Using selector: EpollSelector" at DEBUG
    loop.close()

    class XError(Exception):
        pass

    try:
        raise XError([("BadMatch", object())])
    except XError:
        logging.getLogger("pystray._xorg").error("Failed to dock icon", exc_info=True)
    try:
        raise ConnectionError("org.freedesktop.DBus.Error.ServiceUnknown")
    except ConnectionError:
        logging.getLogger("desktop_notifier.backends.base").warning(
            "Notification failed", exc_info=True
        )
    logging.getLogger("burntray.test").debug("our own debug line")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = paths.log_file.read_text()
    assert "Using selector" not in text
    assert "Traceback" not in text and " at 0x" not in text, text
    assert "pystray._xorg: Failed to dock icon (XError: [('BadMatch', <object>)])" in text
    assert (
        "desktop_notifier.backends.base: Notification failed "
        "(ConnectionError: org.freedesktop.DBus.Error.ServiceUnknown)"
    ) in text
    assert "burntray.test: our own debug line" in text
    assert len(text.splitlines()) == 3, text


@pytest.mark.slow
def test_the_demo_logs_its_synthetic_spike_to_its_own_log() -> None:
    demo_root = _home() / "cache" / "demo"
    _config("poll_interval = 0.2\n", demo_root)
    real_log = _home() / "log" / "burntray.log"
    demo_log = demo_root / "log" / "burntray.log"
    with _burntray("demo", "--terminal") as proc:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the first figures line: the demo is running
        assert line.startswith("DEMO · hexai"), line
        # $60 in one request into the demo's own synthetic cache: a spike over any baseline
        hexai_update(demo_root / "hexai", *MODEL, 0, 4 * 4_000_000)
        wait_for(lambda: "alert (hexai)" in _text(demo_log), 20, "the spike in the demo's log")
    assert "spend spike" not in _text(real_log)
    assert "alert (hexai)" not in _text(real_log)


def test_a_notification_without_a_bus_is_one_line_in_the_log(tmp_path: Path) -> None:
    """The conftest's session bus address cannot connect: desktop-notifier's failure reaches
    the log as one line, never a traceback."""
    paths = AppPaths(tmp_path / "c", tmp_path / "d", tmp_path / "k", tmp_path / "log")
    setup_logging(paths)
    notifier = DesktopNotify()
    try:
        notifier.notify("burntray: spend spike (hexai)", "Spend spike: $14.40/h")
        wait_for(lambda: notifier.failed == 1, 15, "the failed send to be counted")
    finally:
        notifier.close()
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = paths.log_file.read_text()
    assert "Traceback" not in text and " at 0x" not in text, text
    lines = [line for line in text.splitlines() if "notif" in line.lower()]
    assert lines and all(line[:4].isdigit() for line in text.splitlines()), text  # one-liners
