"""Plan limits shown everywhere a Snapshot goes: ``status`` (JSON, text, tmux) and ``serve``'s
``/metrics``, from real Codex rollout files read by real ``python -m burntray`` processes."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.agent_logs_support import codex_token_count, codex_usage, codex_window
from tests.cburn_daemon import free_port
from tests.processes import burntray, stop_process, wait_for

SERVE = (sys.executable, "-m", "burntray", "serve", "--source", "codex")
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture(autouse=True)
def _now_is_when_the_test_starts() -> None:
    """The logs' times count back from the test's own start, not from when this module loaded:
    a parallel run may reach a test minutes later, and the figures' age would show it."""
    global NOW
    NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _stamp(minutes_ago: float) -> str:
    return (NOW - dt.timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _turn(minutes_ago: float, five: float, five_reset_in_s: int, week: float) -> str:
    week_reset = int((NOW + dt.timedelta(days=3)).timestamp())
    return codex_token_count(
        _stamp(minutes_ago),
        codex_usage(1000, 0, 100),
        None,
        {
            "primary": codex_window(five, 300, resets_in=five_reset_in_s),
            "secondary": codex_window(week, 10080, resets_at=week_reset),
        },
    )


@pytest.fixture
def codex_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A session whose 5 h window rose 20 -> 50 % in 30 min (runs out in ~50 min at that pace,
    before its reset in ~2 h 20), weekly at 40.2 %."""
    home = tmp_path / "codex"
    path = home / "sessions" / "2026" / "12" / "07" / "rollout-a.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(
        _turn(40, 20.0, 3 * 3600, 40.0) + "\n" + _turn(10, 50.0, 2 * 3600 + 30 * 60, 40.2) + "\n"
    )
    monkeypatch.setenv("CODEX_HOME", str(home))
    return path


def test_status_json_lists_the_windows_with_age_and_pace(codex_home: Path) -> None:
    for source in ("codex", "all"):
        done = burntray("status", "--source", source, "--window", "1h", "--format", "json")
        assert done.returncode == 0, done.stderr
        limits = {w["window"]: w for w in json.loads(done.stdout)["limits"]}
        assert set(limits) == {"5h", "weekly"}
        five = limits["5h"]
        assert five["tool"] == "codex" and five["source"] == "codex"
        assert five["used_percent"] == 50.0 and five["window_minutes"] == 300
        assert five["origin"] == "official" and not five["limit_reached"]
        assert not five["reset_since_observed"]
        # reported 10 minutes before NOW (fixed when this module loaded): older by the time since
        since_now = (dt.datetime.now(dt.UTC) - NOW).total_seconds()
        assert 600 - 1 <= five["age_seconds"] <= 600 + since_now + 1
        resets = dt.datetime.fromisoformat(five["resets_at"].replace("Z", "+00:00"))
        assert resets == NOW - dt.timedelta(minutes=10) + dt.timedelta(hours=2, minutes=30)
        # 30 % in 30 min: the 50 % left lasts 50 min, before the reset
        out = dt.datetime.fromisoformat(five["runs_out_at"].replace("Z", "+00:00"))
        assert out == NOW - dt.timedelta(minutes=10) + dt.timedelta(minutes=50)
        assert five["runs_out_before_reset"]
        week = limits["weekly"]
        assert week["used_percent"] == 40.2  # 0.2 % in 30 min: it lasts past its reset
        assert week["runs_out_at"] > week["resets_at"] and not week["runs_out_before_reset"]


def test_status_text_and_tmux_show_the_windows(codex_home: Path) -> None:
    text = burntray("status", "--source", "codex", "--window", "1h")
    assert text.returncode == 0, text.stderr
    assert "Codex 5 h 50 % (resets " in text.stdout and "Codex weekly 40 %" in text.stdout
    tmux = burntray("status", "--source", "codex", "--window", "1h", "--format", "tmux")
    assert tmux.returncode == 0, tmux.stderr
    assert tmux.stdout.rstrip().endswith("Codex5h:50% Codexwk:40%")


def test_no_rate_limits_no_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "codex"
    path = home / "sessions" / "rollout-b.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(codex_token_count(_stamp(5), codex_usage(10, 0, 1), None) + "\n")
    monkeypatch.setenv("CODEX_HOME", str(home))
    done = burntray("status", "--source", "codex", "--window", "1h", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["limits"] == []  # unknown, never 0 %
    tmux = burntray("status", "--source", "codex", "--window", "1h", "--format", "tmux")
    assert "%" not in tmux.stdout


def _scrape(port: int) -> dict[tuple[str, str, str], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("burntray_limit_"):
                out[(sample.name, sample.labels["tool"], sample.labels["window"])] = sample.value
    return out


@pytest.mark.slow
def test_serve_exports_limit_gauges_live(codex_home: Path, tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [*SERVE, "--metrics", f"127.0.0.1:{port}"],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=dict(os.environ),
    )
    try:
        wait_for(lambda: bool(_safe_scrape(port)), 20, "limit gauges on /metrics")
        got = _scrape(port)
        assert got[("burntray_limit_used_ratio", "codex", "5h")] == pytest.approx(0.5)
        assert got[("burntray_limit_used_ratio", "codex", "weekly")] == pytest.approx(0.402)
        reset = (NOW - dt.timedelta(minutes=10) + dt.timedelta(hours=2, minutes=30)).timestamp()
        assert got[("burntray_limit_resets_at_seconds", "codex", "5h")] == pytest.approx(reset)
        with codex_home.open("a") as fh:  # Codex writes on: the gauge follows
            fh.write(_turn(0, 63.0, 2 * 3600 + 20 * 60, 42.0) + "\n")
        wait_for(
            lambda: _safe_scrape(port).get(("burntray_limit_used_ratio", "codex", "5h")) == 0.63,
            20,
            "the appended observation on /metrics",
        )
    finally:
        stop_process(proc, 5)
        log.close()


def _safe_scrape(port: int) -> dict[tuple[str, str, str], float]:
    try:
        return _scrape(port)
    except OSError:
        return {}
