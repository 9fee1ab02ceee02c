"""Chart data and SVG: buckets add up to the window's counters, axes are readable, text escaped."""

from __future__ import annotations

import datetime as _dt
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from burntray.model.aggregate import summarise_bytes
from burntray.model.pricing import build_price_table
from burntray.report.charts import Bar, Point, bar_chart, line_chart, nice_step, time_ticks
from burntray.report.timeline import (
    NS_PER_MINUTE,
    build_timeline,
    cost_bucket_minutes,
    pick_bucket_minutes,
    price_minute_rows,
)

HOUR = 60 * NS_PER_MINUTE
DAY = 24 * HOUR
PRICES = build_price_table()
MODELS = [("openai", "gpt-4.1"), ("anthropic", "claude-sonnet-4-5"), ("x", "unpriced-thing")]
SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(
    ("window", "rate", "cost"),
    [
        (5 * NS_PER_MINUTE, 1, 1),
        (HOUR, 1, 5),
        (6 * HOUR, 2, 15),
        (24 * HOUR, 10, 60),
        (7 * DAY, 60, 60),
        (31 * DAY, 360, 360),
    ],
)
def test_bucket_sizes_keep_charts_readable(window: int, rate: int, cost: int) -> None:
    assert pick_bucket_minutes(window, 240) == rate
    assert cost_bucket_minutes(window) == cost


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3 * DAY),
            st.sampled_from(MODELS),
            st.integers(0, 10**6),
            st.integers(0, 10**5),
        ),
        max_size=60,
    ),
    st.integers(1, 3 * DAY),
    st.sampled_from([1, 5, 60, 1440]),
)
def test_buckets_add_up_to_the_window_counters(
    events: list[tuple[int, tuple[str, str], int, int]], window: int, bucket: int
) -> None:
    """Whatever the events and bucket size, the buckets hold exactly the window's figures."""
    start, end = 1_700_000_000 * 10**9, 1_700_000_000 * 10**9 + window
    in_window = [
        (start + offset, provider, model, sent, recv)
        for offset, (provider, model), sent, recv in events
        if offset < window
    ]
    rows = [(ts // NS_PER_MINUTE, p, m, 1, s, r) for ts, p, m, s, r in in_window]
    timeline = build_timeline(price_minute_rows(rows, PRICES), start, end, bucket)
    totals, _ = summarise_bytes([(p, m, 1, s, r) for _, p, m, s, r in in_window], window, PRICES)
    assert timeline.reqs == totals.reqs
    assert timeline.unpriced_reqs == totals.unpriced_reqs
    assert timeline.cost_usd == pytest.approx(totals.cost_usd, rel=1e-9, abs=1e-12)
    assert timeline.cumulative_cost()[-1][1] == pytest.approx(totals.cost_usd, abs=1e-12)
    assert timeline.buckets[0].start_ns <= start < timeline.buckets[0].end_ns
    assert timeline.buckets[-1].start_ns < end <= timeline.buckets[-1].end_ns
    assert all(b.peak_minute_reqs <= b.reqs for b in timeline.buckets)


def test_nice_steps_give_clean_labels() -> None:
    assert nice_step(0.2435) == (0.1, 3, 1)
    assert nice_step(1.0) == (0.25, 4, 2)
    assert nice_step(37) == (10.0, 4, 0)
    assert nice_step(0.0) == (0.25, 4, 2)


def test_time_ticks_fall_on_round_local_times() -> None:
    start = 1_772_360_100 * 10**9 + 123  # 10:15:00.000000123 UTC
    ticks = time_ticks(start, start + HOUR, _dt.UTC)
    assert [label for _, label in ticks] == ["10:20", "10:30", "10:40", "10:50", "11:00", "11:10"]
    week = time_ticks(start, start + 7 * DAY, _dt.UTC)
    assert len(week) <= 8 and all(ts % DAY == 0 for ts, _ in week)


def test_svg_is_well_formed_with_titles_and_escaped_text() -> None:
    start = 1_772_360_100 * 10**9
    bars = [
        Bar(start + i * HOUR, start + (i + 1) * HOUR, i * 1.5, f"bar {i} <&>") for i in range(3)
    ]
    svg = bar_chart(
        "c1",
        'Cost "per" <hour>',
        bars,
        start_ns=start,
        end_ns=start + 3 * HOUR,
        y_label="USD / hour",
        y_format=lambda v, d: f"${v:.{d}f}",
        tz=_dt.UTC,
    )
    root = ET.fromstring(str(svg))
    assert root.find(f"{SVG}title").text == 'Cost "per" <hour>'
    titles = [t.text for t in root.iter(f"{SVG}title")][1:]
    assert titles == ["bar 0 <&>", "bar 1 <&>", "bar 2 <&>"]
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "USD / hour" in labels and "$3" in labels and "time (UTC)" in labels
    line = line_chart(
        "c2",
        "Cumulative",
        [Point(start, 0.0, "a"), Point(start + HOUR, 2.0, "b")],
        start_ns=start,
        end_ns=start + HOUR,
        y_label="USD",
        y_format=lambda v, d: f"{v}",
        tz=_dt.UTC,
        empty_text="",
    )
    assert len(list(ET.fromstring(str(line)).iter(f"{SVG}circle"))) == 2
