"""Each setting's value parser: the clean value, or ``ValueError`` saying what is allowed (the
caller adds the key and the value); and what a window is (a duration, or today / this week).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from burntray.model.timefmt import NS_PER_SECOND, format_duration, parse_duration_ns
from burntray.sources.registry import REGISTRY

WINDOW_PRESETS = ("5m", "15m", "1h", "6h", "24h", "7d", "today", "week", "month")
# Calendar windows (value -> words): the local calendar day so far, the ISO week (from Monday
# 00:00) so far, the calendar month (from the 1st 00:00) so far. A rolling hour shows $0 to
# someone who worked yesterday; these do not.
CALENDAR_WINDOWS = {"today": "today", "week": "this week", "month": "this month"}
_CALENDAR_SPELLINGS = {"today": "today", "week": "week", "this week": "week", "this-week": "week",
                       "thisweek": "week", "month": "month", "this month": "month",
                       "this-month": "month", "thismonth": "month"}  # fmt: skip
MIN_WINDOW_NS = 60 * NS_PER_SECOND
MAX_WINDOW_NS = 31 * 86400 * NS_PER_SECOND


def window_span_ns(window: str, now_ns: int, tz: Any = None) -> int:
    """How long ``window`` is at ``now_ns``: a duration as written; ``today`` from the local
    midnight, ``week`` from Monday 00:00 local (ISO week), ``month`` from the 1st 00:00 local,
    to now (at least a second, so rates stay finite right at midnight). ``tz`` None is the
    machine's zone."""
    if window not in CALENDAR_WINDOWS:
        return parse_duration_ns(window)
    now_s = now_ns // NS_PER_SECOND
    if tz is None:
        # time, not datetime: `status --format tmux` (run every few seconds) imports no more
        local = time.localtime(now_s)
        back = local.tm_wday if window == "week" else 0  # Monday is 0
        if window == "month":
            back = local.tm_mday - 1
        # mktime normalises day 0 or less into the month before; isdst -1 finds that day's
        # own offset, so a daylight-saving change between then and now is counted right
        midnight = (local.tm_year, local.tm_mon, local.tm_mday - back, 0, 0, 0, 0, 0, -1)
        start_ns = int(time.mktime(midnight)) * NS_PER_SECOND
    else:
        import datetime as dt  # noqa: PLC0415 - a given zone (tests, reports for a zone)

        day = dt.datetime.fromtimestamp(now_s, tz).date()
        if window == "week":
            day -= dt.timedelta(days=day.weekday())
        elif window == "month":
            day = day.replace(day=1)
        start_ns = int(dt.datetime.combine(day, dt.time(), tzinfo=tz).timestamp()) * NS_PER_SECOND
    return max(now_ns - start_ns, NS_PER_SECOND)


def window_words(window: str) -> str:
    """``today``, ``this week``, or ``last 1h``: what a window shows, for people."""
    return CALENDAR_WINDOWS.get(window) or f"last {window}"


def parse_window(value: object) -> str:
    allowed = (
        "today, week (this calendar week, from Monday), month (this calendar month) or a "
        "duration from 1m to 31d such as "
        "5m, 15m, 1h, 1h30m, 6h, 24h, 7d or 90m"
    )
    if not isinstance(value, str):
        raise ValueError(allowed)
    calendar = _CALENDAR_SPELLINGS.get(" ".join(value.lower().split()))
    if calendar is not None:
        return calendar
    try:
        ns = parse_duration_ns(value)
    except ValueError:
        raise ValueError(allowed) from None
    if not MIN_WINDOW_NS <= ns <= MAX_WINDOW_NS:
        raise ValueError("a duration from 1m to 31d")
    return format_duration(ns)


def one_of(*allowed: str) -> Callable[[object], str]:
    def parse(value: object) -> str:
        if value not in allowed:
            raise ValueError("one of " + ", ".join(allowed))
        return str(value)

    return parse


def parse_poll_interval(value: object) -> float:
    if isinstance(value, str):
        try:
            seconds = parse_duration_ns(value if value[-1:].isalpha() else value + "s") / 1e9
        except ValueError:
            raise ValueError("seconds from 0.2 to 60, as a number or a string like '2s'") from None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise ValueError("seconds from 0.2 to 60, as a number or a string like '2s'")
    if not (math.isfinite(seconds) and 0.2 <= seconds <= 60):
        raise ValueError("seconds from 0.2 to 60")
    return seconds


def parse_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value


def parse_retention(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 3650:
        raise ValueError("a whole number of days from 1 to 3650")
    return value


def number_between(low: float, high: float, what: str) -> Callable[[object], float]:
    def parse(value: object) -> float:
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
            or not low <= value <= high
        ):
            raise ValueError(f"{what} from {low:g} to {high:g}")
        return float(value)

    return parse


def _percent_list(value: object, where: str = "") -> tuple[float, ...]:
    allowed = where + "a list of up to 5 distinct percentages from 1 to 100, e.g. [80, 95]"
    if not isinstance(value, list) or len(value) > 5:
        raise ValueError(allowed)
    out = []
    for item in value:
        if (
            not isinstance(item, int | float)
            or isinstance(item, bool)
            or not math.isfinite(item)
            or not 1 <= item <= 100
        ):
            raise ValueError(allowed + f" ({item!r} is not one)")
        out.append(float(item))
    if len(set(out)) != len(out):
        raise ValueError(allowed + " (one is listed twice)")
    return tuple(sorted(out))


_WINDOW_UNITS = {"m": 1, "h": 60, "d": 24 * 60}
_MAX_WINDOWS = 8


def _window_name(key: str) -> str:
    """A plan window's name as burntray labels it: ``5h``, ``weekly``, else its length (``90m``,
    ``2d``); ``300m`` and ``7d`` are the same windows as ``5h`` and ``weekly``."""
    from burntray.model.limits import window_label  # noqa: PLC0415

    text = key.strip().lower()
    if text == "weekly":
        return text
    number, unit = text[:-1], text[-1:]
    if unit not in _WINDOW_UNITS or not number.isdigit() or not 0 < int(number) <= 10**6:
        raise ValueError(
            f"window {key!r} is not one: name it 5h, weekly, or by its length (90m, 2d)"
        )
    return window_label(int(number) * _WINDOW_UNITS[unit])


def parse_percents(value: object) -> tuple[float, ...] | dict[str, tuple[float, ...]]:
    """``[80, 95]``: up to five distinct percentages from 1 to 100, kept in order; ``[]`` for
    none. Or a table of them per plan window, ``{"5h" = [80, 95], weekly = [50, 90]}`` (a window
    not named keeps the default, 80 and 95)."""
    if not isinstance(value, dict):
        return _percent_list(value)
    if not value or len(value) > _MAX_WINDOWS:
        raise ValueError(
            f"a table of 1 to {_MAX_WINDOWS} windows, each with its list of percentages, "
            'e.g. {"5h" = [80, 95], weekly = [50, 90]}'
        )
    out: dict[str, tuple[float, ...]] = {}
    for key, percents in value.items():
        name = _window_name(str(key))
        if name in out:
            raise ValueError(f"window {key!r} is named twice ({name})")
        out[name] = _percent_list(percents, f"{key}: ")
    return out


def parse_ratio(value: object) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value < 1:
        raise ValueError("a fraction between 0 and 1 (exclusive), e.g. 0.6")
    return float(value)


def duration_between(low_ns: int, high_ns: int) -> Callable[[object], str]:
    allowed = f"a duration from {format_duration(low_ns)} to {format_duration(high_ns)}"

    def parse(value: object) -> str:
        if not isinstance(value, str):
            raise ValueError(allowed + " as a string such as '5m'")
        try:
            ns = parse_duration_ns(value)
        except ValueError:
            raise ValueError(allowed + " such as '5m'") from None
        if not low_ns <= ns <= high_ns:
            raise ValueError(allowed)
        return format_duration(ns)

    return parse


def parse_source(value: object) -> str:
    choices = REGISTRY.choices()
    if value not in choices:
        raise ValueError("one of " + ", ".join(choices))
    return str(value)
