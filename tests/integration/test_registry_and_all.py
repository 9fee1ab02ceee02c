"""A source is one module and one registry entry; ``all`` sums every present source once.

The test source here lives only in this file: registering it must make it appear in config,
the CLI's choices, the tray's Source menu, doctor and the report without any other change.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from burntray.app import AppContext
from burntray.cli import main as cli_main
from burntray.config import load_settings
from burntray.config_keys import source_field, text
from burntray.model.usage import UsageRecord
from burntray.sources.base import Source, SourceContext
from burntray.sources.hexai.writer import hexai_update
from burntray.sources.record_source import RecordSource
from burntray.sources.registry import REGISTRY
from burntray.sources.spec import SourceSpec
from burntray.ui.controller import source_choices

NS = 1_000_000_000


class JsonlTool(RecordSource):
    """A tool that logs one JSON object per request: {ts, model, in, out, cost, id}."""

    name = "testtool"
    label = "Test tool log"

    def __init__(self, path: Path, ctx: SourceContext) -> None:
        self.path = path
        self.offset = 0
        super().__init__(ctx.records_history(), ctx.clock_ns)

    def read_new(self) -> list[UsageRecord]:
        self.problem = ""
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                data = fh.read()
        except FileNotFoundError:
            self.empty_reason = f"no log at {self.path}"
            return []
        except OSError as exc:
            self.problem = f"cannot read {self.path}: {exc.strerror}"
            return []
        end = data.rfind(b"\n") + 1
        self.offset += end
        records = []
        for line in data[:end].splitlines():
            try:
                obj = json.loads(line)
            except ValueError:
                self.problem = f"{self.path}: a line is not JSON"
                continue
            records.append(
                UsageRecord(
                    ts_ns=int(obj["ts"] * NS),
                    provider="testco",
                    model=obj["model"],
                    input_tokens=obj["in"],
                    output_tokens=obj["out"],
                    cache_read_tokens=0,
                    cache_write_tokens=0,
                    cost_usd=obj["cost"],
                    key=obj["id"],
                    cost_from_upstream=True,
                )
            )
        return records

    def save_state(self) -> str:
        return json.dumps({"offset": self.offset})

    def load_state(self, state: str) -> None:
        self.offset = int(json.loads(state)["offset"])


def _path(ctx: SourceContext) -> Path:
    return Path(str(ctx.option("testtool.log")))


def _build(ctx: SourceContext) -> Source:
    return JsonlTool(_path(ctx), ctx)


def _probe(ctx: SourceContext) -> tuple[bool, str]:
    path = _path(ctx)
    return (True, str(path)) if path.exists() else (False, f"no log at {path}")


def _spec(log: Path, **extra: object) -> SourceSpec:
    return SourceSpec(
        name="testtool",
        label="Test tool log",
        build=_build,
        probe=_probe,
        config_fields=(source_field("testtool.log", text, "the test tool's log", str(log)),),
        doctor=lambda ctx: [f"log          {_path(ctx)}"],
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def tool_log(tmp_path: Path) -> Iterator[Path]:
    log = tmp_path / "tool" / "usage.jsonl"
    REGISTRY.register(_spec(log))
    try:
        yield log
    finally:
        REGISTRY.unregister("testtool")


def append(log: Path, *requests: tuple[str, str, int, int, float]) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    now = time.time()
    with open(log, "a") as fh:
        for key, model, inp, out, cost in requests:
            fh.write(json.dumps({"ts": now, "id": key, "model": model, "in": inp, "out": out,
                                 "cost": cost}) + "\n")  # fmt: skip


def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = cli_main(list(args))
    return code, out.getvalue()


def test_a_registered_source_appears_everywhere(tool_log: Path, tmp_path: Path) -> None:
    append(tool_log, ("a", "tm-1", 100, 20, 0.5), ("b", "tm-1", 10, 2, 0.25))
    # config: its key is known, with its default, and round-trips
    config = AppContext.load().paths.config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'source = "testtool"\n[testtool]\nlog = "{tool_log}"\n')
    settings = load_settings(config)
    assert settings.source == "testtool"
    assert settings.option("testtool.log") == str(tool_log)
    # CLI: a choice of --source, read once with real tokens and its own cost
    code, out = run_cli("status", "--source", "testtool", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["totals"]["reqs"] == 2
    assert doc["totals"]["input_tokens"] == 110
    assert doc["totals"]["tokens"] == 132
    assert doc["totals"]["cost_usd"] == 0.75
    assert doc["estimated"]["tokens"] is False
    # the tray's Source menu
    ctx = AppContext.load()
    labels = [c.label for c in source_choices(ctx, ctx.settings)]
    assert "Test tool log" in labels
    ctx.close()
    # doctor: a section of its own with its own lines
    code, out = run_cli("doctor")
    assert "[Test tool log]" in out
    assert f"log          {tool_log}" in out
    # report: its figures and charts from the records it keeps in the history
    report = tmp_path / "r.json"
    code, out = run_cli("report", "--source", "testtool", "--format", "json", "--out", str(report))
    assert code == 0, out
    data = json.loads(report.read_text())
    assert data["totals"]["reqs"] == 2
    assert data["by_model"][0]["model"] == "tm-1"
    # a second read resumes from the saved offset: nothing is counted twice
    code, out = run_cli("status", "--source", "testtool", "--format", "json")
    assert json.loads(out)["totals"]["reqs"] == 2


def test_all_sums_every_present_source_exactly(tool_log: Path, hexai_dir: Path) -> None:
    hexai_update(hexai_dir, "openai", "gpt-4.1", 4000, 1000)
    hexai_update(hexai_dir, "openai", "gpt-4.1", 400, 100)
    append(tool_log, ("a", "tm-1", 100, 20, 0.5))
    alone = {}
    for name in ("hexai", "testtool"):
        code, out = run_cli("status", "--source", name, "--format", "json")
        alone[name] = json.loads(out)
    code, out = run_cli("status", "--source", "all", "--format", "json")
    assert code == 0
    both = json.loads(out)
    assert both["totals"]["reqs"] == 3
    for field in ("reqs", "tokens", "unpriced_reqs"):
        assert both["totals"][field] == sum(alone[n]["totals"][field] for n in alone)
    assert both["totals"]["cost_usd"] == pytest.approx(
        sum(alone[n]["totals"]["cost_usd"] for n in alone)
    )
    rows = {r["source"]: r for r in both["by_source"]}
    assert set(rows) == {"hexai", "testtool"}  # cburn is absent: left out silently
    assert rows["testtool"]["reqs"] == 1 and rows["hexai"]["reqs"] == 2
    assert rows["hexai"]["estimated"] is True and rows["testtool"]["estimated"] is False
    assert both["estimated"]["tokens"] is True  # part of the total is a bytes/4 estimate
    models = {r["model"] for r in both["by_model"]}
    assert models == {"gpt-4.1", "tm-1"}


def test_a_broken_source_does_not_zero_the_others(tool_log: Path, hexai_dir: Path) -> None:
    hexai_update(hexai_dir, "openai", "gpt-4.1", 4000, 1000)
    tool_log.parent.mkdir(parents=True)
    tool_log.write_text("{not json\n")
    code, out = run_cli("status", "--source", "all", "--format", "json")
    # the figures shown are current for what works, but they are not the whole: exit 1, as
    # for a single broken source, and the JSON says partial and names it
    assert code == 1
    doc = json.loads(out)
    assert doc["totals"]["reqs"] == 1  # hexai's request is still counted
    assert doc["status"]["partial"] is True and doc["status"]["stale"] is True
    assert "Test tool log error" in doc["status"]["detail"]
    rows = {r["source"]: r for r in doc["by_source"]}
    assert rows["testtool"]["state"] == "error" and rows["hexai"]["state"] == "ok"


def test_two_sources_of_one_upstream_are_counted_once(tmp_path: Path) -> None:
    """A source covering the same upstream as a more detailed one is shown, not added."""
    log = tmp_path / "tool" / "usage.jsonl"
    REGISTRY.register(_spec(log, covers=frozenset({"claude-code"}), detail=5))
    twin = _spec(log, covers=frozenset({"claude-code"}), detail=1)
    REGISTRY.register(
        SourceSpec(
            name="testtwin",
            label="Test twin",
            build=lambda ctx: _TwinTool(_path(ctx), ctx),
            probe=twin.probe,
            covers=twin.covers,
            detail=twin.detail,
        )
    )
    try:
        append(log, ("a", "tm-1", 100, 20, 0.5))
        _, out = run_cli("status", "--source", "all", "--format", "json")
        doc = json.loads(out)
        assert doc["totals"]["reqs"] == 1  # not 2
        rows = {r["source"]: r for r in doc["by_source"]}
        assert rows["testtwin"]["counted"] is False
        assert rows["testtwin"]["covered_by"] == "testtool"
        assert rows["testtool"]["counted"] is True
        assert "Test twin not added" in doc["note"]
    finally:
        REGISTRY.unregister("testtwin")
        REGISTRY.unregister("testtool")


class _TwinTool(JsonlTool):
    name = "testtwin"
    label = "Test twin"


def test_report_under_all_has_a_tool_table_and_a_chart_per_tool(
    tool_log: Path, hexai_dir: Path, tmp_path: Path
) -> None:
    from tests.report_support import read_html

    hexai_update(hexai_dir, "anthropic", "claude-sonnet-4-5", 40_000, 8_000)
    append(tool_log, ("a", "tm-1", 100, 20, 0.5), ("b", "tm-1", 100, 20, 0.25))
    out = tmp_path / "all.html"
    code, printed = run_cli("report", "--source", "all", "--out", str(out))
    assert code == 0, printed
    page = read_html(out.read_text())
    table = page.tables["tool-table"]
    by_tool = {row[0]: row for row in table[1:]}
    assert set(by_tool) == {"hexai cache", "Test tool log"}
    assert by_tool["Test tool log"][2] == "2" and by_tool["Test tool log"][4] == "$0.75 est."
    assert by_tool["hexai cache"][2] == "1" and by_tool["hexai cache"][6] == "yes"
    text = out.read_text()
    assert 'id="chart-tool-0"' in text and 'id="chart-tool-1"' in text
    assert "Cost per hour: Test tool log" in text
