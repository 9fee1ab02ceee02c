"""The agents' timestamps parsed quickly where they take the usual form, and exactly as
``parse_rfc3339_ns`` parses them everywhere: the same instant, or the same error."""

from __future__ import annotations

import random

import pytest

from burntray.model.timefmt import TimeFormatError, parse_rfc3339_ns
from burntray.sources.agent_logs.values import stamp_ns

CASES = [
    "2026-11-20T09:05:07.123Z", "2026-11-20T23:59:59.999Z", "1970-01-01T00:00:00.000Z",
    "1969-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z", "2028-02-29T12:00:00.001Z",
    # the usual form's shape, not a time: refused, with the exact parser's reason
    "2026-02-30T09:05:07.123Z", "2027-02-29T09:05:07.123Z", "0000-01-01T00:00:00.000Z",
    "2026-11-20T24:00:00.000Z", "2026-11-20T09:60:07.123Z", "2026-11-20T09:05:60.123Z",
    "2026-11-20T09:05:07.12\u0663Z", "2026-11-20T09:05:0x.123Z", "2026-11-20T09:05: 7.123Z",
    "2026-11-20T09:05:-1.123Z", "2026-11-20T09:05:07.-12Z", "2026-11-20T09:05:07.+12Z",
    "+026-11-20T09:05:07.123Z", "2026-11-2xT09:05:07.123Z", "2026-11-20T09:05:07.1_3Z",
    "2026-11-20T09:05:07. 23Z", "2026-W47-5T09:05:07.12Z", "20261120T090507.123456Z",
    # other forms: the exact parser's
    "2026-11-20T09:05:07+02:00", "2026-11-20T09:05:07.123456789Z", "2026-11-20T09:05:07Z",
    "2026-11-20 09:05:07.123Z", "2026-11-20T09:05:07.123z", "2026-11-20T09:05:07,123Z",
    "2026-11-20T09:05:07.123", "", "x" * 24,
]  # fmt: skip


def _parsed(parse: object, text: str) -> tuple[str, object]:
    assert callable(parse)
    try:
        return "ns", parse(text)
    except TimeFormatError as exc:
        return "error", str(exc)


@pytest.mark.parametrize("text", CASES)
def test_a_stamp_parses_as_the_exact_parser_parses_it(text: str) -> None:
    assert _parsed(stamp_ns, text) == _parsed(parse_rfc3339_ns, text)


def test_the_usual_form_over_the_years_and_every_millisecond() -> None:
    rng = random.Random(24)
    for _ in range(20_000):
        text = (f"{rng.randint(1970, 2100)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
                f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}."
                f"{rng.randint(0, 999):03d}Z")  # fmt: skip
        assert stamp_ns(text) == parse_rfc3339_ns(text), text
