"""Goose's times, as its reader reads them: its own form (SQLite's CURRENT_TIMESTAMP, UTC) is
tried first, which changes no answer (19 characters are neither a number with a space or a "T"
in it nor an RFC 3339 time with an offset)."""

from __future__ import annotations

import pytest

from burntray.sources.goose.reader import when_ns

NOV20 = 1795165200 * 10**9  # 2026-11-20T09:00:00Z


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20 09:00:00", NOV20),
        ("2026-11-20T09:00:00", NOV20),
        (" 2026-11-20 09:00:00 ", NOV20),
        ("2026-11-20T09:00:00Z", NOV20),
        ("2026-11-20T10:00:00+01:00", NOV20),
        ("1795165200", NOV20),
        ("1795165200000", NOV20),
        (1795165200, NOV20),
        ("2026-11-20", 1795132800 * 10**9),
        ("2026-02-30 09:00:00", None),  # no such day: strptime says so too
        ("2026-11-20 25:00:00", None),
        ("2026-11-20X09:00:00", None),
        ("2026-11-20 23:59:59", 1795132800 * 10**9 + 86399 * 10**9),
        ("2026-11-20 09:00:60", None),
        ("2026-11-20 09:0x:00", None),
        ("2026-11-20 +9:00:00", None),
        ("2026-11-20 \u0660\u0669:00:00", None),  # digits, but not ASCII ones
        ("2026-13-01 09:00:00", None),
        ("2026-11-20 24:00:00", None),
        ("2026-02-29 09:00:00", None),  # not a leap year
        ("2028-02-29 00:00:01", 1835395201 * 10**9),
        ("1969-12-31 23:59:59", -(10**9)),
        ("2026-11-20 09:00:0.", None),
        ("2026-11-20 09:00_00", None),
        ("0", None),
        ("", None),
        (None, None),
    ],
)
def test_goose_times(text: object, expected: int | None) -> None:
    assert when_ns(text) == expected
