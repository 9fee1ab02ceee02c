"""Go time.Time parsing to exact nanoseconds, and durations."""

from __future__ import annotations

import datetime as dt

import pytest

from burntray.model.timefmt import (
    TimeFormatError,
    format_duration,
    format_rfc3339_ns,
    parse_duration_ns,
    parse_rfc3339_ns,
)

# 2026-03-01T09:14:11Z as seconds since the epoch, worked out by hand:
# days 1970-01-01 .. 2026-03-01 = 20513; 20513 * 86400 + 9*3600 + 14*60 + 11
BASE_S = 20513 * 86400 + 9 * 3600 + 14 * 60 + 11


@pytest.mark.parametrize(
    ("text", "expected_ns"),
    [
        ("2026-03-01T09:14:11Z", BASE_S * 10**9),
        ("2026-03-01T10:14:11+01:00", BASE_S * 10**9),
        ("2026-03-01T04:44:11-04:30", BASE_S * 10**9),
        ("2026-03-01T10:14:11.9+01:00", BASE_S * 10**9 + 900_000_000),
        ("2026-03-01T10:14:11.000000001+01:00", BASE_S * 10**9 + 1),
        ("2026-03-01T10:14:11.123456789+01:00", BASE_S * 10**9 + 123_456_789),
        # Go truncates digits past the ninth
        ("2026-03-01T10:14:11.1234567899+01:00", BASE_S * 10**9 + 123_456_789),
        ("0001-01-01T00:00:00Z", -62135596800 * 10**9),
        ("2024-02-29T23:59:59Z", 1709251199 * 10**9),
    ],
)
def test_parse_exact_instants(text: str, expected_ns: int) -> None:
    assert parse_rfc3339_ns(text) == expected_ns


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-01T10:14:11",  # naive: Go rejects it (and wipes the file)
        "2026-03-01 10:14:11Z",
        "2026-03-01t10:14:11z",
        "2026-02-30T10:14:11Z",
        "2026-03-01T24:00:00Z",
        "2026-03-01T10:60:00Z",
        "2026-03-01T10:14:11+24:00",
        "2026-03-01T10:14:11.Z",
        "２０２６-03-01T10:14:11Z",  # non-ASCII digits
        "",
        "yesterday",
    ],
)
def test_parse_rejects_what_go_rejects(text: str) -> None:
    with pytest.raises(TimeFormatError):
        parse_rfc3339_ns(text)


def test_format_round_trips_like_go() -> None:
    plus2 = dt.timezone(dt.timedelta(hours=2))
    ns = BASE_S * 10**9 + 481_330_000
    text = format_rfc3339_ns(ns, plus2)
    assert text == "2026-03-01T11:14:11.48133+02:00"  # trailing zeros dropped
    assert parse_rfc3339_ns(text) == ns
    assert format_rfc3339_ns(BASE_S * 10**9, dt.UTC) == "2026-03-01T09:14:11Z"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5m", 300),
        ("90m", 5400),
        ("1h", 3600),
        ("7d", 604800),
        ("1.5h", 5400),
        ("15", 900),
        ("30s", 30),
        ("2w", 1209600),
        ("24H", 86400),
        ("10min", 600),
        ("1h30m", 5400),
        ("1h 30m", 5400),
        ("2m30s", 150),
        ("1d12h", 129600),
        ("1w2d", 777600),
        ("1H30MIN", 5400),
    ],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration_ns(text) == seconds * 10**9


@pytest.mark.parametrize(
    "text", ["", "h", "-5m", "5x", "1h30", "1h-30m", "h30m", "five", "9" * 80 + "h"]
)
def test_bad_durations_say_what_is_allowed(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration_ns(text)


@pytest.mark.parametrize(
    ("seconds", "label"),
    [
        (300, "5m"),
        (900, "15m"),
        (3600, "1h"),
        (5400, "90m"),
        (21600, "6h"),
        (86400, "24h"),
        (604800, "7d"),
        (45, "45s"),
        (172800, "2d"),
    ],
)
def test_duration_labels(seconds: int, label: str) -> None:
    assert format_duration(seconds * 10**9) == label


def test_epoch_ordinal_written_out_is_datetimes() -> None:
    from burntray.model import timefmt

    assert dt.date(1970, 1, 1).toordinal() == timefmt._EPOCH_ORDINAL


def test_a_plain_window_is_read_without_compiling_the_duration_patterns() -> None:
    """``7d``, ``5m``, ``15min`` (a warm status's window and the alerts' short window) are read
    without compiling the patterns - that was ~1 % of a warm JSON status - and give what the
    patterns give; any other form still goes through them, with their errors."""
    from burntray.model import timefmt

    timefmt._compiled.cache_clear()
    assert [parse_duration_ns(t) for t in ("7d", "5m", "15min", "24h", "30s", "2w", "007d")] == [
        604800 * 10**9, 300 * 10**9, 900 * 10**9, 86400 * 10**9, 30 * 10**9,
        1209600 * 10**9, 604800 * 10**9,
    ]  # fmt: skip
    assert timefmt._compiled.cache_info().currsize == 0
    big = "9" * 30 + "d"  # the same float arithmetic as the patterns' path
    assert parse_duration_ns(big) == round(float("9" * 30) * (86400 * 10**9))
    assert timefmt._compiled.cache_info().currsize == 0
    assert parse_duration_ns("1h30m") == 5400 * 10**9 and parse_duration_ns("7D") == 604800 * 10**9
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration_ns("\u0667d")  # an Arabic-Indic seven: not an ASCII digit
    assert timefmt._compiled.cache_info().currsize > 0
