"""Codex's plan windows (5-hour, weekly), read from the rollout logs burntray already follows.

Each ``token_count`` event carries the plan's windows as the backend last reported them::

    {"type":"event_msg","timestamp":"...","payload":{"type":"token_count","info":{...},
     "rate_limits":{"primary":{"used_percent":3.0,"window_minutes":300,"resets_in_seconds":10},
                    "secondary":{"used_percent":41.0,"window_minutes":10080,
                                 "resets_at":1774580400}}}}

- a window is named by ``window_minutes``, never by its position (primary is usually 5 h);
- its reset is ``resets_at`` (Unix seconds) when present, else the event's time +
  ``resets_in_seconds``; ``"rate_limits": null`` (or a window without ``used_percent``) is no
  data - never 0 %;
- an ``error`` event whose type is ``usage_limit_reached`` says the limit was hit, with its own
  reset: the window it names (by its ``rate_limits``, else the known window whose reset is
  nearest, else the 5-hour one) is marked reached at 100 % or more.

Only the freshest observation of each window is kept (a handful of windows at most), so memory
stays bounded however many sessions and files there are. Values out of range are dropped one
window at a time: one odd figure never hides the others.
"""

from __future__ import annotations

import math

import msgspec

from burntray.model.limits import (
    FIVE_HOUR_MINUTES,
    PlanWindow,
    current_windows,
    same_period_values,
)
from burntray.model.timefmt import NS_PER_MINUTE, NS_PER_SECOND, TimeFormatError, parse_rfc3339_ns

TOOL = "codex"
SOURCE = "codex"
RATE_LIMITS_MARKER = b'"rate_limits"'
LIMIT_REACHED_MARKER = b"usage_limit_reached"
MARKERS = (RATE_LIMITS_MARKER, LIMIT_REACHED_MARKER)

# Bounds of what a plan window can be: a window of up to 366 days, used up to 1000 %, a reset
# within that span of the observation. Anything outside is a corrupt line, not a figure.
MAX_WINDOW_MINUTES = 366 * 24 * 60
MAX_USED_PERCENT = 1000.0
MAX_WINDOWS = 16  # distinct window lengths kept (Codex reports two)
_MAX_RESET_AHEAD_NS = MAX_WINDOW_MINUTES * 60 * NS_PER_SECOND


class _Payload(msgspec.Struct, gc=False):
    type: str | None = None
    rate_limits: object = None  # only this field is decoded: the usage is the reader's


class _Line(msgspec.Struct, gc=False):
    type: str | None = None
    timestamp: str | None = None
    payload: _Payload | None = None


class _ErrorLine(msgspec.Struct, gc=False):
    type: str | None = None
    timestamp: str | None = None
    payload: dict[str, object] | None = None


_DECODER = msgspec.json.Decoder(_Line)
_ERROR_DECODER = msgspec.json.Decoder(_ErrorLine)


def number_between(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    out = float(value)
    return out if math.isfinite(out) else None


def _reset_ns(raw: dict[str, object], ts_ns: int) -> int | None:
    """``resets_at`` (Unix seconds) when present and sane, else ``ts + resets_in_seconds``."""
    at = number_between(raw.get("resets_at"))
    if at is not None and at > 0:
        ns = int(at * NS_PER_SECOND)
        if abs(ns - ts_ns) <= _MAX_RESET_AHEAD_NS:
            return ns
    within = number_between(raw.get("resets_in_seconds"))
    if within is not None and 0 <= within * NS_PER_SECOND <= _MAX_RESET_AHEAD_NS:
        return ts_ns + int(within * NS_PER_SECOND)
    return None


# One window of one report: (window minutes, % used, reset ns or None, limit reached).
_Report = tuple[int, float, int | None, bool]


def _window_values(raw: object, ts_ns: int) -> _Report | None:
    if not isinstance(raw, dict):
        return None
    used = number_between(raw.get("used_percent"))
    minutes = number_between(raw.get("window_minutes"))
    if used is None or not 0 <= used <= MAX_USED_PERCENT:
        return None
    if minutes is None or minutes != int(minutes) or not 1 <= minutes <= MAX_WINDOW_MINUTES:
        return None
    return int(minutes), used, _reset_ns(raw, ts_ns), used >= 100.0


def _reports(raw: object, ts_ns: int) -> list[_Report]:
    if not isinstance(raw, dict):
        return []
    found = (_window_values(value, ts_ns) for value in raw.values())
    return [r for r in found if r is not None]


def parse_window(raw: object, ts_ns: int) -> PlanWindow | None:
    """One ``primary``/``secondary`` entry as a PlanWindow, or None when it says nothing usable."""
    values = _window_values(raw, ts_ns)
    if values is None:
        return None
    minutes, used, resets, reached = values
    return PlanWindow(TOOL, minutes, used, resets, ts_ns, "official", SOURCE, reached)


def parse_rate_limits(raw: object, ts_ns: int) -> list[PlanWindow]:
    """Every usable window of a ``rate_limits`` object (null or odd: none): primary, secondary,
    and whatever a later Codex adds."""
    return [
        PlanWindow(TOOL, m, used, resets, ts_ns, "official", SOURCE, reached)
        for m, used, resets, reached in _reports(raw, ts_ns)
    ]


def _timestamp(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return parse_rfc3339_ns(text.strip())
    except TimeFormatError:
        return None


def _is_limit_reached(payload: dict[str, object]) -> bool:
    for holder in (payload, payload.get("error"), payload.get("codex_error_info")):
        if holder == "usage_limit_reached":
            return True
        if isinstance(holder, dict) and any(
            holder.get(k) == "usage_limit_reached" for k in ("type", "error_type", "kind", "code")
        ):
            return True
    return False


# What is kept of a window: (% used, reset ns or None, observed ns, limit reached, the start
# of its rise: ns and %, or None). Plain tuples: a first scan follows thousands of reports.
_Held = tuple[float, int | None, int, bool, int | None, float | None]
_TS_PREFIX = b'{"timestamp":"'


class CodexLimits:
    """The freshest observation of each Codex plan window, fed the log lines as they are read."""

    def __init__(self) -> None:
        self._held: dict[int, _Held] = {}  # by window minutes
        self._pending: set[int] = set()  # windows observed since the last ``take_new``
        self._version = 0  # bumped whenever a window changed (``version``)
        self._touch_at: str | None = None  # the time of a repeated report, read when asked
        # the last report's rate_limits as written (the rest of its line), whether its resets
        # are absolute (``resets_at``: the same bytes mean the same windows), its windows
        self._last_tail = b""
        self._last_absolute = False
        self._last_minutes: tuple[int, ...] = ()

    def feed(self, line: bytes) -> bool:
        """Learn from one log line; True when a window changed. Never raises: a line that is
        not JSON or holds nothing usable is passed over (the usage reader counts bad lines)."""
        if LIMIT_REACHED_MARKER in line:
            return self._feed_error(line)
        at = line.find(RATE_LIMITS_MARKER)
        if at < 0:
            return False
        if self._last_absolute and line[at:] == self._last_tail and line.startswith(_TS_PREFIX):
            # The same figures as the last report (Codex repeats them on every turn): only
            # their time moves, and only the last time of a run of repeats is read (when asked).
            end = line.find(b'"', len(_TS_PREFIX))
            if end > 0 and b'"token_count"' in line[:at]:
                self._touch_at = line[len(_TS_PREFIX) : end].decode("ascii", "replace")
                return False
        try:
            raw = _DECODER.decode(line)
        except msgspec.DecodeError:
            return False
        payload = raw.payload
        if raw.type != "event_msg" or payload is None or payload.type != "token_count":
            return False
        self._flush()
        ts_ns = _timestamp(raw.timestamp)
        if ts_ns is None:
            return False
        told = payload.rate_limits
        reports = _reports(told, ts_ns)
        self._last_tail = line[at:]
        self._last_absolute = bool(reports) and all(
            isinstance(w, dict) and "resets_in_seconds" not in w
            for w in (told.values() if isinstance(told, dict) else ())
        )
        self._last_minutes = tuple(r[0] for r in reports)
        return self._take(reports, ts_ns)

    def _flush(self) -> None:
        """Take the pending repeat of the last report (see ``feed``)."""
        text, self._touch_at = self._touch_at, None
        ts_ns = _timestamp(text)
        if ts_ns is not None:
            self._take([self._report(m) for m in self._last_minutes if m in self._held], ts_ns)

    def _report(self, minutes: int) -> _Report:
        used, resets, _seen, reached, _rise_ns, _rise_pct = self._held[minutes]
        return minutes, used, resets, reached

    @property
    def version(self) -> int:
        """Bumped whenever a window changed."""
        self._flush()
        return self._version

    def _feed_error(self, line: bytes) -> bool:
        try:
            raw = _ERROR_DECODER.decode(line)
        except msgspec.DecodeError:
            return False
        payload = raw.payload
        ts_ns = _timestamp(raw.timestamp)
        if raw.type != "event_msg" or payload is None or ts_ns is None:
            return False
        is_count = payload.get("type") == "token_count"  # one that quotes the words
        if not is_count and not _is_limit_reached(payload):
            return False
        self._flush()
        self._last_tail = b""  # the windows may now differ from what the last report said
        if is_count:
            return self._take(_reports(payload.get("rate_limits"), ts_ns), ts_ns)
        return self._take(self._reached(payload, ts_ns), ts_ns)

    def _reached(self, payload: dict[str, object], ts_ns: int) -> list[_Report]:
        """The window(s) an ``usage_limit_reached`` error says were hit."""
        details: list[dict[str, object]] = [payload]
        for nested in (payload.get("error"), payload.get("codex_error_info")):
            if isinstance(nested, dict):
                details.append(nested)
        reset: int | None = None
        for holder in details:
            reset = reset or _reset_ns(holder, ts_ns)
        for holder in details:
            told = _reports(holder.get("rate_limits"), ts_ns)
            if told:
                # the full windows, else the most used one: that is the one that ran out
                top = max(told, key=lambda r: r[1])
                return [(m, used, res, hit or (m, used, res, hit) == top)
                        for m, used, res, hit in told]  # fmt: skip
        held = self._held
        timed = [(h[1], m) for m, h in held.items() if h[1] is not None]
        if reset is not None and timed:
            # the window whose reset is nearest to the one the error names
            at = reset
            minutes = min(timed, key=lambda t: abs(t[0] - at))[1]
        elif held:
            minutes = max(held, key=lambda m: held[m][0])
        else:
            minutes = FIVE_HOUR_MINUTES  # the window a plan usually runs out of first
        known = held.get(minutes)
        used = max(100.0, known[0] if known is not None else 0.0)
        if reset is None and known is not None:
            reset = known[1]
        return [(minutes, used, reset, True)]

    def _take(self, reports: list[_Report], ts_ns: int) -> bool:
        changed = False
        for minutes, used, resets, reached in reports:
            held = self._held.get(minutes)
            rise: tuple[int | None, float | None] = (None, None)
            if held is not None:
                h_used, h_resets, h_seen, h_reached, rise_ns, rise_pct = held
                if h_seen > ts_ns:
                    continue  # an older session's file read after a newer one: the newer wins
                if (h_used, h_resets, h_seen, h_reached) == (used, resets, ts_ns, reached):
                    continue
                window_ns = minutes * NS_PER_MINUTE
                if same_period_values(h_seen, h_used, h_resets, window_ns, ts_ns, used, resets):
                    # the pace rides along: the rise since the period's first report
                    rise = (rise_ns, rise_pct) if rise_ns is not None else (h_seen, h_used)
            elif len(self._held) >= MAX_WINDOWS:
                oldest = min(self._held, key=lambda m: self._held[m][2])
                if self._held[oldest][2] > ts_ns:
                    continue
                del self._held[oldest]
                self._pending.discard(oldest)
            self._held[minutes] = (used, resets, ts_ns, reached, *rise)
            self._pending.add(minutes)
            changed = True
        if changed:
            self._version += 1
        return changed

    def parse_window(self, minutes: int) -> PlanWindow:
        used, resets, seen, reached, rise_ns, rise_pct = self._held[minutes]
        return PlanWindow(
            TOOL, minutes, used, resets, seen, "official", SOURCE, reached,
            rise_from_ns=rise_ns, rise_from_percent=rise_pct,
        )  # fmt: skip

    def remember(self, windows: list[PlanWindow]) -> None:
        """Take the last observations kept by an earlier run (burntray's history), as they were
        kept (with the start of their rise), not as new."""
        for win in windows:
            held = self._held.get(win.window_minutes)
            if win.tool != TOOL or (held is not None and held[2] >= win.observed_ns):
                continue
            if held is None and len(self._held) >= MAX_WINDOWS:
                continue
            self._held[win.window_minutes] = (
                win.used_percent, win.resets_at_ns, win.observed_ns, win.limit_reached,
                win.rise_from_ns, win.rise_from_percent,
            )  # fmt: skip
            self._version += 1

    def take_new(self) -> list[PlanWindow]:
        """The observations made since the last call (to keep in burntray's history)."""
        self._flush()
        out = [self.parse_window(m) for m in sorted(self._pending) if m in self._held]
        self._pending = set()
        return out

    def plan_windows(self, now_ns: int) -> tuple[PlanWindow, ...]:
        self._flush()
        return current_windows((self.parse_window(m) for m in self._held), now_ns)

    def reset(self) -> None:
        self._held = {}
        self._pending = set()
        self._last_tail, self._last_absolute, self._last_minutes = b"", False, ()
        self._touch_at = None
        self._version += 1


__all__ = ["MARKERS", "CodexLimits", "parse_rate_limits", "parse_window"]
