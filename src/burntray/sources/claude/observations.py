"""Reading ``burntray statusline``'s records: each session's last report (``Observation``)
and the plan windows they add up to. The record format is written by ``.statusline``.

Apart from the payload's parser and writer so that a source reading the records (every warm
``status`` once the status line ran) loads only this.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from msgspec import Struct

from burntray.io.bounded_read import UnsafeFileError, read_regular_file
from burntray.model.limits import FIVE_HOUR_MINUTES, WEEK_MINUTES, PlanWindow, current_windows
from burntray.sources.claude.records import record_files

TOOL = "claude"
SOURCE = "claude"
MAX_FILE_BYTES = 16 * 1024
MAX_RECORDS = 64
RECORD_VERSION = 1
# Claude Code's windows, by the names it sends them under.
WINDOWS = {"five_hour": FIVE_HOUR_MINUTES, "seven_day": WEEK_MINUTES}


def number(value: object, *, low: float = 0.0, high: float = math.inf) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    if not math.isfinite(number) or not low <= number <= high:
        return None
    return number


def text(value: object, limit: int = 4096) -> str | None:
    if not isinstance(value, str) or not value or len(value) > limit or "\x00" in value:
        return None
    return value


class Observation(Struct, frozen=True):
    """One session's last status-line record."""

    session_id: str
    observed_ns: int
    model_name: str | None
    cost_usd: float | None
    context_used_percent: float | None
    windows: tuple[PlanWindow, ...]
    limits_reported: bool  # the payload had rate_limits (possibly with no window in it)


def _observation(raw: object) -> Observation | None:
    if not isinstance(raw, dict) or raw.get("v") != RECORD_VERSION:
        return None
    observed = raw.get("observed_ns")
    if not isinstance(observed, int) or isinstance(observed, bool) or observed <= 0:
        return None
    windows = []
    limits = raw.get("limits")
    for key, window in (limits or {}).items() if isinstance(limits, dict) else ():
        if not isinstance(window, dict) or not key.isdigit() or int(key) not in WINDOWS.values():
            continue
        used = number(window.get("used_percent"), high=1000.0)
        resets = window.get("resets_at_s")
        resets_s = number(resets, low=1.0, high=1e11) if resets is not None else None
        if used is None:
            continue
        windows.append(
            PlanWindow(
                tool=TOOL,
                window_minutes=int(key),
                used_percent=used,
                resets_at_ns=None if resets_s is None else int(resets_s * 1e9),
                observed_ns=observed,
                origin="official",
                source=SOURCE,
                limit_reached=used >= 100.0,
            )
        )
    return Observation(
        session_id=text(raw.get("session_id"), 256) or "",
        observed_ns=observed,
        model_name=text(raw.get("model_name"), 256),
        cost_usd=number(raw.get("cost_usd"), high=1e9),
        context_used_percent=number(raw.get("context_used_percent"), high=1000.0),
        windows=tuple(windows),
        limits_reported=isinstance(limits, dict),
    )


def read_observations(folder: Path) -> list[Observation]:
    """Every session's record in ``folder`` (none when it does not exist); files that are not
    regular, too large or not a record are passed over."""
    found = []
    for entry in record_files(folder)[: 4 * MAX_RECORDS]:
        try:
            data = read_regular_file(Path(entry.path), MAX_FILE_BYTES)
            found.append(_observation(json.loads(data)))
        except (UnsafeFileError, OSError, ValueError, RecursionError):
            continue
    return [o for o in found if o is not None]


def plan_windows(observations: list[Observation], now_ns: int) -> tuple[PlanWindow, ...]:
    """The plan's windows as known at ``now_ns``: the freshest observation of each, a passed
    reset reset (``model.limits.current_windows``)."""
    return current_windows((w for o in observations for w in o.windows), now_ns)
