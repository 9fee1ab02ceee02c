"""The report's labels say what priced each model and which figures are real or estimated.

Built from real Claude Code log lines (the fixture's writer) read by the real source into a real
history, at a fixed instant.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from burntray.cli import main
from burntray.report.build import render
from burntray.report.data import collect
from burntray.ui.presenter import source_rows
from tests.report_support import (
    FIXED_EVENTS,
    NOW,
    NS,
    OPUS,
    SONNET,
    fixed_context,
    read_html,
    write_claude_logs,
    write_events,
)
from tests.store_writers import roder_open, roder_turn


def _render(fmt: str, source: str = "claude") -> str:
    ctx = fixed_context()
    try:
        settings = ctx.settings.replace(source=source, window="1h")
        return render(collect(ctx, settings), fmt).decode("utf-8")
    finally:
        ctx.close()


def test_models_priced_from_the_shipped_snapshot_say_so_in_every_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_claude_logs(tmp_path, monkeypatch)

    doc = json.loads(_render("json"))
    keys = {r["model"]: r["price_key"] for r in doc["by_model"]}
    assert keys == {
        SONNET: "claude-sonnet-4-5",
        OPUS: "claude-opus-4-1",
        "claude-imaginary-9": None,
    }
    origins = {r["model"]: r["origin"] for r in doc["report"]["price_origins"]}
    assert origins == {SONNET: "table", OPUS: "table", "claude-imaginary-9": None}

    rows = {r["model"]: r for r in csv.DictReader(io.StringIO(_render("csv")))}
    assert rows[SONNET]["price_key"] == "claude-sonnet-4-5"
    assert rows[OPUS]["price_key"] == "claude-opus-4-1"
    assert rows["claude-imaginary-9"]["price_key"] == ""

    page = read_html(_render("html"))
    prices = {row[1]: row for row in page.tables["price-table"][1:]}
    shipped = "bundled table"  # the one shipped price file (LiteLLM format)
    assert prices[SONNET][2:4] == ["claude-sonnet-4-5", shipped]
    assert prices[OPUS][2:4] == ["claude-opus-4-1", shipped]
    assert prices["claude-imaginary-9"][2:4] == ["unpriced", "no price known"]
    assert prices[SONNET][4] == "3" and prices[SONNET][5] == "15"  # the rates that applied
    notes = " ".join(t for t in page.by_id.values())
    assert "Tokens are real counts; costs are estimates" in notes
    assert "source's own estimates" not in notes  # burntray priced them, not Claude Code


def write_roder_turn(home: Path, model: str = "gpt-4.1") -> None:
    """One roder turn five minutes before NOW, written as roder's ingestor writes it."""
    conn = roder_open(home / ".roder" / "analytics" / "usage.sqlite3")
    recorded_ms = (NOW - 300 * NS) // 1_000_000
    roder_turn(
        conn,
        {"thread": "t1", "turn": 1, "recorded_ms": recorded_ms, "provider": "openai",
         "model": model, "usage": {"prompt": 4000, "completion": 1000, "cached": 0}},
    )  # fmt: skip
    conn.close()


def test_real_and_estimated_tokens_and_costs_are_labelled_by_one_rule(
    tmp_path: Path,
    hexai_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """hexai (bytes/4 tokens), Claude Code (real tokens) and roder (real tokens, no cost column)
    in one `all` report: each row says whether its tokens are estimated as the JSON does, the
    headline gives the real/estimated split, and every cost priced from a table says "est."."""
    write_events(hexai_dir, FIXED_EVENTS)
    write_claude_logs(tmp_path, monkeypatch)
    write_roder_turn(tmp_path / "home")

    doc = json.loads(_render("json", "all"))
    by_source = {f["source"]: f for f in doc["by_source"]}
    assert {"hexai", "claude", "roder"} <= by_source.keys()
    for name in ("hexai", "claude", "roder"):  # all three priced from a table: estimates
        assert by_source[name]["cost_estimated"] is True, name
    json_estimated = {(r["provider"], r["model"]): r["tokens_estimated"] for r in doc["by_model"]}
    assert json_estimated[("anthropic", SONNET)] is False

    rows = list(csv.DictReader(io.StringIO(_render("csv", "all"))))
    csv_estimated = {(r["provider"], r["model"]): r["tokens_estimated"] == "true" for r in rows}
    assert csv_estimated == json_estimated  # the CSV says what the JSON says, row by row
    assert csv_estimated[("anthropic", SONNET)] is False
    assert csv_estimated[("mystery", "unknown-model-x")] is True  # a hexai-only row

    estimated = sum(f["tokens"] for f in by_source.values() if f["estimated"] and f["counted"])
    total = doc["totals"]["tokens"]
    assert 0 < estimated < total
    page = read_html(_render("html", "all"))
    tokens = page.by_id["fig-tokens"]
    real_share = round((total - estimated) / total * 100)
    assert "(est.)" not in tokens and "bytes / 4" not in tokens
    assert f"{real_share} % real, {100 - real_share} % estimated from bytes" in tokens

    tools = {row[0]: row for row in page.tables["tool-table"][1:]}
    assert all(row[4].endswith(" est.") for row in tools.values()), tools

    # the tray's per-tool lines and the terminal follow the same rule
    ctx = fixed_context()
    try:
        source = ctx.build_source(ctx.settings.replace(source="all"))
        source.poll()
        snap = source.snapshot(3600 * NS, NOW)
        source.close()
    finally:
        ctx.close()
    lines = {line.split(" · ")[0]: line for line in source_rows(snap)}
    assert all(" est. · " in line for line in lines.values()), lines
    assert main(["status", "--source", "roder", "--window", "7d"]) == 0
    assert " est." in capsys.readouterr().out
