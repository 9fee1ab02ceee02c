"""The CLI as a user runs it: a real process, real files, exit codes, no stdin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from burntray.sources.hexai.writer import hexai_update
from tests.processes import burntray


@pytest.fixture
def filled(hexai_dir: Path) -> Path:
    for provider, model, sent, recv in [
        ("openai", "gpt-4.1", 4000, 400),
        ("openai", "gpt-4.1", 4000, 400),
        ("ollama", "qwen3", 100, 10),
        ("acme", "mystery-1", 50, 5),
    ]:
        hexai_update(hexai_dir, provider, model, sent, recv)
    return hexai_dir


def test_status_text(filled: Path) -> None:
    result = burntray("status", "--source", "auto")
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert line == (
        "hexai · 1h · 4 reqs · 0.07 rpm · <$0.01 est. + 1 unpriced"
        " · auto: no cburn daemon (connection refused), using hexai cache"
    )


def test_status_json_schema(filled: Path) -> None:
    result = burntray("status", "--format", "json", "--window", "15m", "--source", "hexai")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["schema_version"] == 1
    assert (data["source"], data["window"], data["window_seconds"]) == ("hexai", "15m", 900)
    assert data["status"]["state"] == "ok"
    totals = data["totals"]
    assert (totals["reqs"], totals["sent"], totals["recv"]) == (4, 8150, 815)
    assert totals["tokens_est"] == round(8965 / 4)
    assert totals["unpriced_reqs"] == 1
    assert totals["rpm"] == pytest.approx(4 / 15, abs=1e-6)
    top = data["by_model"][0]
    assert (top["provider"], top["model"], top["reqs"]) == ("openai", "gpt-4.1", 2)
    assert top["cost_usd"] == pytest.approx((8000 / 4 * 2 + 800 / 4 * 8) / 1e6, abs=1e-6)
    unpriced = next(r for r in data["by_model"] if r["model"] == "mystery-1")
    assert unpriced["cost_usd"] is None and unpriced["unpriced_reqs"] == 1
    assert set(data) >= {"as_of", "estimated", "history_used", "pricing", "data_updated_at"}


def test_status_tmux(filled: Path) -> None:
    result = burntray("status", "--format", "tmux")
    assert result.returncode == 0
    # "+?": unpriced requests are not hidden behind the priced total
    assert result.stdout == "Σ@1h ↑8.2kB ↓815B 0.1rpm <$0.01+?\n"


def test_status_corrupt_file_exits_1_and_names_problem(hexai_dir: Path) -> None:
    (hexai_dir / "stats.json").write_text('{"version":1,"events":[{"ts":')
    result = burntray("status")
    assert result.returncode == 1
    assert "corrupt JSON" in result.stdout
    assert (hexai_dir / "stats.json").read_text() == '{"version":1,"events":[{"ts":'


def test_compound_window(filled: Path) -> None:
    result = burntray("status", "--window", "1h30m", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["window"] == "90m"


def test_bad_window_is_usage_error() -> None:
    result = burntray("status", "--window", "7x")
    assert result.returncode == 2
    assert "--window = '7x' is not allowed" in result.stderr


def test_bad_config_value_is_named_and_the_rest_used(isolated_env: Path) -> None:
    config = isolated_env / "burntray" / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('source = "nope"\nwindow = "6h"\n')
    result = burntray("status", "--format", "json")
    assert result.returncode == 0
    assert (
        "source = 'nope' is not allowed: expected one of auto, all, hexai, cburn" in result.stderr
    )
    assert "using the default 'all'" in result.stderr
    assert json.loads(result.stdout)["window"] == "6h"


def test_config_that_is_not_toml_is_usage_error(isolated_env: Path) -> None:
    config = isolated_env / "burntray" / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('source = "nope\n')
    result = burntray("status")
    assert result.returncode == 2
    assert "not valid TOML" in result.stderr


def test_long_window_uses_history(filled: Path) -> None:
    result = burntray("status", "--window", "24h", "--format", "json")
    assert json.loads(result.stdout)["totals"]["reqs"] == 4


def test_clear_hexai_asks_and_keeps_other_files(filled: Path) -> None:
    (filled / "cli-responses").mkdir()
    (filled / "cli-responses" / "abc.json").write_text('{"output":"keep"}')
    (filled / "ask").mkdir()
    (filled / "ask" / "task-aliases-v2.json").write_text("{}")
    (filled / "stats.json.tmp.123").write_text("left by a crashed writer")
    declined = burntray("clear-cache", "--hexai")  # no terminal: the answer is no
    assert declined.returncode == 1
    assert "use --yes" in declined.stderr
    assert json.loads((filled / "stats.json").read_text())["events"]
    done = burntray("clear-cache", "--hexai", "--yes")
    assert done.returncode == 0, done.stderr
    assert "cleared 4 events" in done.stdout
    data = json.loads((filled / "stats.json").read_text())
    assert (data["version"], data["events"], data["window_seconds"]) == (1, [], 3600)
    assert (filled / "cli-responses" / "abc.json").read_text() == '{"output":"keep"}'
    assert (filled / "ask" / "task-aliases-v2.json").exists()
    assert (filled / "stats.json.tmp.123").read_text() == "left by a crashed writer"
    assert burntray("status", "--source", "hexai").stdout.startswith("hexai · 1h · 0 reqs")


def test_clear_history(filled: Path) -> None:
    burntray("status", "--window", "7d")  # records what it saw
    result = burntray("clear-cache", "--history", "--yes")
    assert result.returncode == 0
    assert "cleared 4 usage records" in result.stdout
    assert burntray("status", "--window", "7d", "--format", "json").returncode == 0


def test_doctor(filled: Path) -> None:
    result = burntray("doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[hexai cache]" in result.stdout
    assert str(filled) in result.stdout
    assert "ok: 4 events" in result.stdout
