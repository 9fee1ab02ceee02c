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
from dataclasses import replace

import msgspec

from burntray.model.limits import FIVE_HOUR_MINUTES, PlanWindow, current_windows, with_rise
from burntray.model.timefmt import NS_PER_SECOND, TimeFormatError, parse_rfc3339_ns

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


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    out = float(value)
    return out if math.isfinite(out) else None


def _reset_ns(raw: dict[str, object], ts_ns: int) -> int | None:
    """``resets_at`` (Unix seconds) when present and sane, else ``ts + resets_in_seconds``."""
    at = _number(raw.get("resets_at"))
    if at is not None and at > 0:
        ns = int(at * NS_PER_SECOND)
        if abs(ns - ts_ns) <= _MAX_RESET_AHEAD_NS:
            return ns
    within = _number(raw.get("resets_in_seconds"))
    if within is not None and 0 <= within * NS_PER_SECOND <= _MAX_RESET_AHEAD_NS:
        return ts_ns + int(within * NS_PER_SECOND)
    return None


def parse_window(raw: object, ts_ns: int) -> PlanWindow | None:
    """One ``primary``/``secondary`` entry as a PlanWindow, or None when it says nothing usable."""
    if not isinstance(raw, dict):
        return None
    used = _number(raw.get("used_percent"))
    minutes = _number(raw.get("window_minutes"))
    if used is None or not 0 <= used <= MAX_USED_PERCENT:
        return None
    if minutes is None or minutes != int(minutes) or not 1 <= minutes <= MAX_WINDOW_MINUTES:
        return None
    return PlanWindow(
        tool=TOOL,
        window_minutes=int(minutes),
        used_percent=used,
        resets_at_ns=_reset_ns(raw, ts_ns),
        observed_ns=ts_ns,
        origin="official",
        source=SOURCE,
        limit_reached=used >= 100.0,
    )


def parse_rate_limits(raw: object, ts_ns: int) -> list[PlanWindow]:
    """Every usable window of a ``rate_limits`` object (null or odd: none)."""
    if not isinstance(raw, dict):
        return []
    out = []
    for value in raw.values():  # primary, secondary, and whatever a later Codex adds
        win = parse_window(value, ts_ns)
        if win is not None:
            out.append(win)
    return out


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


def _same_report(a: PlanWindow, b: PlanWindow) -> bool:
    return (a.observed_ns, a.used_percent, a.resets_at_ns, a.limit_reached) == (
        b.observed_ns,
        b.used_percent,
        b.resets_at_ns,
        b.limit_reached,
    )


class CodexLimits:
    """The freshest observation of each Codex plan window, fed the log lines as they are read."""

    def __init__(self) -> None:
        self._windows: dict[int, PlanWindow] = {}
        self._pending: dict[int, PlanWindow] = {}  # observed since the last ``take_new``
        self._version = 0  # bumped whenever a window changed (``version``)
        self._touch_at: str | None = None  # the time of a repeated report, read when asked
        # the last token_count's rate_limits as decoded, whether its resets are absolute
        # (``resets_at``: the same figures mean the same windows), and the windows it gave
        self._last_told: object = None
        self._last_absolute = False
        self._last_minutes: tuple[int, ...] = ()

    def feed(self, line: bytes) -> bool:
        """Learn from one log line; True when a window changed. Never raises: a line that is
        not JSON or holds nothing usable is passed over (the usage reader counts bad lines)."""
        if LIMIT_REACHED_MARKER in line:
            return self._feed_error(line)
        if RATE_LIMITS_MARKER not in line:
            return False
        try:
            raw = _DECODER.decode(line)
        except msgspec.DecodeError:
            return False
        payload = raw.payload
        if raw.type != "event_msg" or payload is None or payload.type != "token_count":
            return False
        told = payload.rate_limits
        if told is not None and told == self._last_told and self._last_absolute:
            # The same figures as the last report (Codex repeats them on every turn): only
            # their time moves, and only the last time of a run of repeats is read (when asked).
            if raw.timestamp is not None:
                self._touch_at = raw.timestamp
            return False
        self._flush()
        ts_ns = _timestamp(raw.timestamp)
        if ts_ns is None:
            return False
        windows = parse_rate_limits(told, ts_ns)
        self._last_told = told
        self._last_absolute = bool(windows) and all(
            isinstance(w, dict) and "resets_in_seconds" not in w
            for w in (told.values() if isinstance(told, dict) else ())
        )
        self._last_minutes = tuple(w.window_minutes for w in windows)
        return self._take(windows)

    def _flush(self) -> None:
        """Take the pending repeat of the last report (see ``feed``)."""
        text, self._touch_at = self._touch_at, None
        ts_ns = _timestamp(text)
        if ts_ns is not None:
            self._touch(ts_ns)

    @property
    def version(self) -> int:
        """Bumped whenever a window changed."""
        self._flush()
        return self._version

    def _touch(self, ts_ns: int) -> bool:
        """The last report's windows, reported again at ``ts_ns``."""
        changed = False
        for minutes in self._last_minutes:
            held = self._windows.get(minutes)
            if held is None or held.observed_ns >= ts_ns:
                continue
            held = with_rise(held, replace(held, observed_ns=ts_ns))
            self._windows[minutes] = self._pending[minutes] = held
            changed = True
        if changed:
            self._version += 1
        return changed

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
        self._last_told = None  # the windows may now differ from what the last report said
        if is_count:
            return self._take(parse_rate_limits(payload.get("rate_limits"), ts_ns))
        return self._take(self._reached(payload, ts_ns))

    def _reached(self, payload: dict[str, object], ts_ns: int) -> list[PlanWindow]:
        """The window(s) an ``usage_limit_reached`` error says were hit."""
        details: list[dict[str, object]] = [payload]
        for nested in (payload.get("error"), payload.get("codex_error_info")):
            if isinstance(nested, dict):
                details.append(nested)
        reset: int | None = None
        for holder in details:
            reset = reset or _reset_ns(holder, ts_ns)
        for holder in details:
            told = parse_rate_limits(holder.get("rate_limits"), ts_ns)
            if told:
                # the full windows, else the most used one: that is the one that ran out
                top = max(told, key=lambda w: w.used_percent)
                return [replace(w, limit_reached=w.limit_reached or w is top) for w in told]
        known = list(self._windows.values())
        timed = [(w.resets_at_ns, w.window_minutes) for w in known if w.resets_at_ns is not None]
        if reset is not None and timed:
            # the window whose reset is nearest to the one the error names
            at = reset
            minutes = min(timed, key=lambda t: abs(t[0] - at))[1]
        elif known:
            minutes = max(known, key=lambda w: w.used_percent).window_minutes
        else:
            minutes = FIVE_HOUR_MINUTES  # the window a plan usually runs out of first
        held = self._windows.get(minutes)
        used = max(100.0, held.used_percent if held is not None else 0.0)
        if reset is None and held is not None:
            reset = held.resets_at_ns
        return [
            PlanWindow(TOOL, minutes, used, reset, ts_ns, "official", SOURCE, limit_reached=True)
        ]

    def _take(self, windows: list[PlanWindow]) -> bool:
        changed = False
        for win in windows:
            held = self._windows.get(win.window_minutes)
            if held is not None and held.observed_ns > win.observed_ns:
                continue  # an older session's file read after a newer one: the newer wins
            if held is not None and _same_report(held, win):
                continue
            if held is None and len(self._windows) >= MAX_WINDOWS:
                oldest = min(self._windows.values(), key=lambda w: w.observed_ns)
                if oldest.observed_ns > win.observed_ns:
                    continue
                del self._windows[oldest.window_minutes]
                self._pending.pop(oldest.window_minutes, None)
            win = with_rise(held, win)  # noqa: PLW2901 - the pace rides along
            self._windows[win.window_minutes] = win
            self._pending[win.window_minutes] = win
            changed = True
        if changed:
            self._version += 1
        return changed

    def remember(self, windows: list[PlanWindow]) -> None:
        """Take the last observations kept by an earlier run (burntray's history), as they were
        kept (with the start of their rise), not as new."""
        for win in windows:
            held = self._windows.get(win.window_minutes)
            if win.tool != TOOL or (held is not None and held.observed_ns >= win.observed_ns):
                continue
            if held is None and len(self._windows) >= MAX_WINDOWS:
                continue
            self._windows[win.window_minutes] = win
            self._version += 1

    def take_new(self) -> list[PlanWindow]:
        """The observations made since the last call (to keep in burntray's history)."""
        self._flush()
        out = list(self._pending.values())
        self._pending = {}
        return out

    def plan_windows(self, now_ns: int) -> tuple[PlanWindow, ...]:
        self._flush()
        return current_windows(self._windows.values(), now_ns)

    def reset(self) -> None:
        self._windows = {}
        self._pending = {}
        self._last_told, self._last_absolute, self._last_minutes = None, False, ()
        self._touch_at = None
        self._version += 1


__all__ = ["MARKERS", "CodexLimits", "parse_rate_limits", "parse_window"]
