"""``burntray status`` / ``doctor`` / ``clear-cache`` with a real cburn test daemon."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cburn_daemon import CburnTestDaemon, SilentAcceptor, free_port

MINUTE_NS = 60_000_000_000


def burntray(*args: str, timeout: float = 60) -> tuple[int, str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "burntray", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=dict(os.environ),
    )
    return proc.returncode, proc.stdout, proc.stderr


def _busy_daemon(daemon: CburnTestDaemon) -> None:
    now = time.time_ns()
    daemon.poll(at_ns=now - 30 * MINUTE_NS, sessions=2, prompts=5, api_calls=40, tokens=8000,
                estimated_cost_usd=1.25, cache_hit_rate=0.9, cost_per_day_usd=0.625,
                tokens_per_day=4000, sessions_per_day=1.0)  # fmt: skip
    daemon.poll(at_ns=now - 10 * MINUTE_NS, sessions=2, prompts=7, api_calls=52, tokens=9000,
                estimated_cost_usd=1.5, cache_hit_rate=0.91, cost_per_day_usd=0.75,
                tokens_per_day=4500, sessions_per_day=1.0)  # fmt: skip


def test_status_json_has_windowed_figures_and_the_daemon_object(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with CburnTestDaemon(project_filter="") as daemon:
        _busy_daemon(daemon)
        monkeypatch.setenv("BURNTRAY_CBURN_URL", daemon.url)
        code, out, err = burntray("status", "--source", "cburn", "--format", "json")
        assert daemon.hits.get("/v1/stream", 0) == 0  # one-shot: no stream
    assert code == 0, err
    data = json.loads(out)
    assert data["source"] == "cburn"
    assert data["status"]["state"] == "ok"
    assert data["totals"]["reqs"] == 12
    assert data["totals"]["tokens_est"] == 1000
    assert data["totals"]["cost_usd"] == pytest.approx(0.25)
    assert data["totals"]["rpm"] == pytest.approx(0.2)
    assert data["estimated"] == {"tokens": False, "cost": True}
    assert data["by_model"] == []
    daemon_obj = data["daemon"]
    assert daemon_obj["days"] == 30 and daemon_obj["api_calls"] == 52
    assert daemon_obj["cache_hit_rate"] == pytest.approx(0.91)
    assert daemon_obj["poll_interval_sec"] == 15
    assert daemon_obj["last_error"] is None
    assert daemon_obj["data_dir"] == "/home/u/.claude"
    assert daemon_obj["at"].endswith("Z")  # converted from the daemon's -05:00 to UTC


@pytest.mark.parametrize("kind", ["refused", "silent"])
def test_status_offline_exits_non_zero(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    if kind == "refused":
        monkeypatch.setenv("BURNTRAY_CBURN_URL", f"http://127.0.0.1:{free_port()}")
        code, out, err = burntray("status", "--source", "cburn")
        assert "connection refused" in out
    else:
        with SilentAcceptor() as server:
            monkeypatch.setenv("BURNTRAY_CBURN_URL", server.url)
            code, out, err = burntray("status", "--source", "cburn")
        assert "did not answer" in out
    assert code == 1, (out, err)
    assert "offline" in out


def test_bad_url_in_env_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BURNTRAY_CBURN_URL", "ftp://127.0.0.1:8787")
    code, out, _ = burntray("status", "--source", "cburn")
    assert code == 1
    assert "BURNTRAY_CBURN_URL = 'ftp://127.0.0.1:8787' is not allowed" in out


def test_auto_prefers_a_reachable_daemon_and_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with CburnTestDaemon() as daemon:
        _busy_daemon(daemon)
        # found through cburn's own state file, as `cburn daemon` writes it
        state = tmp_path / "xdg-cache" / "cburn" / "cburnd.pid.json"
        state.parent.mkdir(parents=True)
        addr = f"127.0.0.1:{daemon.port}"
        state.write_text(json.dumps({"pid": os.getpid(), "addr": addr}, indent=2) + "\n")
        code, out, err = burntray("status", "--source", "auto", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["source"] == "cburn"
    assert data["note"] == f"auto: cburn daemon at {daemon.url}"


def test_auto_falls_back_to_hexai_and_says_why(
    monkeypatch: pytest.MonkeyPatch, hexai_dir: Path
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("BURNTRAY_CBURN_URL", url)
    _, out, _ = burntray("status", "--source", "auto", "--format", "json")
    data = json.loads(out)
    assert data["source"] == "hexai"
    assert data["note"] == "auto: no cburn daemon (connection refused), using hexai cache"
    with SilentAcceptor() as server:
        monkeypatch.setenv("BURNTRAY_CBURN_URL", server.url)
        _, out, _ = burntray("status", "--source", "auto", "--format", "json")
    assert json.loads(out)["note"] == (
        "auto: no cburn daemon (a server accepted but did not answer), using hexai cache"
    )


def test_doctor_and_clear_history(monkeypatch: pytest.MonkeyPatch) -> None:
    with CburnTestDaemon(interval_sec=1) as daemon:  # < 2 s becomes 10 s, as in cburn
        _busy_daemon(daemon)
        daemon.poll_error("parse failed")
        monkeypatch.setenv("BURNTRAY_CBURN_URL", daemon.url)
        code, out, err = burntray("doctor")
        assert "[cburn daemon]" in out
        assert f"url          {daemon.url} (from env BURNTRAY_CBURN_URL)" in out
        assert "daemon polls every 10 s" in out
        assert "last error   parse failed" in out
        # a long window reaches into history: the samples are recorded, then cleared
        code, out, err = burntray("status", "--source", "cburn", "--window", "7d")
        assert code == 1 and "parse failed" in out  # the daemon's poll error is an error
    db = Path(os.environ["BURNTRAY_HOME"]) / "data" / "history.sqlite3"
    assert _cburn_rows(db) == 2
    code, out, err = burntray("clear-cache", "--history", "--yes")
    assert code == 0, err
    assert _cburn_rows(db) == 0  # "clear history" empties the cburn samples too


def _cburn_rows(db: Path) -> int:
    from burntray.sources.cburn import history as cburn_history
    from burntray.store.history import HistoryStore

    history = HistoryStore(db)
    try:
        return cburn_history.count_samples(history)
    finally:
        history.close()


def test_report_charts_the_recorded_daemon_totals(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    now = time.time_ns()
    with CburnTestDaemon() as daemon:
        for i, calls in enumerate([10, 14, 14, 20, 18, 25]):  # one drop: 20 -> 18
            daemon.poll(at_ns=now - (60 - 10 * i) * MINUTE_NS, sessions=2, prompts=calls,
                        api_calls=calls, tokens=calls * 100,
                        estimated_cost_usd=calls * 0.05)  # fmt: skip
        monkeypatch.setenv("BURNTRAY_CBURN_URL", daemon.url)
        out_file = tmp_path / "report.json"
        code, _, err = burntray(
            "report", "--source", "cburn", "--window", "2h", "--format", "json",
            "--out", str(out_file),
        )  # fmt: skip
    assert code == 0, err
    data = json.loads(out_file.read_text())
    assert data["totals"]["reqs"] == 4 + 6 + 7
    buckets = data["report"]["requests_series"]["buckets"]
    # the chart is built from the same recorded totals, by the same increases-only rule
    assert sum(b["reqs"] for b in buckets) == data["totals"]["reqs"]
    assert sum(b["cost_usd"] for b in buckets) == pytest.approx(data["totals"]["cost_usd"])
