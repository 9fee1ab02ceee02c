"""The alert engine inside a real Monitor: real stats.json files, a real history DB, a fake clock.

The notifier here only records what it is handed (delivery over D-Bus is tested in
tests/e2e/test_alert_notifications.py); everything else is the code users run.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from burntray.app import AppContext
from burntray.cli import main as cli_main
from burntray.config import Settings
from burntray.config_write import save_settings
from burntray.model.snapshot import Snapshot
from burntray.runtime.alerting import AlertEngine, install_alerts, local_day
from burntray.runtime.monitor import Monitor
from burntray.sources.hexai.writer import hexai_update
from burntray.store.alert_store import AlertStore

NS_PER_MIN = 60_000_000_000
# Noon UTC, so "today" (in UTC, injected) holds the whole test.
T0 = int(dt.datetime(2027, 3, 10, 12, 0, tzinfo=dt.UTC).timestamp()) * 1_000_000_000
# claude-sonnet-4-5 output costs $15 per million tokens; hexai tokens are bytes/4.
SPIKE_RECV = 4 * 80_000  # 80k output tokens: $1.20 -> $14.40/h over 5 min
BASELINE_RECV = 4 * 40_000  # $0.60 -> $0.60/h over the baseline hour


@dataclass
class FakeClock:
    now: int = T0

    def __call__(self) -> int:
        return self.now


@dataclass
class RecordingNotifier:
    calls: list[tuple[str, str]] = field(default_factory=list)

    def notify(self, title: str, body: str) -> None:
        self.calls.append((title, body))


def write(hexai_dir: Path, clock: FakeClock, recv: int, at: int | None = None) -> None:
    stamp = clock.now if at is None else at
    hexai_update(hexai_dir, "anthropic", "claude-sonnet-4-5", 0, recv, clock_ns=lambda: stamp)


_MONITORS: list[Monitor] = []


@pytest.fixture(autouse=True)
def _stop_monitors() -> Iterator[None]:
    """Monitors here are driven by tick(); stopping them releases their sources (watchers)."""
    yield
    while _MONITORS:
        _MONITORS.pop().stop()


def make_monitor(
    clock: FakeClock, settings: Settings | None = None
) -> tuple[Monitor, AlertEngine, RecordingNotifier, AppContext]:
    ctx = AppContext.load()
    # these tests drive hexai's file; `all` over the same file has a test of its own
    ctx.settings = (settings or Settings()).replace(source="hexai")
    ctx.clock_ns = clock
    monitor = Monitor(ctx.settings, ctx.build_source, history=ctx.history(), clock_ns=clock)
    _MONITORS.append(monitor)
    notifier = RecordingNotifier()
    engine = AlertEngine(ctx.settings, ctx.history(), notifier, tz=dt.UTC)
    monitor.enrichers.append(engine)
    return monitor, engine, notifier, ctx


def tick(monitor: Monitor) -> Snapshot:
    monitor.tick()
    snapshot = monitor.slot.get()[1]
    assert snapshot is not None
    return snapshot


EXPECTED_BODY = (
    "Spend spike: $14.40/h (5 min) - 24.0x the last hour. Top: anthropic claude-sonnet-4-5 $14.40/h"
)


def test_spike_fires_once_persists_and_survives_restart(hexai_dir: Path) -> None:
    clock = FakeClock()
    write(hexai_dir, clock, BASELINE_RECV, at=T0 - 30 * NS_PER_MIN)
    monitor, _engine, notifier, ctx = make_monitor(clock)
    snap = tick(monitor)
    assert snap.alert_level == "normal"
    assert notifier.calls == []

    clock.now += 10 * 1_000_000_000
    write(hexai_dir, clock, SPIKE_RECV)
    snap = tick(monitor)
    assert notifier.calls == [("burntray: spend spike (hexai)", EXPECTED_BODY)]
    assert snap.alert_level == "spike"
    assert snap.alert_text == "Spend spike: $14.40/h (5 min) - 24.0x the last hour"

    # Continued spending for 10 more minutes, never 3x the $14.40/h told: nothing more is told.
    for _ in range(20):
        clock.now += 30 * 1_000_000_000
        write(hexai_dir, clock, SPIKE_RECV // 8)
        assert tick(monitor).alert_level == "spike"
    assert len(notifier.calls) == 1

    # The spend then runs away ($1.20 every 30 s, $144/h): one follow-up, however far it goes.
    for _ in range(12):
        clock.now += 30 * 1_000_000_000
        write(hexai_dir, clock, SPIKE_RECV)
        tick(monitor)
    assert len(notifier.calls) == 2
    title, body = notifier.calls[1]
    assert title == "burntray: spend spike growing (hexai)"
    now_rate = float(body.removeprefix("Spend spike now $").split("/h")[0])
    assert now_rate > 3 * 14.40
    assert body.startswith(f"Spend spike now ${now_rate:.2f}/h (5 min) - up from $14.40/h when")

    history = ctx.history()
    assert history is not None
    rows = history.execute("SELECT ts_ns, source, kind, level, message FROM alert_log")
    assert rows[0] == (T0 + 10 * 1_000_000_000, "hexai", "spike", "spike", EXPECTED_BODY)
    assert [row[4] for row in rows[1:]] == [body]
    ctx.close()

    # Restart in the middle of the spike: a new monitor and engine on the same history.
    clock.now += 60 * 1_000_000_000
    write(hexai_dir, clock, SPIKE_RECV // 4)
    monitor2, _engine2, notifier2, ctx2 = make_monitor(clock)
    assert tick(monitor2).alert_level == "spike"
    assert notifier2.calls == []
    ctx2.close()


def test_notifications_off_still_logs_but_tells_nobody(hexai_dir: Path) -> None:
    clock = FakeClock()
    monitor, _engine, notifier, ctx = make_monitor(clock, Settings(notifications=False))
    write(hexai_dir, clock, SPIKE_RECV)
    assert tick(monitor).alert_level == "spike"
    assert notifier.calls == []
    history = ctx.history()
    assert history is not None
    assert AlertStore(history).recent()[0].kind == "spike"
    ctx.close()


def test_budget_crossings_once_each(hexai_dir: Path) -> None:
    clock = FakeClock()
    # A $2.00 budget and no spike alerts in the way (threshold far above what is spent).
    settings = Settings(alert_daily_budget_usd=2.0, alert_spike_usd_per_hour=10_000.0)
    monitor, _engine, notifier, ctx = make_monitor(clock, settings)
    levels = []
    for _ in range(8):  # $0.60 a write: 0.6, 1.2, 1.8, 2.4, ... of $2.00
        write(hexai_dir, clock, BASELINE_RECV)
        tick(monitor)
        clock.now += 20 * 1_000_000_000  # past the 15 s between measurements of today
    levels = [title for title, _body in notifier.calls]
    assert levels == [
        "burntray: 50 % of today's budget (hexai)",
        "burntray: 80 % of today's budget (hexai)",
        "burntray: 100 % of today's budget (hexai)",
    ]
    assert notifier.calls[0][1] == "Spent $1.20 of $2.00 today (60 %)"
    ctx.close()


def test_stale_source_keeps_the_last_level(hexai_dir: Path) -> None:
    clock = FakeClock()
    monitor, _engine, notifier, ctx = make_monitor(clock)
    write(hexai_dir, clock, SPIKE_RECV)
    assert tick(monitor).alert_level == "spike"
    (hexai_dir / "stats.json").write_text("{corrupt")
    clock.now += 1_000_000_000
    snap = tick(monitor)
    assert snap.status.state == "error"
    assert snap.alert_level == "spike"
    assert len(notifier.calls) == 1
    ctx.close()


def test_install_alerts_wires_the_engine(hexai_dir: Path) -> None:
    ctx = AppContext.load()
    monitor = Monitor(ctx.settings, ctx.build_source, history=ctx.history())
    _MONITORS.append(monitor)
    notifier = RecordingNotifier()
    engine = install_alerts(monitor, ctx, notifier)
    assert monitor.enrichers == [engine]
    hexai_update(hexai_dir, "anthropic", "claude-sonnet-4-5", 0, SPIKE_RECV)
    assert tick(monitor).alert_level == "spike"
    assert len(notifier.calls) == 1
    engine.update_settings(ctx.settings.replace(alert_spike_usd_per_hour=20.0))
    assert tick(monitor).alert_level == "spike"  # still on: $14.40/h >= 60 % of $20/h
    ctx.close()


def test_status_json_reports_alert_state(hexai_dir: Path, tmp_path: Path) -> None:
    ctx = AppContext.load()
    save_settings(ctx.paths.config_file, Settings(alert_daily_budget_usd=4.0))
    ctx = AppContext.load()
    monitor = Monitor(ctx.settings, ctx.build_source, history=ctx.history())
    _MONITORS.append(monitor)
    install_alerts(monitor, ctx, RecordingNotifier())
    hexai_update(hexai_dir, "anthropic", "claude-sonnet-4-5", 0, SPIKE_RECV)
    tick(monitor)
    ctx.close()

    out = io.StringIO()
    with redirect_stdout(out):
        code = cli_main(["status", "--format", "json"])
    assert code == 0
    alerts = json.loads(out.getvalue())["alerts"]
    assert alerts["level"] == "spike"
    assert alerts["rate_usd_per_hour"] == pytest.approx(14.4, abs=1e-6)
    assert alerts["spike_since"] is not None
    assert alerts["last_fired"]["kind"] == "spike"
    assert alerts["last_fired"]["message"].startswith("Spend spike: $14.40/h (5 min)")
    assert alerts["budget_usd"] == 4.0
    assert alerts["spent_today_usd"] == pytest.approx(1.2, abs=1e-6)
    assert alerts["budget_used_pct"] == pytest.approx(30.0)
    assert alerts["short_window"] == "5 min"


def test_local_day_starts_at_local_midnight() -> None:
    tz = dt.timezone(dt.timedelta(hours=-5))
    now = int(dt.datetime(2027, 3, 10, 3, 0, tzinfo=dt.UTC).timestamp()) * 1_000_000_000
    day, start = local_day(now, tz)
    assert day == "2027-03-09"  # 22:00 the day before in UTC-5
    assert start == int(dt.datetime(2027, 3, 9, 5, 0, tzinfo=dt.UTC).timestamp()) * 10**9


def test_doctor_shows_rules_and_last_alert(hexai_dir: Path) -> None:
    ctx = AppContext.load()
    monitor = Monitor(ctx.settings, ctx.build_source, history=ctx.history())
    _MONITORS.append(monitor)
    install_alerts(monitor, ctx, RecordingNotifier())
    hexai_update(hexai_dir, "anthropic", "claude-sonnet-4-5", 0, SPIKE_RECV)
    tick(monitor)
    ctx.close()
    out = io.StringIO()
    with redirect_stdout(out):
        cli_main(["doctor"])
    section = out.getvalue().split("[alerts]\n", 1)[1]
    assert "spike        >= $5/h over 5 min and >= 3x the last hour" in section
    assert "budget       not set; request-rate alert off" in section
    assert "all: Spend spike: $14.40/h (5 min)" in section
