"""The tray a person sees with six tools: the figures and a line per tool at the top, the actions
right after, each error whole in its own submenu, paths and diagnostics under *Details*.

Checked on the presenter (pure), on a real pystray menu (PYSTRAY_BACKEND=dummy) and on the
dbusmenu layout an SNI panel is sent."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from burntray.app import AppContext
from burntray.config import Settings
from burntray.model.figures import SourceFigures
from burntray.model.snapshot import (
    Snapshot,
    SourceStatus,
    Totals,
    UpstreamFact,
    UsageRow,
)
from burntray.runtime.monitor import Monitor
from burntray.ui.controller import TrayController
from burntray.ui.presenter import present
from burntray.ui.sni.menu_layout import build_layout
from burntray.ui.text_fit import PROBLEM_LINES, ROW_LIMIT, wrap_lines
from burntray.ui.tray import build_menu, pystray_module

HOUR_NS = 3600 * 10**9
TOOLS = 6
# what the top may hold besides a line per tool: the source and window, the figures, and a
# status line
TOP_EXTRA = 3
# 1024x768 less a 32 px panel, with GTK's Adwaita menu rows (~28 px) and separators (~9 px): an
# estimate of what fits without scrolling, kept on the safe side
SCREEN_PX, ROW_PX, SEPARATOR_PX = 768 - 32, 28, 9


def menu_height(separators: int, rows: int) -> int:
    return separators * SEPARATOR_PX + rows * ROW_PX


LOCKED = (
    "database is locked: /home/someone/.roder/analytics/usage.sqlite3 is held by another "
    "process in EXCLUSIVE locking mode (no -shm beside it); burntray will read it again when "
    "the writer lets go, and shows the last good figures until then"
)


def six_tools() -> Snapshot:
    """`all` over six tools as a real machine has them, one of them unreadable, each with the
    facts its source reports (log folders, databases, live watching, schema versions)."""
    tools = [
        ("hexai", "hexai cache", SourceStatus("ok"), "/home/someone/.cache/hexai/stats.json"),
        ("claude", "Claude Code logs", SourceStatus("ok"), "/home/someone/.claude/projects"),
        ("codex", "Codex logs", SourceStatus("ok"), "/home/someone/.codex/sessions"),
        (
            "roder",
            "roder analytics",
            SourceStatus("error", LOCKED, stale=True),
            "/home/someone/.roder/analytics/usage.sqlite3",
        ),
        ("ctm", "ctm costs", SourceStatus("ok"), "/home/someone/.ctm/costs.db"),
        ("yoi", "yoi sessions", SourceStatus("ok"), "/home/someone/.local/share/yoi"),
    ]
    figures = tuple(
        SourceFigures(name, label, status, Totals(reqs=10 + i, cost_usd=1.0 + i),
                      cost_estimated=True)
        for i, (name, label, status, _path) in enumerate(tools)
    )  # fmt: skip
    facts = tuple(
        fact
        for _name, label, _status, path in tools
        for fact in (
            UpstreamFact(f"{label}: Files", f"{path} (12 files, 3.4 MB)"),
            UpstreamFact(f"{label}: Live", "inotify on 4 folders"),
            UpstreamFact(f"{label}: Schema", "version 1 (known)"),
            UpstreamFact(f"{label}: Prices", "bundled table, LiteLLM snapshot 2026-11-29"),
        )
    )
    rows = tuple(
        UsageRow("anthropic", f"claude-model-{i}", 10 - i, 0, 0, 1000, 0.5, 0, f"k{i}")
        for i in range(8)
    )
    return Snapshot(
        source="all",
        window_ns=HOUR_NS,
        as_of_ns=1_700_000_000 * 10**9,
        status=SourceStatus("ok", f"roder analytics error: {LOCKED}", stale=True, partial=True),
        totals=Totals(reqs=75, rpm=1.25, tokens=8000, cost_usd=21.0, unpriced_reqs=2),
        by_model=rows,
        cost_estimated=True,
        facts=facts,
        by_source=figures,
    )


def _has_path(text: str) -> bool:
    return "/home/" in text or "…/" in text


def test_presenter_keeps_figures_and_tools_on_top_and_the_rest_in_details() -> None:
    view = present(six_tools(), Settings(source="all"))
    assert len(view.header) <= 1 + TOOLS + TOP_EXTRA, view.header
    assert view.header[:2] == ("all · last 1 h", "75 reqs · 1.25 RPM · $21.00 est. + 2 unpriced")
    assert sum(" reqs · " in row for row in view.header) == 1 + TOOLS  # the figures + each tool
    assert not any(_has_path(row) for row in view.header), view.header
    details = "\n".join(view.details)
    assert "inotify on 4 folders" in details and "version 1 (known)" in details
    assert "/home/someone/.codex/sessions (12 files, 3.4 MB)" in details
    assert "anthropic/claude-model-0 · 10 reqs · $0.50" in details  # models under `all`
    assert all(len(line) <= ROW_LIMIT for line in view.details)
    # the unreadable tool's error, whole: wrapped into lines, nothing cut
    (problem,) = view.problems
    assert problem.label.startswith("partly stale: roder analytics error: database is locked")
    assert len(problem.lines) > 1 and all(len(line) <= ROW_LIMIT for line in problem.lines)
    assert "".join(problem.lines).replace(" ", "") == (
        f"partly stale: roder analytics error: {LOCKED}".replace(" ", "")
    )


@pytest.fixture
def real_menu() -> Any:
    assert os.environ["PYSTRAY_BACKEND"] == "dummy"
    pystray = pystray_module("dummy")
    ctx = AppContext.load(strict=False)
    monitor = Monitor(Settings(source="all"), ctx.build_source)  # never started: no reads
    controller = TrayController(ctx, monitor)
    try:
        yield build_menu(present(six_tools(), Settings(source="all")), controller, pystray)
    finally:
        ctx.close()


def _texts(items: Any) -> list[str]:
    out = []
    for entry in items:
        out.append(str(entry.text))
        if entry.submenu:
            out += _texts(entry.submenu.items)
    return out


def test_the_real_menu_reaches_its_actions_without_scrolling(real_menu: Any) -> None:
    items = list(real_menu.items)
    first_action = next(i for i, entry in enumerate(items) if str(entry.text) == "Window")
    disabled_on_top = [
        str(e.text) for e in items[:first_action] if not e.enabled and not e.submenu and e.text
    ]
    assert len(disabled_on_top) <= 1 + TOOLS + TOP_EXTRA, disabled_on_top
    separators = sum(1 for e in items if e is pystray_module("dummy").Menu.SEPARATOR)
    assert menu_height(separators, len(items) - separators) <= SCREEN_PX, _texts(items)
    assert not any(_has_path(str(e.text)) for e in items)
    details = next(e for e in items if str(e.text) == "Details")
    assert any("/home/someone/.claude/projects" in t for t in _texts(details.submenu.items))
    error = next(e for e in items if str(e.text).startswith("partly stale: roder"))
    whole = "".join(_texts(error.submenu.items)).replace(" ", "")
    assert LOCKED.replace(" ", "") in whole


def test_the_sni_layout_has_paths_only_inside_details(real_menu: Any) -> None:
    layout = build_layout(real_menu)
    top = layout.root.children
    labels = [str(node.props.get("label", "")) for node in top]
    first_action = labels.index("Window")
    text_rows = [
        node
        for node in top[:first_action]
        if node.props.get("enabled") is False and not node.children
    ]
    assert len(text_rows) <= 1 + TOOLS + TOP_EXTRA
    separators = sum(1 for node in top if node.props.get("type") == "separator")
    assert menu_height(separators, len(top) - separators) <= SCREEN_PX

    def paths_under(node: Any, inside_details: bool, found: list[tuple[str, bool]]) -> None:
        label = str(node.props.get("label", ""))
        if _has_path(label):
            found.append((label, inside_details))
        for child in node.children:
            paths_under(child, inside_details or label == "Details", found)

    found: list[tuple[str, bool]] = []
    for node in top:
        if not str(node.props.get("label", "")).startswith("partly stale: roder"):
            paths_under(node, False, found)
    assert found and all(inside for _label, inside in found), found


@given(st.text(max_size=2000))
def test_a_wrapped_error_loses_nothing_and_fits_the_menu(text: str) -> None:
    lines = wrap_lines(text)
    assert all(len(line) <= ROW_LIMIT for line in lines)
    if len(lines) < PROBLEM_LINES:  # nothing left out: every character is there, in order
        assert re.sub(r"\s", "", "".join(lines)) == re.sub(r"\s", "", text)
