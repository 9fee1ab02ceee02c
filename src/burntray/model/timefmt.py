"""Times and durations as upstream writes them, parsed exactly.

hexai writes Go ``time.Time`` values (RFC 3339, 0-9 fraction digits, any offset) and compares
instants with nanosecond precision. ``datetime`` keeps microseconds only, so instants here are
integer nanoseconds since the Unix epoch (UTC), and the parser is our own.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import datetime as _dt

# The one definition of each unit: every module takes these from here.
NS_PER_SECOND = 1_000_000_000
NS_PER_MINUTE = 60 * NS_PER_SECOND
NS_PER_HOUR = 60 * NS_PER_MINUTE
NS_PER_DAY = 24 * NS_PER_HOUR
# Every zone's offset falls on a quarter hour: the history's coarse rollup and the views use it.
NS_PER_QUARTER_HOUR = 15 * NS_PER_MINUTE

_RFC3339_PATTERN = (
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?(?:(Z)|([+-])([0-9]{2}):([0-9]{2}))"
)
# datetime.date(1970, 1, 1).toordinal(), written out: datetime is imported where it is used
# (a date first seen, a time formatted), not by every `burntray status` that loads this module.
_EPOCH_ORDINAL = 719163
_FRACTION_SCALE = tuple(10 ** (9 - digits) for digits in range(10))
_UNIT_NS = {
    "s": NS_PER_SECOND,
    "m": NS_PER_MINUTE,
    "h": NS_PER_HOUR,
    "d": NS_PER_DAY,
}
_DURATION_PART = r"([0-9]+(?:\.[0-9]+)?)\s*(s|min|m|h|d|w)"
_DURATION_BARE = r"\s*([0-9]+(?:\.[0-9]+)?)\s*"  # minutes
_DURATION = rf"\s*(?:{_DURATION_PART}\s*)+"
# The patterns are compiled when first used (``_compiled``): a warm ``burntray status`` parses
# its window and the alerts' short window, both a number and a unit, without them (``_simple``),
# and a source that reads no RFC 3339 time never needs that one; compiling the four was ~1 %
# of a warm JSON status's instructions.
_SIMPLE_UNITS = {"s": NS_PER_SECOND, "m": NS_PER_MINUTE, "min": NS_PER_MINUTE,
                 "h": NS_PER_HOUR, "d": NS_PER_DAY, "w": 7 * NS_PER_DAY}  # fmt: skip


@cache
def _compiled(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags | re.ASCII)


class TimeFormatError(ValueError):
    """A timestamp that is not an RFC 3339 time with an offset."""


@lru_cache(maxsize=4096)
def _epoch_days(year: int, month: int, day: int) -> int:
    # Raises ValueError for impossible dates (Feb 30), exactly where Go's time.Parse fails.
    import datetime as _dt  # noqa: PLC0415 - once per new date (cached above)

    return _dt.date(year, month, day).toordinal() - _EPOCH_ORDINAL


def parse_rfc3339_ns(text: str) -> int:
    """Parse a Go-encoded ``time.Time`` into nanoseconds since the epoch (UTC).

    Accepts what Go's ``time.Time.UnmarshalJSON`` accepts: a date, ``T``, a time with a
    fraction of any length (digits past the ninth are dropped, as Go truncates them), and ``Z``
    or a ``+hh:mm``/``-hh:mm`` offset. A naive time (no offset) is rejected, as Go rejects it.
    """
    match = _compiled(_RFC3339_PATTERN).fullmatch(text)
    if match is None:
        raise TimeFormatError(f"not an RFC 3339 time with offset: {text[:64]!r}")
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    hour_i, minute_i, second_i = int(hour), int(minute), int(second)
    if hour_i > 23 or minute_i > 59 or second_i > 59:
        raise TimeFormatError(f"time of day out of range: {text[:64]!r}")
    try:
        days = _epoch_days(int(year), int(month), int(day))
    except ValueError:
        raise TimeFormatError(f"no such date: {text[:64]!r}") from None
    seconds = days * 86400 + hour_i * 3600 + minute_i * 60 + second_i
    if zulu is None:
        off_h_i, off_m_i = int(off_h), int(off_m)
        if off_h_i > 23 or off_m_i > 59:
            raise TimeFormatError(f"offset out of range: {text[:64]!r}")
        offset = off_h_i * 3600 + off_m_i * 60
        seconds -= offset if sign == "+" else -offset
    nanos = seconds * NS_PER_SECOND
    if fraction:
        fraction = fraction[:9]
        nanos += int(fraction) * _FRACTION_SCALE[len(fraction)]
    return nanos


def format_rfc3339_ns(ns: int, tz: _dt.tzinfo | None = None) -> str:
    """Format nanoseconds the way Go's ``time.Time.MarshalJSON`` does.

    Trailing fraction zeros are dropped, there is no fraction when it is zero, and ``Z`` stands
    for a zero offset. ``tz`` defaults to the machine's local zone, as Go's ``time.Now()``.
    """
    import datetime as _dt  # noqa: PLC0415 - see _EPOCH_ORDINAL

    seconds, frac = divmod(ns, NS_PER_SECOND)
    moment = _dt.datetime.fromtimestamp(seconds, tz=_dt.UTC)
    moment = moment.astimezone(tz) if tz is not None else moment.astimezone()
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    offset = moment.utcoffset() or _dt.timedelta(0)
    if not offset:
        return text + "Z"
    total = int(offset.total_seconds())
    sign = "+" if total >= 0 else "-"
    hours, minutes = divmod(abs(total) // 60, 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


def parse_duration_ns(text: str) -> int:
    """Parse a human duration such as ``90m``, ``1h``, ``7d``, ``1.5h``, ``30s`` or ``2w``, or
    several of them added up: ``1h30m``, ``1d 12h``, ``2m30s``.

    A bare number means minutes (as hexai's ``window_minutes``). Raises ``ValueError`` with a
    message that says what is allowed.
    """
    simple = _simple(text)
    if simple is not None:
        return simple
    bare = _compiled(_DURATION_BARE).fullmatch(text)
    if bare is not None:
        return round(float(bare.group(1)) * NS_PER_MINUTE)
    if len(text) > 64 or _compiled(_DURATION, re.IGNORECASE).fullmatch(text) is None:
        raise ValueError(
            f"{text[:64]!r} is not a duration (use e.g. 30s, 5m, 90m, 1h, 1h30m, 24h, 7d)"
        )
    total = 0.0
    for number, written in _compiled(_DURATION_PART, re.IGNORECASE).findall(text):
        unit = {"min": "m"}.get(written.lower(), written.lower())
        unit_ns = 7 * _UNIT_NS["d"] if unit == "w" else _UNIT_NS[unit]
        total += float(number) * unit_ns
    return round(total)


def _simple(text: str) -> int | None:
    """``7d``, ``5m``, ``15min``: ASCII digits and one lower-case unit, as the patterns would read
    it (the same float arithmetic); None for anything else (the patterns decide)."""
    if len(text) > 64:  # the patterns' limit, with their message
        return None
    digits = text.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit_ns = _SIMPLE_UNITS.get(text[len(digits) :])
    if unit_ns is None or not digits.isascii() or not digits.isdigit():
        return None
    return round(float(digits) * unit_ns)


def format_duration(ns: int) -> str:
    """Short label for a window: ``5m``, ``90m``, ``1h``, ``36h``, ``7d``, ``45s``."""
    seconds = ns // NS_PER_SECOND
    if seconds % 86400 == 0 and seconds >= 86400 and (seconds // 3600) % 24 == 0:
        days = seconds // 86400
        return f"{days}d" if days != 1 else "24h"
    if seconds % 3600 == 0 and seconds >= 3600:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0 and seconds >= 60:
        return f"{seconds // 60}m"
    return f"{seconds}s"
