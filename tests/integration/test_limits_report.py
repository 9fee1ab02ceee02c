"""The report's plan-limits timeline: real Codex rollout files, real ``python -m burntray``
processes (``status`` then ``report``), the observations kept in burntray's history."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.agent_logs_support import codex_token_count, codex_usage, codex_window
from tests.processes import burntray

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture(autouse=True)
def _now_is_when_the_test_starts() -> None:
    """The logs' times count back from the test's own start, not from when this module loaded:
    a parallel run may reach a test minutes later, and the figures' age would show it."""
    global NOW
    NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _ago(minutes: float) -> dt.datetime:
    return NOW - dt.timedelta(minutes=minutes)


def _line(minutes_ago: float, used: float, reset: dt.datetime) -> str:
    return codex_token_count(
        _ago(minutes_ago).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        codex_usage(1000, 0, 100),
        None,
        {"primary": codex_window(used, 300, resets_at=int(reset.timestamp()))},
    )


def _utc(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_report_draws_each_window_over_time_with_its_resets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "codex" / "sessions" / "rollout-a.jsonl"
    log.parent.mkdir(parents=True)
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))
    # a period that ended 2 h 30 ago at 70 %
    log.write_text(_line(180, 70.0, _ago(150)) + "\n")
    assert burntray("status", "--source", "codex").returncode == 0  # seen, and kept
    with log.open("a") as fh:  # the next period: 10 % then 40 %
        fh.write(_line(60, 10.0, NOW + dt.timedelta(hours=4)) + "\n")
        fh.write(_line(10, 40.0, NOW + dt.timedelta(hours=4)) + "\n")
    out = tmp_path / "r.json"
    done = burntray("report", "--source", "codex", "--window", "24h", "--format", "json",
                    "--out", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    timeline = json.loads(out.read_text())["report"]["limits_timeline"]
    assert [(t["observed_at"], t["used_percent"]) for t in timeline] == [
        (_utc(_ago(180)), 70.0),
        (_utc(_ago(60)), 10.0),
        (_utc(_ago(10)), 40.0),
    ]
    assert {t["tool"] for t in timeline} == {"codex"} and timeline[0]["window"] == "5h"
    page = tmp_path / "r.html"
    done = burntray("report", "--source", "codex", "--window", "24h", "--out", str(page))
    assert done.returncode == 0, done.stderr
    html = page.read_text()
    assert "Plan limit: Codex 5 h (% used)" in html
    assert html.count("Codex 5 h 0 % (reset)") == 1  # the passed reset drops the line to 0
    assert "Codex 5 h 70 % (reported)" in html and "Codex 5 h 40 % (reported)" in html
    assert "Now: Codex 5 h: 40 % · resets " in html


def test_no_plan_limit_chart_without_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "codex" / "sessions" / "rollout-a.jsonl"
    log.parent.mkdir(parents=True)
    log.write_text(codex_token_count(_ago(5).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                                     codex_usage(10, 0, 1), None) + "\n")  # fmt: skip
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))
    page = tmp_path / "r.html"
    done = burntray("report", "--source", "codex", "--window", "1h", "--out", str(page))
    assert done.returncode == 0, done.stderr
    assert "Plan limit" not in page.read_text()
