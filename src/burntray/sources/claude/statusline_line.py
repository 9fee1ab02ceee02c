"""The one line ``burntray statusline`` prints for Claude Code.

``Opus 4.1 | $0.23 session | $1.23 today | 5h 42% ↻14:05 · 7d 86% ↻Mon 09:00 | $0.12/h | ctx 12%``

Parts (``--show``, in this order): ``model``, ``session`` (the session's cost from the logs;
Claude Code's own figure, marked "cc", when the logs have none of it), ``today`` (every session
today), ``limits`` (the plan's windows as Claude Code reported them; when it reported none,
the 5-hour block worked out from the logs stands in), ``block``, ``burn`` (the block's spend per
hour) and ``context`` (the context window used). Percentages are coloured green, yellow from
50 % and red from 80 % when colours are on.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from msgspec import Struct

from burntray.model.blocks import UsageBlock
from burntray.model.limits import PlanWindow
from burntray.model.timefmt import NS_PER_MINUTE
from burntray.sources.claude.statusline import Payload, printable

if TYPE_CHECKING:
    from burntray.sources.claude.statusline_costs import Figures

PARTS = ("model", "session", "today", "limits", "block", "burn", "context")
DEFAULT_PARTS = ("model", "session", "today", "limits", "burn", "context")
SEPARATOR = " | "
_GREEN, _YELLOW, _RED, _DIM, _RESET = "\x1b[32m", "\x1b[33m", "\x1b[31m", "\x1b[2m", "\x1b[0m"
_WINDOW_NAMES = {"5h": "5h", "weekly": "7d"}


def parse_parts(text: str | None) -> tuple[str, ...]:
    """``--show``'s comma-separated parts; raises ``ValueError`` naming an unknown one."""
    if text is None:
        return DEFAULT_PARTS
    parts = tuple(p.strip().lower() for p in text.split(",") if p.strip())
    unknown = [p for p in parts if p not in PARTS]
    if unknown or not parts:
        raise ValueError(
            f"--show: unknown part {', '.join(unknown) or '(none given)'}; "
            f"choose from {','.join(PARTS)}"
        )
    return tuple(dict.fromkeys(parts))


class LineInput(Struct, frozen=True):
    payload: Payload
    figures: Figures | None  # None: the logs could not be read in time
    windows: tuple[PlanWindow, ...]
    now_ns: int
    note: str = ""  # said at the end when the payload was unusable
    logs_problem: str = ""  # why ``figures`` is None


def usd(amount: float) -> str:
    return f"${amount:,.2f}" if amount < 1000 else f"${amount:,.0f}"


class _Paint:
    def __init__(self, on: bool) -> None:
        self.on = on

    def pct(self, value: float) -> str:
        text = f"{math.floor(value + 0.5)}%"  # half up, as people (and ccusage) round
        if not self.on:
            return text
        colour = _GREEN if value < 50 else _YELLOW if value < 80 else _RED
        return f"{colour}{text}{_RESET}"

    def dim(self, text: str) -> str:
        return f"{_DIM}{text}{_RESET}" if self.on else text


def _clock(ns: int, now_ns: int) -> str:
    """A reset time in local time: "14:05" within a day, else "Mon 09:00"."""
    when = _dt.datetime.fromtimestamp(ns / 1e9)
    if ns - now_ns < 20 * 3600 * 10**9:
        return when.strftime("%H:%M")
    return when.strftime("%a %H:%M")


def _left(ns: int) -> str:
    minutes = max(0, ns // NS_PER_MINUTE)
    return f"{minutes // 60}h {minutes % 60}m left" if minutes >= 60 else f"{minutes}m left"


# A window's figure older than this says its age (another session's, or an idle one's).
STALE_NS = 10 * NS_PER_MINUTE


def _ago(ns: int) -> str:
    minutes = ns // NS_PER_MINUTE
    if minutes < 60:
        return f"{minutes}m ago"
    hours = minutes // 60
    return f"{hours}h ago" if hours < 48 else f"{hours // 24}d ago"


def _window(win: PlanWindow, now_ns: int, paint: _Paint) -> str:
    name = _WINDOW_NAMES.get(win.window, win.window)
    if win.reset_since_observed:
        return f"{name} {paint.pct(0.0)} (reset)"
    text = f"{name} {paint.pct(win.used_percent)}"
    if win.resets_at_ns is not None:
        text += f" ↻{_clock(win.resets_at_ns, now_ns)}"
    if win.age_ns(now_ns) > STALE_NS:
        text += paint.dim(f" ({_ago(win.age_ns(now_ns))})")
    return text


def _block(block: UsageBlock | None, now_ns: int) -> str:
    if block is None:
        return "no active block"
    return f"{usd(block.cost_usd)} block ({_left(block.end_ns - now_ns)})"


def _session(line: LineInput) -> str | None:
    figures, payload = line.figures, line.payload
    if figures is not None and figures.session_cost_usd is not None:
        text = f"{usd(figures.session_cost_usd)} session"
        return text + (f" +{figures.session_unpriced} unpriced" if figures.session_unpriced else "")
    if payload.cost_usd is not None:
        return f"{usd(payload.cost_usd)} session (cc)"
    return None if figures is None or payload.session_id is None else "$0.00 session"


def _context(payload: Payload, paint: _Paint) -> str | None:
    used = payload.context_used_percent
    if used is None and payload.context_input_tokens is not None and payload.context_size:
        used = 100.0 * payload.context_input_tokens / payload.context_size
    return None if used is None else f"ctx {paint.pct(used)}"


def render(line: LineInput, parts: Sequence[str] = DEFAULT_PARTS, *, color: bool = False) -> str:
    """The status line (no newline)."""
    paint = _Paint(color)
    payload, figures, now = line.payload, line.figures, line.now_ns
    block = figures.block if figures is not None else None
    out: list[str] = []
    for part in parts:
        text: str | None = None
        if part == "model":
            text = printable(payload.model_name or payload.model_id or "") or "Claude"
        elif part == "session":
            text = _session(line)
        elif part == "today" and figures is not None:
            text = f"{usd(figures.today_cost_usd)} today"
            text += f" +{figures.today_unpriced} unpriced" if figures.today_unpriced else ""
        elif part == "limits" and line.windows:
            text = " · ".join(_window(w, now, paint) for w in line.windows)
        elif part == "limits" and "block" not in parts:
            # no plan windows reported (yet): the 5-hour block from the logs stands in
            text = _block(block, now) if figures is not None else "no limit data yet"
        elif part == "block" and figures is not None:
            text = _block(block, now)
        elif part == "burn" and block is not None and block.burn_usd_per_hour is not None:
            text = f"{usd(block.burn_usd_per_hour)}/h"
        elif part == "context":
            text = _context(payload, paint)
        if text:
            out.append(text)
    if figures is None:
        out.append(paint.dim(printable(line.logs_problem) or "logs not read"))
    elif figures.problem:
        out.append(paint.dim("some logs unreadable"))
    if line.note:
        out.append(paint.dim(printable(line.note)))
    return SEPARATOR.join(out) if out else "burntray"
