"""cburn daemon client benchmarks (issue 3), against the test daemon in its own process.

- event-to-snapshot latency: the daemon stamps each event's snapshot ``at`` when it publishes;
  the monitor's observer notes when a Snapshot carrying it is published (p50/p99 of 1,000
  events, paced so each is measured alone). Target p99 <= 20 ms on loopback.
- sustained ingest: the daemon publishes as fast as it can; events/s received, events the
  daemon dropped for a slow reader (its 16-slot buffer), and the lag at the start vs the end of
  the flood (a growing backlog would show as a growing lag). Target >= 10,000 events/s.
- client CPU while following a silent daemon (monitor at the default 1 s poll, default 30 s
  probe): CPU seconds / wall seconds. ``BURNTRAY_BENCH_CBURN_IDLE_S`` overrides the 60 s.
"""

from __future__ import annotations

import bisect
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.cburn_daemon import DaemonProcess  # noqa: E402

from burntray.config import Settings  # noqa: E402
from burntray.model.snapshot import Snapshot  # noqa: E402
from burntray.runtime.monitor import Monitor  # noqa: E402
from burntray.sources.cburn import wire  # noqa: E402
from burntray.sources.cburn.client import Timing  # noqa: E402
from burntray.sources.cburn.discovery import Discovery  # noqa: E402
from burntray.sources.cburn.source import CburnSource  # noqa: E402
from burntray.store.history import HistoryStore  # noqa: E402
from target import missed, percentile  # noqa: E402 - bench/ is on sys.path (run.py)

IDLE_S = float(os.environ.get("BURNTRAY_BENCH_CBURN_IDLE_S", "60"))
LATENCY_EVENTS = 1000
FLOOD_EVENTS = 50_000


class _Client:
    """A monitor following a streaming CburnSource, as the tray runs it."""

    def __init__(self, url: str, history: HistoryStore, poll_interval_s: float = 60.0) -> None:
        self.source = CburnSource(Discovery(url, "bench"), history, timing=Timing())
        self.seen: list[tuple[int, int]] = []  # (published at, data_updated_ns)
        self.changed = threading.Event()
        settings = Settings(source="cburn", poll_interval_s=poll_interval_s)
        self.monitor = Monitor(settings, lambda _s: self.source, history=history)
        self.monitor.observers.append(self._observe)
        self.monitor.start()

    def _observe(self, snapshot: Snapshot) -> None:
        if snapshot.data_updated_ns is not None:
            self.seen.append((time.time_ns(), snapshot.data_updated_ns))
        self.changed.set()

    def wait_for(self, at_ns: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.seen and self.seen[-1][1] >= at_ns:
                return True
            self.changed.wait(0.05)
            self.changed.clear()
        return False

    def stop(self) -> None:
        self.monitor.stop()


def _latency(daemon: DaemonProcess, history: HistoryStore) -> list[tuple[str, str]]:
    client = _Client(daemon.url, history)  # the monitor publishes on wake() only
    try:
        daemon.send(op="wait_subscribers", n=1)
        client.seen.clear()
        got, _ = _flood(daemon, client, LATENCY_EVENTS, 300, 1)  # one every ~3 ms
        got = [(r, at) for r, at in got if at]  # not a greeting sent before the first poll
        client.wait_for(max(at for _, at in got), 5)
        published = sorted(client.seen, key=lambda p: p[1])
        covered = [at for _, at in published]
        lat_ms = []
        for _, at in got:
            first = min(t for t, _ in published[bisect.bisect_left(covered, at) :])
            lat_ms.append((first - at) / 1e6)
        return [
            ("latency: events measured", f"{len(lat_ms)} of {LATENCY_EVENTS}"),
            ("latency: event -> published snapshot p50", f"{statistics.median(lat_ms):.2f} ms"),
            (
                "latency: event -> published snapshot p99",
                f"{percentile(lat_ms, 0.99):.2f} ms (target <= 20 ms)"
                + missed(percentile(lat_ms, 0.99) <= 20),
            ),
        ]
    finally:
        client.stop()


def _flood(
    daemon: DaemonProcess, client: _Client, n: int, rate: float, base: int
) -> tuple[list[tuple[int, int]], float]:
    """Publish n events (blocking: nothing dropped); returns (received at, event at), seconds."""
    received: list[tuple[int, int]] = []
    original = client.source._accept_event

    def timed(event):  # type: ignore[no-untyped-def]
        original(event)
        received.append((time.time_ns(), wire.go_time_ns(event.snapshot.at, "at") or 0))

    client.source._accept_event = timed  # type: ignore[method-assign]
    try:
        started = time.perf_counter()
        daemon.send(op="flood", n=n, base=base, block=True, rate=rate)
        deadline = time.monotonic() + 30
        while len(received) < n and time.monotonic() < deadline:
            time.sleep(0.005)
        return received, time.perf_counter() - started
    finally:
        client.source._accept_event = original  # type: ignore[method-assign]


def _ingest(daemon: DaemonProcess, history: HistoryStore) -> list[tuple[str, str]]:
    client = _Client(daemon.url, history, poll_interval_s=1.0)
    try:
        daemon.send(op="wait_subscribers", n=1)
        rows = []
        got, took = _flood(daemon, client, FLOOD_EVENTS, 0, 10_000_000)
        rows.append(
            (
                "ingest: unpaced (the test daemon's top speed)",
                f"{min(len(got), FLOOD_EVENTS)}/{FLOOD_EVENTS} events, "
                f"{len(got) / took:,.0f} events/s",
            )
        )
        offered = 12_000
        got, took = _flood(daemon, client, 5 * offered, offered, 20_000_000)
        tenth = max(1, len(got) // 10)
        lag_first = statistics.median((r - at) / 1e6 for r, at in got[:tenth])
        lag_last = statistics.median((r - at) / 1e6 for r, at in got[-tenth:])
        rows += [
            (
                f"ingest: paced at {offered:,}/s for 5 s",
                f"{len(got)}/{5 * offered} events, {len(got) / took:,.0f} events/s "
                f"(target >= 10,000){missed(len(got) / took >= 10_000)}",
            ),
            (
                "ingest: lag first 10% / last 10% (p50)",
                f"{lag_first:.2f} / {lag_last:.2f} ms (flat = no growing backlog)",
            ),
            ("ingest: dropped by the daemon", str(client.source.stats["dropped"])),
        ]
        return rows
    finally:
        client.stop()


def _idle_cpu(daemon: DaemonProcess, history: HistoryStore) -> list[tuple[str, str]]:
    client = _Client(daemon.url, history, poll_interval_s=1.0)  # the default poll interval
    try:
        daemon.send(op="wait_subscribers", n=1)
        time.sleep(1.0)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        time.sleep(IDLE_S)
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - wall0
        return [
            (
                f"idle: client CPU over {wall:.0f} s of a silent stream",
                f"{100 * cpu / wall:.4f} % of one core (target <= 0.1 %)"
                + missed(100 * cpu / wall <= 0.1),
            ),
            ("idle: reconnects after silent probes", str(client.source.stats["probes"])),
        ]
    finally:
        client.stop()


def run() -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp, DaemonProcess() as daemon:
        history = HistoryStore(Path(tmp) / "history.sqlite3")
        for phase in (_latency, _ingest, _idle_cpu):
            daemon.send(op="wait_subscribers", n=0)  # the previous phase's client is gone
            rows += phase(daemon, history)
        history.close()
    return rows


if __name__ == "__main__":
    for figure, value in run():
        print(f"{figure:<58} {value}")
