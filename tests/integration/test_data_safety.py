"""burntray as a user runs it, for what it keeps and how it fails: private files, a bad price
file, a broken source with history. Real processes, real files, the isolated environment."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest

from burntray.model.price_table import PRICES_AS_OF
from burntray.paths import app_paths
from burntray.sources.hexai.writer import hexai_update
from tests.cburn_daemon import CburnTestDaemon, free_port
from tests.processes import burntray, read_line, start_terminal_view, stop_process


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_status_and_report_keep_burntrays_files_private(hexai_dir: Path) -> None:
    hexai_update(hexai_dir, "openai", "gpt-4.1", 4000, 400)
    old = os.umask(0o022)  # the child inherits the usual desktop umask
    try:
        status = burntray("status", "--source", "hexai", "--window", "7d")
        report = burntray("report", "--source", "hexai", "--format", "csv")
    finally:
        os.umask(old)
    assert status.returncode == 0, status.stderr
    assert report.returncode == 0, report.stderr
    paths = app_paths()
    assert mode(paths.data_dir) == 0o700
    for name in ("history.sqlite3", "history.sqlite3-wal", "history.sqlite3-shm"):
        path = paths.data_dir / name
        if name == "history.sqlite3" or path.exists():  # SQLite may remove the WAL on close
            assert mode(path) == 0o600, name
    assert mode(paths.cache_dir) == 0o700
    assert mode(paths.reports_dir) == 0o700
    written = Path(report.stdout.strip())
    assert written.parent == paths.reports_dir and mode(written) == 0o600


def write_config(text: str) -> Path:
    config = app_paths().config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text)
    return config


def bad_price_file(kind: str, where: Path) -> tuple[Path, str]:
    """A price file of ``kind`` and the reason burntray must give for it."""
    path = where / "prices.json"
    if kind == "missing":
        return path, "does not exist"
    if kind == "invalid":
        path.write_text('{"gpt-4.1": {"input_cost_per_token": ')
        return path, "not valid JSON: Expecting value: line 1 column 38 (char 37)"
    if kind == "fifo":
        os.mkfifo(path)  # no writer: a plain open() would wait forever
        return path, "is a FIFO (named pipe), not a regular file"
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "missing",
        "invalid",
        pytest.param("fifo", marks=pytest.mark.skipif(os.name == "nt", reason="POSIX FIFO")),
    ],
)
def test_status_with_a_bad_price_file_uses_the_built_in_prices_and_names_it_once(
    hexai_dir: Path, tmp_path: Path, kind: str
) -> None:
    hexai_update(hexai_dir, "openai", "gpt-4.1", 4000, 400)
    good = burntray("status", "--source", "hexai")
    assert good.returncode == 0, good.stderr
    path, reason = bad_price_file(kind, tmp_path)
    write_config(f'[pricing]\nlitellm_file = "{path}"\n')
    result = burntray("status", "--source", "hexai")
    assert result.returncode == 2  # a configuration problem
    assert result.stdout == good.stdout  # the same figures, priced from the built-in table
    assert "1 reqs" in result.stdout and "$" in result.stdout
    assert result.stderr.splitlines() == [
        f"burntray: pricing.litellm_file: {path}: {reason}; using the built-in prices instead"
    ]
    as_json = burntray("status", "--source", "hexai", "--format", "json")
    assert as_json.returncode == 2
    pricing = json.loads(as_json.stdout)["pricing"]
    assert pricing["sources"] == ["bundled table"]
    assert pricing["as_of"] == PRICES_AS_OF
    assert reason in pricing["problem"]


def test_doctor_calls_a_bad_price_file_a_config_problem(tmp_path: Path) -> None:
    path, reason = bad_price_file("invalid", tmp_path)
    config = write_config(f'[pricing]\nlitellm_file = "{path}"\n')
    result = burntray("doctor")
    assert result.returncode == 1
    config_line = next(line for line in result.stdout.splitlines() if "config " in line)
    assert (
        config_line.strip() == f"config       {config}: INVALID price file, built-in prices in use:"
    )
    assert f"pricing.litellm_file: {path}: {reason}" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_running_with_a_bad_price_file_shows_figures_and_logs_it_once(
    hexai_dir: Path, tmp_path: Path
) -> None:
    hexai_update(hexai_dir, "openai", "gpt-4.1", 4000, 400)
    path, reason = bad_price_file("invalid", tmp_path)
    write_config(f'source = "hexai"\npoll_interval = 0.2\n[pricing]\nlitellm_file = "{path}"\n')
    proc = start_terminal_view()
    try:
        assert proc.stdout is not None
        first = read_line(proc.stdout, 10, "the first figures")
        assert first.startswith("hexai · 1h · 1 reqs · "), first
        assert "error" not in first
        # Ticks after the first used to log a traceback each: wait for three more ticks,
        # each shown by the new figures it prints (a condition, not a guessed sleep).
        for reqs in range(2, 5):
            hexai_update(hexai_dir, "openai", "gpt-4.1", 4000, 400)
            line = read_line(proc.stdout, 10, f"the figures with {reqs} reqs")
            assert line.startswith(f"hexai · 1h · {reqs} reqs · "), line
        stop_process(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    log_text = app_paths().log_file.read_text()
    mentions = [line for line in log_text.splitlines() if str(path) in line]
    assert len(mentions) == 1, log_text
    assert f"pricing.litellm_file: {path}: {reason}" in mentions[0]
    assert "Traceback" not in log_text


def test_report_with_a_bad_price_file_is_written_and_names_it(
    hexai_dir: Path, tmp_path: Path
) -> None:
    hexai_update(hexai_dir, "openai", "gpt-4.1", 4000, 400)
    path, reason = bad_price_file("missing", tmp_path)
    write_config(f'[pricing]\nlitellm_file = "{path}"\n')
    result = burntray("report", "--source", "hexai")
    assert result.returncode == 2  # a configuration problem, as for status
    html = Path(result.stdout.strip()).read_text()
    assert (
        f"The configured price file is not in use: pricing.litellm_file: {path}: {reason}" in html
    )
    assert result.stderr.splitlines() == [
        f"burntray: pricing.litellm_file: {path}: {reason}; using the built-in prices instead"
    ]


def test_status_of_a_corrupt_hexai_file_shows_the_last_good_figures_from_history(
    hexai_dir: Path,
) -> None:
    for model in ("gpt-4.1", "gpt-4.1", "claude-sonnet-4-5"):
        hexai_update(hexai_dir, "openai", model, 4000, 400)
    recorded = burntray("status", "--source", "hexai", "--window", "7d")  # records into history
    assert recorded.returncode == 0, recorded.stderr
    healthy = json.loads(burntray("status", "--source", "hexai", "--format", "json").stdout)
    (hexai_dir / "stats.json").write_text('{"version":1,"events":[{"ts":')  # broken mid-write

    text = burntray("status", "--source", "hexai")
    assert text.returncode == 1  # the source is broken: that does not change
    assert text.stdout.startswith("hexai · 1h · 3 reqs · ")
    assert " · error: " in text.stdout and "corrupt JSON" in text.stdout
    assert text.stdout.rstrip().endswith(" · stale")

    tmux = burntray("status", "--source", "hexai", "--format", "tmux")
    assert tmux.returncode == 1
    assert tmux.stdout.startswith("Σ@1h ↑12kB ↓1.2kB ")
    assert tmux.stdout.rstrip().endswith(" ⚠error (stale)")

    as_json = burntray("status", "--source", "hexai", "--format", "json")
    assert as_json.returncode == 1
    data = json.loads(as_json.stdout)
    assert data["status"]["state"] == "error" and data["status"]["stale"] is True
    assert data["history_used"] is True
    assert data["totals"]["reqs"] == 3
    assert data["totals"]["cost_usd"] == healthy["totals"]["cost_usd"]
    assert data["by_model"] == [
        {**row, "rpm": pytest.approx(row["rpm"])} for row in healthy["by_model"]
    ]
    assert (hexai_dir / "stats.json").read_text() == '{"version":1,"events":[{"ts":'


def test_status_of_an_offline_cburn_daemon_shows_the_last_good_figures_from_history(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    minute = 60_000_000_000
    with CburnTestDaemon(project_filter="") as daemon:
        now = time.time_ns()
        daemon.poll(at_ns=now - 30 * minute, sessions=2, prompts=5, api_calls=40, tokens=8000,
                    estimated_cost_usd=1.25, cache_hit_rate=0.9, cost_per_day_usd=0.625,
                    tokens_per_day=4000, sessions_per_day=1.0)  # fmt: skip
        daemon.poll(at_ns=now - 10 * minute, sessions=2, prompts=7, api_calls=52, tokens=9000,
                    estimated_cost_usd=1.5, cache_hit_rate=0.91, cost_per_day_usd=0.75,
                    tokens_per_day=4500, sessions_per_day=1.0)  # fmt: skip
        monkeypatch.setenv("BURNTRAY_CBURN_URL", daemon.url)
        live = burntray("status", "--source", "cburn", "--window", "7d", "--format", "json")
        assert live.returncode == 0, live.stderr
    assert json.loads(live.stdout)["totals"]["reqs"] == 12
    monkeypatch.setenv("BURNTRAY_CBURN_URL", f"http://127.0.0.1:{free_port()}")  # daemon gone

    text = burntray("status", "--source", "cburn")
    assert text.returncode == 1
    assert text.stdout.startswith("cburn · 1h · 12 reqs · ")
    assert "offline: " in text.stdout and text.stdout.rstrip().endswith(" · stale")

    tmux = burntray("status", "--source", "cburn", "--format", "tmux")
    assert tmux.returncode == 1
    assert tmux.stdout.startswith("Σ@1h 1k")
    assert tmux.stdout.rstrip().endswith(" ⚠offline (stale)")

    data = json.loads(burntray("status", "--source", "cburn", "--format", "json").stdout)
    assert data["status"]["state"] == "offline" and data["status"]["stale"] is True
    assert data["history_used"] is True
    assert data["totals"]["reqs"] == 12
    assert data["totals"]["cost_usd"] == pytest.approx(0.25)


def test_status_of_a_broken_source_with_no_history_shows_zeros_and_exits_1(hexai_dir: Path) -> None:
    (hexai_dir / "stats.json").write_text("not json")
    result = burntray("status", "--source", "hexai", "--format", "json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["totals"]["reqs"] == 0
    assert data["status"]["state"] == "error"
