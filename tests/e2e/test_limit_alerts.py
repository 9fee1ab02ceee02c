"""End to end: Codex writes its rollout log while ``burntray run --terminal`` follows it, as a
user runs it, on a private D-Bus with a fake notification daemon. Each plan-window alert (80 %,
95 %, runs out before its reset, the window's reset to a new period) is one Notify, told once;
none again after a restart."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent_logs_support import codex_token_count, codex_usage, codex_window
from tests.processes import wait_for

from .notify_bus import NotifyBus, notification_service_bus
from .test_alert_notifications import Burntray

pytestmark = pytest.mark.slow

FIVE_RESET = [0]  # set by the test
WEEK_RESET = int(time.time()) + 3 * 86400


def _line(ago_s: float, five: float, week: float) -> str:
    ts = dt.datetime.fromtimestamp(time.time() - ago_s, dt.UTC)
    return codex_token_count(
        ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        codex_usage(1000, 0, 100),
        None,
        {
            "primary": codex_window(five, 300, resets_at=FIVE_RESET[0]),
            "secondary": codex_window(week, 10080, resets_at=WEEK_RESET),
        },
    )


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[NotifyBus]:
    with notification_service_bus(tmp_path) as bus:
        yield bus


def _alert_log(home: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(home / "data" / "history.sqlite3") as conn:
        return conn.execute("SELECT source, kind, level FROM alert_log ORDER BY ts_ns").fetchall()


def test_each_limit_alert_fires_once(bus: NotifyBus, tmp_path: Path) -> None:
    FIVE_RESET[0] = int(time.time()) + 2 * 3600
    home = Path(os.environ["BURNTRAY_HOME"])
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text('source = "codex"\npoll_interval = 0.2\n')
    codex = tmp_path / "codex"
    log = codex / "sessions" / "2026" / "12" / "07" / "rollout-a.jsonl"
    log.parent.mkdir(parents=True)
    # the week rose 2 % in the last hour: at that pace it runs out in ~29 h, days before its reset
    log.write_text(_line(3600, 45.0, 40.0) + "\n" + _line(60, 50.0, 42.0) + "\n")
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": bus.address, "CODEX_HOME": str(codex)}

    def summaries() -> list[str]:
        return [n["summary"] for n in bus.notifications()]

    app = Burntray(env)
    try:
        app.wait_line("Codex 5 h 50 %")
        wait_for(lambda: len(bus.notifications()) == 1, 20, "the pace notification")
        assert summaries() == ["burntray: Codex weekly runs out before its reset (codex)"]
        assert "(estimate)" in bus.notifications()[0]["body"]

        with log.open("a") as fh:  # Codex goes on: 85 %, rising 40 %/h, then 97 %
            fh.write(_line(0, 85.0, 42.5) + "\n")
        wait_for(lambda: len(bus.notifications()) == 3, 20, "the 80 % and pace notifications")
        assert sorted(summaries()[1:]) == [
            "burntray: Codex 5 h at 85 % (codex)",
            "burntray: Codex 5 h runs out before its reset (codex)",
        ]
        with log.open("a") as fh:
            fh.write(_line(0, 97.0, 43.0) + "\n")
        wait_for(lambda: len(bus.notifications()) == 4, 20, "the 95 % notification")
        assert summaries()[3] == "burntray: Codex 5 h at 97 % (codex)"
        # the window resets: Codex reports a new period (a later reset, little used)
        FIVE_RESET[0] += 5 * 3600
        with log.open("a") as fh:
            fh.write(_line(0, 3.0, 43.0) + "\n")
        wait_for(lambda: len(bus.notifications()) == 5, 20, "the reset notification")
        assert summaries()[4] == "burntray: Codex 5 h window reset (codex)"
        assert bus.notifications()[4]["body"].startswith("Codex 5 h window reset: it was at 97 %")
        app.wait_line("Codex 5 h 3 %")
        assert len(bus.notifications()) == 5
    finally:
        app.stop()
    assert sorted(_alert_log(home)) == [
        ("codex", "limit", level) for level in ("80%", "95%", "pace", "pace", "reset")
    ]

    # a restart: the persisted state says each was told; nothing is told again
    app = Burntray(env)
    try:
        app.wait_line("Codex 5 h 3 %")  # alerts run before a line is printed
        assert len(bus.notifications()) == 5
        assert len(_alert_log(home)) == 5
    finally:
        app.stop()
