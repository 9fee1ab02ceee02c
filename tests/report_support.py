"""Helpers for the report tests: fixed-clock data written the way hexai writes it, and a small
HTML reader that pulls text out of elements by id (the report's figures and tables)."""

from __future__ import annotations

import datetime as _dt
from html.parser import HTMLParser
from pathlib import Path

import pytest

from burntray.app import AppContext
from burntray.sources.hexai.history import HexaiEvent
from burntray.sources.hexai.writer import hexai_update
from tests.agent_logs_support import claude_line

NS = 1_000_000_000
MINUTE = 60 * NS
# A fixed "now": 2026-03-01T10:15:00Z plus a fraction, so edges fall inside minutes.
NOW = 1_772_360_100 * NS + 123_456_789

# (seconds before NOW, provider, model, sent bytes, recv bytes)
FIXED_EVENTS = (
    (3300, "openai", "gpt-4.1", 5_000, 800),
    (2900, "anthropic", "claude-sonnet-4-5", 12_000, 3_000),
    (2000, "anthropic", "claude-sonnet-4-5", 40_000, 9_000),
    (1500, "ollama", "llama3", 3_000, 500),
    (900, "mystery", "unknown-model-x", 100, 10),
    (300, "openai", "gpt-4.1", 7_000, 1_200),
    (30, "anthropic", "claude-sonnet-4-5", 8_000, 2_000),
)


def write_events(hexai_dir: Path, events: tuple[tuple[int, str, str, int, int], ...]) -> None:
    """Append events with hexai's own write protocol, each at its fixed instant."""
    for seconds_ago, provider, model, sent, recv in sorted(events, key=lambda e: -e[0]):
        ts = NOW - seconds_ago * NS
        hexai_update(hexai_dir, provider, model, sent, recv, clock_ns=lambda ts=ts: ts)


def fixed_context() -> AppContext:
    ctx = AppContext.load()
    ctx.clock_ns = lambda: NOW
    return ctx


class ElementText(HTMLParser):
    """Text of every element that has an id, and of every table row, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.by_id: dict[str, str] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._open: list[tuple[str, str | None]] = []  # (tag, id)
        self._texts: dict[str, list[str]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        element_id = attributes.get("id")
        if tag not in ("meta", "br", "line", "rect", "circle", "path"):
            self._open.append((tag, element_id))
        if element_id:
            self._texts[element_id] = []
        if tag == "table":
            self._table = element_id or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._table is not None and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        while self._open:
            open_tag, element_id = self._open.pop()
            if element_id:
                self.by_id[element_id] = " ".join("".join(self._texts[element_id]).split())
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, element_id in self._open:
            if element_id:
                self._texts[element_id].append(data)
        if self._cell is not None:
            self._cell.append(data)


def read_html(text: str) -> ElementText:
    parser = ElementText()
    parser.feed(text)
    parser.close()
    return parser


HISTORY_MODELS = (
    ("openai", "gpt-4.1"),
    ("anthropic", "claude-sonnet-4-5"),
    ("openrouter", "deepseek/deepseek-chat"),
    ("ollama", "qwen3"),
    ("mystery", "unpriced-model"),
)


def spread_events(count: int, span_ns: int, end_ns: int) -> list[HexaiEvent]:
    """``count`` events evenly over ``[end - span, end)``, cycling through a few models."""
    start = end_ns - span_ns
    return [
        HexaiEvent(
            start + i * span_ns // count,
            *HISTORY_MODELS[i % len(HISTORY_MODELS)],
            500 + (i * 7919) % 20_000,
            50 + (i * 104_729) % 4_000,
        )
        for i in range(count)
    ]


def write_stats_file(hexai_dir: Path, events: list[HexaiEvent], updated_ns: int) -> None:
    """A stats.json as hexai encodes it (one line, Go times), holding ``events``."""
    import json

    from burntray.model.timefmt import format_rfc3339_ns

    body = {
        "version": 1,
        "updated_at": format_rfc3339_ns(updated_ns),
        "window_seconds": 3600,
        "events": [
            {
                "ts": format_rfc3339_ns(ev.ts_ns),
                "provider": ev.provider,
                "model": ev.model,
                "sent": ev.sent,
                "recv": ev.recv,
            }
            for ev in events
        ],
    }
    hexai_dir.mkdir(parents=True, exist_ok=True)
    (hexai_dir / "stats.json").write_text(json.dumps(body, separators=(",", ":")) + "\n")


# ---- Claude Code logs at the fixed instant -----------------------------------------------

SONNET = "claude-sonnet-4-5-20250929"
OPUS = "claude-opus-4-1-20250805"


def _stamp(seconds_ago: int) -> str:
    when = _dt.datetime.fromtimestamp((NOW - seconds_ago * NS) / 1e9, _dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def write_claude_logs(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Three Claude Code requests in the hour before NOW: two models the shipped snapshot
    prices, one it does not."""
    log = root / "claude" / "projects" / "-work-p" / "s1.jsonl"
    log.parent.mkdir(parents=True)
    log.write_text(
        claude_line(_stamp(1800), "m1", "r1", SONNET, 1000, 200, 300, 4000) + "\n"
        + claude_line(_stamp(1200), "m2", "r2", OPUS, 2000, 100) + "\n"
        + claude_line(_stamp(600), "m3", "r3", "claude-imaginary-9", 5, 5) + "\n"
    )  # fmt: skip
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root / "claude"))
    return log
