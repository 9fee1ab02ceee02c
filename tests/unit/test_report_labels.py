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

from burntray.model.pricing import SNAPSHOT_AS_OF
from burntray.report.build import render
from burntray.report.data import collect
from tests.report_support import (
    OPUS,
    SONNET,
    fixed_context,
    read_html,
    write_claude_logs,
)


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
    assert origins == {SONNET: "snapshot", OPUS: "snapshot", "claude-imaginary-9": None}

    rows = {r["model"]: r for r in csv.DictReader(io.StringIO(_render("csv")))}
    assert rows[SONNET]["price_key"] == "claude-sonnet-4-5"
    assert rows[OPUS]["price_key"] == "claude-opus-4-1"
    assert rows["claude-imaginary-9"]["price_key"] == ""

    page = read_html(_render("html"))
    prices = {row[1]: row for row in page.tables["price-table"][1:]}
    snapshot = f"LiteLLM snapshot {SNAPSHOT_AS_OF} (shipped)"
    assert prices[SONNET][2:4] == ["claude-sonnet-4-5", snapshot]
    assert prices[OPUS][2:4] == ["claude-opus-4-1", snapshot]
    assert prices["claude-imaginary-9"][2:4] == ["unpriced", "no price known"]
    assert prices[SONNET][4] == "3" and prices[SONNET][5] == "15"  # the rates that applied
