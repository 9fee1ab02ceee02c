"""Claude Code's own cost from OTLP beside burntray's log-derived cost: the real OpenTelemetry
SDK sends ``claude_code.api_request`` events with ``cost_usd`` to a real ``burntray serve
--otlp``; ``burntray status --by session`` and ``--by day`` (real processes) show the tool's own
figure next to the logs', the gap flagged over 5 %, never summed; where the status line also
reported a session, the one seen last is shown and named."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.cburn_daemon import free_port
from tests.integration.test_statusline_cli import _recent, write_session
from tests.otel_senders import Sender, claude_request
from tests.processes import burntray, stop_process, wait_for


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture
def claude_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    monkeypatch.setenv("TZ", "UTC")
    return config


@pytest.fixture
def otlp(isolated_env: Path, claude_config: Path) -> Iterator[int]:
    """A running ``burntray serve --otlp`` with ``otel.enabled`` (so ``all`` reads it too)."""
    port, metrics = free_port(), free_port()
    config = isolated_env / "burntray" / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[otel]\nenabled = true\nlisten = "127.0.0.1:{port}"\n')
    log = (isolated_env / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "burntray", "serve", "--source", "otel",
         "--otlp", f"127.0.0.1:{port}", "--metrics", f"127.0.0.1:{metrics}"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        health = f"http://127.0.0.1:{metrics}/healthz"
        wait_for(lambda: _healthy(health) or proc.poll() is not None, 30, "serve's /healthz")
        assert proc.poll() is None, (isolated_env / "serve.log").read_text()
        yield port
    finally:
        stop_process(proc, 5)
        log.close()


def _section(text: str, title: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(f"[{title}]") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("[")), len(lines))
    return [line.strip() for line in lines[start:end]]


def _send(port: int, session: str, costs: list[float]) -> None:
    with Sender("claude-code", f"http://127.0.0.1:{port}") as sender:
        for i, cost in enumerate(costs):
            claude_request(sender, session=session, request_id=f"{session}-{i}",
                           model="claude-sonnet-4-5-20250929", inp=10, out=100, cache_read=0,
                           cache_write=0, cost=cost, metric=False)  # fmt: skip


def _view(by: str) -> dict[str, object]:
    done = burntray("status", "--source", "all", "--window", "today", "--by", by,
                    "--format", "json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    doc: dict[str, object] = json.loads(done.stdout)
    return doc


def _rows(by: str) -> dict[str, dict[str, object]]:
    return {str(r[by if by != "day" else "date"]): r for r in _view(by)["rows"]}  # type: ignore[attr-defined]


def _two_sessions(claude_config: Path, otlp: int) -> dict[str, dict[str, object]]:
    """Logs: gap-session 3 requests ($0.27), close-session 2 ($0.18). Over OTLP Claude Code
    says $0.50 and $0.181. A status line reported gap-session earlier ($0.40): OTLP is newer."""
    write_session(claude_config, "gap-session", _recent(3))
    write_session(claude_config, "close-session", _recent(2))
    payload = json.dumps({"session_id": "gap-session", "cost": {"total_cost_usd": 0.4}})
    assert burntray("statusline", stdin=payload).returncode == 0
    _send(otlp, "gap-session", [0.2, 0.2, 0.1])
    _send(otlp, "close-session", [0.1, 0.081])
    rows: dict[str, dict[str, object]] = wait_for(
        lambda: (
            (r := _rows("session"))
            and r.get("close-session", {}).get("tool_cost_origin") == "otlp"
            and r.get("gap-session", {}).get("tool_cost_usd") == pytest.approx(0.5)
            and r
        ),
        30,
        "the OTLP costs in status --by session",
        step_s=0.2,
    )
    return rows


def test_claude_codes_otlp_cost_stands_beside_the_logs_per_session_and_day(
    claude_config: Path, otlp: int
) -> None:
    """The two costs in status --by session / --by day, JSON and text; then a newer status line
    report of gap-session is shown instead, and named."""
    rows = _two_sessions(claude_config, otlp)
    gap, close = rows["gap-session"], rows["close-session"]
    assert gap["cost_usd"] == pytest.approx(0.27)  # the logs' (all ranks claude above otel)
    assert gap["tool_cost_origin"] == "otlp"  # sent after the status line's report
    assert gap["cost_gap_pct"] == pytest.approx(85.19, abs=0.01)
    assert close["tool_cost_usd"] == pytest.approx(0.181)
    assert close["cost_gap_pct"] == pytest.approx(0.56, abs=0.01)
    doc = _view("session")
    assert doc["totals"]["cost_usd"] == pytest.approx(0.45)  # type: ignore[index]

    (today,) = _rows("day").values()
    assert today["cost_usd"] == pytest.approx(0.45)
    assert today["tool_cost_usd"] == pytest.approx(0.681)
    assert today["tool_cost_origin"] == "otlp"
    assert today["cost_gap_pct"] == pytest.approx(51.33, abs=0.01)

    text = burntray("status", "--source", "all", "--window", "today", "--by", "session").stdout
    line = next(x for x in text.splitlines() if x.startswith("gap-session"))
    assert line.split()[-4:] == ["otlp", "$0.50", "+85.2%", "!"]
    close_line = next(x for x in text.splitlines() if x.startswith("close-session"))
    assert close_line.split()[-3:] == ["otlp", "$0.18", "+0.6%"]
    day_text = burntray("status", "--source", "all", "--window", "today", "--by", "day").stdout
    day_line = next(x for x in day_text.splitlines() if x[:4].isdigit())
    assert day_line.split()[-4:] == ["otlp", "$0.68", "+51.3%", "!"]
    assert "same sessions" in day_text

    doctor = _section(burntray("doctor").stdout, "two costs")
    assert "gap-session: tool's own $0.50 (otlp), logs $0.27, gap +85.2 % - over 5 %" in doctor
    assert "close-session: tool's own $0.18 (otlp), logs $0.18, gap +0.6 %" in doctor

    # the status line reports gap-session again, later: its figure is shown, and named
    payload = json.dumps({"session_id": "gap-session", "cost": {"total_cost_usd": 0.27}})
    assert burntray("statusline", stdin=payload).returncode == 0
    gap = _rows("session")["gap-session"]
    assert (gap["tool_cost_usd"], gap["tool_cost_origin"]) == (0.27, "status line")
    assert gap["cost_gap_pct"] == pytest.approx(0.0)


class _Tables(HTMLParser):
    """The cells of each table with an id, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table = ""
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag == "td" and self._table:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = ""

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_the_report_shows_the_two_costs_per_session_and_day(
    claude_config: Path, otlp: int, tmp_path: Path
) -> None:
    _two_sessions(claude_config, otlp)
    page = tmp_path / "report.html"
    done = burntray("report", "--source", "all", "--window", "24h", "--out", str(page))
    assert done.returncode == 0, done.stderr
    parser = _Tables()
    parser.feed(page.read_text())
    sessions = {r[0]: r[1:] for r in parser.tables["two-costs-session-table"] if r}
    assert sessions["gap-session"] == ["$0.27", "$0.50", "otlp", "+85.2 % over 5 %"]
    assert sessions["close-session"] == ["$0.18", "$0.18", "otlp", "+0.6 %"]
    (day,) = [r for r in parser.tables["two-costs-day-table"] if r]
    assert day[1:] == ["$0.45", "$0.68", "otlp", "+51.3 % over 5 %"]
    assert "Never added" in page.read_text()


def test_no_two_costs_section_when_no_tool_reported_its_own(
    claude_config: Path, tmp_path: Path
) -> None:
    write_session(claude_config, "quiet-session", _recent(2))
    page = tmp_path / "report.html"
    done = burntray("report", "--source", "claude", "--window", "24h", "--out", str(page))
    assert done.returncode == 0, done.stderr
    assert 'id="two-costs"' not in page.read_text()
