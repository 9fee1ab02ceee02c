"""``burntray doctor`` lists the plan windows each source knows: a real Codex rollout file read
by a real ``status`` (which keeps its windows), Claude Code's status line fed a payload with
``rate_limits``, then a real ``doctor`` process."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

from tests.agent_logs_support import codex_token_count, codex_usage, codex_window
from tests.integration.test_statusline_cli import _recent, write_session
from tests.processes import burntray

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "statusline"


def _section(text: str, title: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(f"[{title}]") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("[")), len(lines))
    return [line.strip() for line in lines[start:end]]


def test_doctor_lists_each_sources_plan_windows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))
    log = tmp_path / "codex" / "sessions" / "rollout-a.jsonl"
    log.parent.mkdir(parents=True)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    reset = now + dt.timedelta(hours=3)
    # doctor names it as every view does: "14:05" today, "Tue 00:31" on another day (TZ=UTC)
    clock = f"{reset:%H:%M}" if reset.date() == now.date() else f"{reset:%a %H:%M}"
    when = (now - dt.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    windows = {"primary": codex_window(40.0, 300, resets_at=int(reset.timestamp())),
               "secondary": codex_window(12.0, 10080, resets_in=86400)}  # fmt: skip
    log.write_text(codex_token_count(when, codex_usage(1000, 0, 100), None, windows) + "\n")
    assert burntray("status", "--source", "codex").returncode == 0  # read, and its windows kept

    doc = json.loads((FIXTURES / "ccusage-statusline-test.json").read_text())
    doc["rate_limits"] = {"five_hour": {"used_percentage": 42.3,
                                        "resets_at": int(time.time()) + 7200}}  # fmt: skip
    write_session(tmp_path / "claude", doc["session_id"], _recent(1))
    assert burntray("statusline", stdin=json.dumps(doc)).returncode == 0

    done = burntray("doctor")
    section = _section(done.stdout, "plan limits")
    codex = [line for line in section if line.startswith("codex")]
    assert len(codex) == 2, section
    assert (
        codex[0]
        .split(None, 1)[1]
        .startswith(f"Codex 5 h: 40 % used · resets {clock} · reported 10 min ago · official")
    )
    assert "Codex weekly: 12 % used · resets " in codex[1]
    claude = [line for line in section if line.startswith("claude")]
    assert len(claude) == 1, section
    assert "Claude 5 h: 42 % used · resets " in claude[0]
    assert "reported 0 min ago · official" in claude[0]


def test_doctor_says_when_no_window_is_known(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))
    (tmp_path / "codex" / "sessions").mkdir(parents=True)
    doctor = burntray("doctor").stdout
    assert _section(doctor, "two costs") == [
        "no tool reported its own cost of a session in the last 7 days"
    ]
    section = _section(doctor, "plan limits")
    assert section and all("no plan window recorded yet" in line or "no source" in line
                           for line in section), section  # fmt: skip
