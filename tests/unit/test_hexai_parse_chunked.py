"""The chunked full parse (a file laid out as Go writes it) against an exact reference.

``parse_layout`` turns each chunk's times into keys as it goes (one zone kept, mixed zones in
UTC, a zone change between chunks converting what came before). These files mix zones inside
and across chunks, odd offsets, fraction lengths from 0 to over 9 digits (Go truncates past the
ninth), trailing zeros Go never writes, out-of-order events, nulls, a leap day and times at the
edges of what datetime can hold. The reference counts each event by its exact instant
(``parse_rfc3339_ns``, a direct reading of the text), one event at a time, so it shares no
keys, bisection or rounding with the code under test; the general (non-chunked) parse of the
same content must agree too.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import random

import pytest

from burntray.model.timefmt import parse_rfc3339_ns
from burntray.sources.hexai import parse as hexai_parse
from burntray.sources.hexai.delta import StatsReader
from burntray.sources.hexai.parse import (
    GO_ZERO_TIME_NS,
    StatsFile,
    StatsFormatError,
    go_layout,
    parse_layout,
    parse_stats,
)

S = 10**9
BASE = 1_835_000_000 * S  # 2028-02-23: a few days before the leap day 2028-02-29
NAMES = [("openai", "gpt-4.1"), ("anthropic", "claude"), ("", ""), (None, None), ("ollama", "q")]
# minutes east of UTC; None: written "Z"
OFFSETS: list[int | None] = [None, 0, 60, 120, -300, 330, 345, -570, 840, -720, 23 * 60 + 59]


def go_time(instant_ns: int, offset_min: int | None, rng: random.Random) -> str:
    """``instant_ns`` written as RFC 3339 in a zone, with a fraction Go writes or one it only
    reads (trailing zeros, more than 9 digits: Go truncates them, the instant stays)."""
    seconds, frac = divmod(instant_ns, S)
    wall = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=seconds + 60 * (offset_min or 0))
    text = wall.strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{frac:09d}".rstrip("0") if frac else ""
    style = rng.random()
    if style < 0.15:
        digits += "0" * rng.randint(1, 3)
    elif style < 0.25:
        digits = f"{frac:09d}" + str(rng.randint(0, 10 ** rng.randint(1, 4)))
    if digits:
        text += "." + digits
    if offset_min is None:
        return text + "Z"
    sign = "+" if offset_min >= 0 else "-"
    hours, minutes = divmod(abs(offset_min), 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


def stats_bytes(events: list[dict[str, object]]) -> bytes:
    body = {
        "version": 1,
        "updated_at": "2028-03-01T10:00:00Z",
        "window_seconds": 3600,
        "events": events,
    }
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"


def random_events(rng: random.Random, count: int, zones: list[int | None]) -> list[dict]:
    events: list[dict[str, object]] = []
    instant = BASE
    for _ in range(count):
        instant += rng.choice([0, 1, 499, 500, 501, 10**3, 10**6, S, 3600 * S, 20 * 3600 * S])
        at = instant
        if rng.random() < 0.1:
            at -= rng.randrange(4 * 3600 * S)  # out of order (a clock jump back)
        provider, model = rng.choice(NAMES)
        ts: str | None = go_time(at, rng.choice(zones), rng)
        if rng.random() < 0.01:
            ts = None  # Go's zero time
        events.append(
            {
                "ts": ts,
                "provider": provider,
                "model": model,
                "sent": None if rng.random() < 0.02 else rng.randrange(10**6),
                "recv": None if rng.random() < 0.02 else rng.randrange(10**4),
            }
        )
    return events


class Reference:
    """Per provider/model (null or missing = ""), the events with ts >= cutoff, one by one."""

    def __init__(self, events: list[dict]) -> None:
        self.rows = [
            (
                GO_ZERO_TIME_NS if ev.get("ts") is None else parse_rfc3339_ns(ev["ts"]),
                (ev.get("provider") or "", ev.get("model") or ""),
                ev.get("sent") or 0,
                ev.get("recv") or 0,
            )
            for ev in events
        ]

    def counters(self, cutoff: int) -> dict[tuple[str, str], tuple[int, int, int]]:
        out: dict[tuple[str, str], tuple[int, int, int]] = {}
        for ts, name, sent, recv in self.rows:
            if ts >= cutoff:
                reqs, sent_sum, recv_sum = out.get(name, (0, 0, 0))
                out[name] = (reqs + 1, sent_sum + sent, recv_sum + recv)
        return out


def reference(events: list[dict], cutoff: int) -> dict[tuple[str, str], tuple[int, int, int]]:
    return Reference(events).counters(cutoff)


def counters(stats: StatsFile, cutoff: int) -> dict[tuple[str, str], tuple[int, int, int]]:
    return {(p, m): (r, s, v) for p, m, r, s, v in stats.counters(cutoff)}


def chunked(data: bytes) -> StatsFile:
    layout = go_layout(data)
    assert layout is not None
    stats = parse_layout(data, layout)
    assert stats is not None  # read in chunks, not left to the general parse
    return stats


def check_series(stats: StatsFile) -> None:
    """Every series is sorted and all its keys are in its one zone (cheap comparisons)."""
    for series in stats.series.values():
        keys = series.keys[series.start :]
        assert keys == sorted(keys)
        assert {key.tzinfo for key in keys} <= {series.zone}


def cutoffs_for(events: list[dict], rng: random.Random) -> list[int]:
    exact = [parse_rfc3339_ns(ev["ts"]) for ev in events if ev["ts"] is not None]
    out = [-(2**62), 2**62, GO_ZERO_TIME_NS, GO_ZERO_TIME_NS + 1, BASE]
    for at in rng.sample(exact, min(30, len(exact))):
        out += [at + d for d in (-501, -500, -499, -1, 0, 1, 499, 500, 501)]
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    "zones",
    [[60], [None], [-570], OFFSETS],
    ids=["one-zone", "utc", "odd-offset", "mixed"],
)
def test_chunked_parse_counts_exactly_like_go(
    monkeypatch: pytest.MonkeyPatch, seed: int, zones: list[int | None]
) -> None:
    monkeypatch.setattr(hexai_parse, "_CHUNK_BYTES", 1500)  # ~12 events a chunk
    rng = random.Random(seed)
    events = random_events(rng, 600, zones)
    data = stats_bytes(events)
    stats = chunked(data)
    whole = parse_stats(json.dumps(json.loads(data)).encode())  # not Go's layout: one decode
    check_series(stats)
    check_series(whole)
    assert stats.event_count == whole.event_count == len(events)
    assert collections.Counter(stats.raw_events()) == collections.Counter(whole.raw_events())
    exact = Reference(events)
    for cutoff in cutoffs_for(events, rng):
        expected = exact.counters(cutoff)
        assert counters(stats, cutoff) == expected, cutoff
        assert counters(whole, cutoff) == expected, cutoff


def test_a_zone_change_between_chunks_moves_earlier_keys_to_utc(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Daylight saving time: +01:00 for the first chunks, +02:00 after; then one chunk in UTC.
    monkeypatch.setattr(hexai_parse, "_CHUNK_BYTES", 1000)
    rng = random.Random(7)
    events = [
        {
            "ts": go_time(BASE + i * 60 * S + i, 60 if i < 100 else 120 if i < 200 else None, rng),
            "provider": "openai",
            "model": "gpt-4.1",
            "sent": i,
            "recv": 1,
        }
        for i in range(250)
    ]
    stats = chunked(stats_bytes(events))
    series = stats.series[("openai", "gpt-4.1")]
    assert series.zone == dt.UTC
    check_series(stats)
    for cutoff in cutoffs_for(events, rng):
        assert counters(stats, cutoff) == reference(events, cutoff)
    # and the incremental reader still appends to it (its keys meet the appended ones in UTC)
    reader = StatsReader()
    reader.read(stats_bytes(events))
    more = [*events, {**events[-1], "ts": go_time(BASE + 300 * 60 * S, 120, rng)}]
    result = reader.read(stats_bytes(more))
    assert result.incremental
    assert counters(result.stats, BASE) == reference(more, BASE)


def test_times_at_the_edges_of_datetime_in_mixed_zones() -> None:
    # Year 9999 west of UTC is past datetime's range once in UTC, year 1 east of it before:
    # Go keeps the first in any window ending now and never the second.
    events = [
        {"ts": "9999-12-31T23:00:00-05:00", "provider": "a", "model": "b", "sent": 1, "recv": 0},
        {"ts": "0001-01-01T01:00:00+02:00", "provider": "a", "model": "b", "sent": 2, "recv": 0},
        {"ts": "2028-02-29T12:00:00+01:00", "provider": "a", "model": "b", "sent": 4, "recv": 0},
        {"ts": "2028-02-29T23:59:59.999999999Z", "provider": "a", "model": "b", "sent": 8},
    ]
    data = stats_bytes(events)
    for stats in (chunked(data), parse_stats(json.dumps(json.loads(data)).encode())):
        check_series(stats)
        for cutoff in (BASE, parse_rfc3339_ns("2028-02-29T23:59:59.999999999Z"), -(2**62)):
            assert counters(stats, cutoff) == reference(events, cutoff)


def test_a_bad_time_in_a_later_chunk_is_named_by_its_position(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hexai_parse, "_CHUNK_BYTES", 1000)
    rng = random.Random(3)
    events = random_events(rng, 200, [60])
    events[150]["ts"] = "2027-02-29T10:00:00+01:00"  # no leap day in 2027
    data = stats_bytes(events)
    layout = go_layout(data)
    assert layout is not None and parse_layout(data, layout) is None
    with pytest.raises(StatsFormatError, match=r"events\[150\]\.ts: no such date"):
        parse_stats(data)
    events[150]["ts"] = "2028-12-31T23:59:60Z"  # a leap second: Go's parser rejects it
    with pytest.raises(StatsFormatError, match=r"events\[150\]\.ts: time of day out of range"):
        parse_stats(stats_bytes(events))
    events[150]["ts"] = "2028-02-29T10:00:00 +01:00"  # msgspec would take it; Go does not
    with pytest.raises(StatsFormatError, match=r"events\[150\]\.ts"):
        parse_stats(stats_bytes(events))


@pytest.mark.parametrize("distinct", [3, 40, 200])
def test_names_first_seen_in_later_chunks(monkeypatch: pytest.MonkeyPatch, distinct: int) -> None:
    # Chunks are decoded with the names seen so far; a chunk bringing a new one (or escapes,
    # or past the limit of names) must still count every event under its own name.
    monkeypatch.setattr(hexai_parse, "_CHUNK_BYTES", 1200)
    rng = random.Random(distinct)
    events = random_events(rng, 500, [60, None])
    for i, ev in enumerate(events):
        if i > 100:  # the first chunks see only the random names above
            ev["provider"] = f"p{rng.randrange(distinct)}é"
            ev["model"] = rng.choice([f"m{i % distinct}", None, "", "gpt-4.1"])
    data = stats_bytes(events)  # (json.dumps writes é as \u00e9)
    exact = Reference(events)
    stats = chunked(data)
    for cutoff in cutoffs_for(events, rng):
        assert counters(stats, cutoff) == exact.counters(cutoff)
    raw = data.replace(b"p1\\u00e9", b"p1\xe9")  # Latin-1, not UTF-8: Go reads U+FFFD
    for ev in events:
        if ev["provider"] == "p1é":
            ev["provider"] = "p1\ufffd"
    stats = chunked(raw)
    assert counters(stats, -(2**62)) == Reference(events).counters(-(2**62))


def test_byte_sums_leaving_int64_in_a_later_chunk_stay_exact(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The prefix sums are int64 until a sum leaves that range, then exact Python ints; the
    # switch may come in any chunk, after nulls, and out-of-order events re-sort them.
    monkeypatch.setattr(hexai_parse, "_CHUNK_BYTES", 600)
    rng = random.Random(11)
    events = random_events(rng, 120, [60, -300])
    for i, ev in enumerate(events):
        if i % 9 == 0:
            ev["sent"] = 2**63 - 1 - i  # the largest Go accepts, nearly
        if i % 13 == 0:
            ev["recv"] = None
    stats = chunked(stats_bytes(events))
    exact = Reference(events)
    for cutoff in cutoffs_for(events, rng):
        assert counters(stats, cutoff) == exact.counters(cutoff)
