"""stats.json parsing and windowing: hexai's TakeSnapshot numbers, from vectors worked by hand.

Each vector states its expected counters explicitly (derived from spec section 1.6: events
kept when ``ts >= now - window``, RPM = reqs / nominal window minutes), so these tests do not
re-run our own code to find the answer.
"""

from __future__ import annotations

import json

import pytest

from burntray.model.pricing import build_price_table
from burntray.model.snapshot import SourceStatus
from burntray.sources.hexai.source import StatsFormatError, hexai_snapshot, parse_stats

PRICES = build_price_table()
OK = SourceStatus("ok")
S = 10**9
# now = 2026-03-01T10:15:02.48133+01:00 = 2026-03-01T09:15:02.48133Z
NOW = (20513 * 86400 + 9 * 3600 + 15 * 60 + 2) * S + 481_330_000
HOUR = 3600 * S


def stats_json(
    events: list[dict[str, object]] | None, window: int = 3600, **extra: object
) -> bytes:
    body = {
        "version": 1,
        "updated_at": "2026-03-01T10:15:02.48133+01:00",
        "window_seconds": window,
        "events": events,
        **extra,
    }
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"


def event(
    ts: str, provider: str = "openai", model: str = "gpt-4.1", sent: int = 100, recv: int = 10
) -> dict[str, object]:
    return {"ts": ts, "provider": provider, "model": model, "sent": sent, "recv": recv}


def test_spec_illustrative_file() -> None:
    data = (
        b'{"version":1,"updated_at":"2026-03-01T10:15:02.48133+01:00","window_seconds":3600,'
        b'"events":[{"ts":"2026-03-01T10:14:11.9+01:00","provider":"ollama","model":"kimi-k2.6",'
        b'"sent":5120,"recv":734},{"ts":"2026-03-01T10:15:02.48133+01:00","provider":"openai",'
        b'"model":"gpt-4.1","sent":880,"recv":95}]}\n'
    )
    stats = parse_stats(data)
    snap = hexai_snapshot(stats, HOUR, NOW, PRICES, OK)
    assert snap.totals.reqs == 2
    assert snap.totals.sent == 6000
    assert snap.totals.recv == 829
    assert snap.totals.rpm == pytest.approx(2 / 60)
    rows = {(r.provider, r.model): r for r in snap.by_model}
    assert rows[("ollama", "kimi-k2.6")].reqs == 1
    assert rows[("ollama", "kimi-k2.6")].cost_usd == 0.0  # local provider
    # gpt-4.1 at $2/$8 per 1M tokens, tokens = bytes/4: (220*2 + 23.75*8)/1e6
    assert rows[("openai", "gpt-4.1")].cost_usd == pytest.approx((880 / 4 * 2 + 95 / 4 * 8) / 1e6)
    assert snap.totals.unpriced_reqs == 0


def test_cutoff_is_inclusive_to_the_nanosecond() -> None:
    # now - 1h = 2026-03-01T08:15:02.48133Z exactly; one ns earlier is out.
    at_cutoff = event("2026-03-01T09:15:02.48133+01:00")
    one_ns_early = event("2026-03-01T08:15:02.481329999Z")
    one_ns_late = event("2026-03-01T03:15:02.481330001-05:00")
    stats = parse_stats(stats_json([one_ns_early, at_cutoff, one_ns_late]))
    assert hexai_snapshot(stats, HOUR, NOW, PRICES, OK).totals.reqs == 2


def test_mixed_offsets_unsorted_events_compare_instants() -> None:
    # Same instants written from three zones, deliberately out of order.
    events = [
        event("2026-03-01T10:10:00+01:00", sent=1),  # 09:10Z  in 1h, in 15m? no (cutoff 09:00:02)
        event("2026-03-01T04:14:59.999999999-05:00", sent=2),  # 09:14:59.99Z in both
        event("2026-03-01T08:00:00Z", sent=4),  # out of 1h (cutoff 08:15:02)
        event("2026-03-01T14:45:00+05:30", sent=8),  # 09:15Z in both
        event("2026-03-01T09:00:00Z", sent=16),  # in 1h; 15m cutoff is 09:00:02.48 -> out
    ]
    stats = parse_stats(stats_json(events))
    one_hour = hexai_snapshot(stats, HOUR, NOW, PRICES, OK).totals
    assert (one_hour.reqs, one_hour.sent) == (4, 1 + 2 + 8 + 16)
    fifteen = hexai_snapshot(stats, 15 * 60 * S, NOW, PRICES, OK).totals
    assert (fifteen.reqs, fifteen.sent) == (3, 1 + 2 + 8)
    assert fifteen.rpm == pytest.approx(3 / 15)


def test_counters_per_provider_and_model() -> None:
    events = [
        event("2026-03-01T09:10:00Z", "openai", "gpt-4.1", 1000, 100),
        event("2026-03-01T09:11:00Z", "openai", "gpt-4.1-mini", 2000, 200),
        event("2026-03-01T09:12:00Z", "openai", "gpt-4.1", 3000, 300),
        event("2026-03-01T09:13:00Z", "openrouter", "gpt-4.1", 4000, 400),
        event("2026-03-01T09:14:00Z", "", "", 5, 5),
    ]
    snap = hexai_snapshot(parse_stats(stats_json(events)), HOUR, NOW, PRICES, OK)
    rows = {(r.provider, r.model): (r.reqs, r.sent, r.recv) for r in snap.by_model}
    assert rows == {
        ("openai", "gpt-4.1"): (2, 4000, 400),
        ("openai", "gpt-4.1-mini"): (1, 2000, 200),
        ("openrouter", "gpt-4.1"): (1, 4000, 400),
        ("", ""): (1, 5, 5),
    }
    assert snap.totals.unpriced_reqs == 1  # the blank model has no price: never silently $0
    assert snap.totals.reqs == 5


@pytest.mark.parametrize("events", [None, []])
def test_null_or_empty_events(events: list[dict[str, object]] | None) -> None:
    snap = hexai_snapshot(parse_stats(stats_json(events)), HOUR, NOW, PRICES, OK)
    assert snap.totals.reqs == 0
    assert snap.by_model == ()


@pytest.mark.parametrize("window", [0, -5])
def test_non_positive_window_means_one_hour(window: int) -> None:
    stats = parse_stats(stats_json([event("2026-03-01T08:20:00Z")], window=window))
    assert stats.effective_window_s == 3600
    # updated_at - 1 h: the file is authoritative from 08:15:02.48133Z on
    assert stats.coverage_start_ns == NOW - HOUR


def test_missing_fields_take_go_zero_values() -> None:
    stats = parse_stats(b'{"version":1,"events":[{"ts":"2026-03-01T09:14:00Z"},{}]}')
    assert stats.window_seconds == 0
    snap = hexai_snapshot(stats, HOUR, NOW, PRICES, OK)
    # the event without ts has Go's zero time (year 1): never in a window
    assert (snap.totals.reqs, snap.totals.sent) == (1, 0)
    assert snap.data_updated_ns is None


def test_identical_events_stay_distinct() -> None:
    same = event("2026-03-01T09:14:00Z")
    stats = parse_stats(stats_json([same, same, same]))
    assert [ev.dup for ev in stats.events()] == [0, 1, 2]
    assert hexai_snapshot(stats, HOUR, NOW, PRICES, OK).totals.reqs == 3


def test_html_characters_are_kept_verbatim() -> None:
    stats = parse_stats(stats_json([event("2026-03-01T09:14:00Z", "<b>&", "<script>")]))
    assert stats.events()[0].provider == "<b>&"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"version":1,"events":[', "corrupt JSON"),
        (b"", "corrupt JSON"),
        (b'{"version":2,"events":[]}', "unsupported version 2"),
        (b'{"events":[]}', "unsupported version None"),
        (b'{"version":1,"window_seconds":3600.0}', "window_seconds"),
        (b'{"version":1,"events":[{"ts":"2026-03-01T09:14:00Z","sent":1.5}]}', "sent"),
        (b'{"version":1,"events":[{"ts":"2026-03-01T09:14:00Z","sent":"12"}]}', "sent"),
        (
            b'{"version":1,"events":[{"ts":"2026-03-01T09:14:00Z","recv":9223372036854775808}]}',
            "recv",
        ),
        (b'{"version":1,"events":[{"ts":"2026-03-01T09:14:00"}]}', "events[0].ts"),
        (b'{"version":1,"events":[{"ts":12345}]}', "ts"),
        (b'{"version":1,"updated_at":"soon","events":[]}', "updated_at"),
        (b'{"version":1,"events":{}}', "events"),
        (b"[1,2,3]", "wrong shape"),
        (b'{"version":1,"events":[]}garbage', "corrupt JSON"),
    ],
)
def test_bad_files_name_the_problem(data: bytes, message: str) -> None:
    with pytest.raises(StatsFormatError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_stats(data)


@pytest.mark.parametrize(
    "ts",
    [
        "2026-03-01t09:14:00Z",
        "2026-03-01T09:14:00z",
        "2026-03-01 09:14:00Z",
        "2026-03-01T10:14:00+0100",
    ],
)
def test_forms_go_rejects_are_rejected_in_files(ts: str) -> None:
    # msgspec's own parser accepts these; Go's does not, and neither do we.
    with pytest.raises(StatsFormatError, match=r"events\[1\]\.ts"):
        parse_stats(stats_json([event("2026-03-01T09:10:00Z"), event(ts)]))


def test_null_and_empty_names_are_one_group_as_in_go() -> None:
    events = [
        {"ts": "2026-03-01T09:12:00Z", "provider": None, "model": None, "sent": 1, "recv": 1},
        {"ts": "2026-03-01T09:11:00Z", "provider": "", "model": "", "sent": 2, "recv": 2},
        {"ts": "2026-03-01T09:13:00Z", "sent": None, "recv": None},
    ]
    snap = hexai_snapshot(parse_stats(stats_json(events)), HOUR, NOW, PRICES, OK)
    assert [(r.provider, r.model, r.reqs, r.sent) for r in snap.by_model] == [("", "", 3, 3)]
    # windowing after the merge still sorts by time: 09:11:30Z cuts off the first (09:11)
    cut = hexai_snapshot(
        parse_stats(stats_json(events)), 3 * 60 * S + 32 * S + 481_330_000, NOW, PRICES, OK
    )
    assert cut.totals.reqs == 2


def test_sub_microsecond_boundary_in_every_rounding_direction() -> None:
    # Keys are rounded to the microsecond; events within 500 ns of the cutoff must still be
    # decided exactly. Cutoff = NOW - 1h = ...08:15:02.481330000Z
    offsets_ns = [-501, -500, -499, -1, 0, 1, 499, 500, 501]
    events = []
    for off in offsets_ns:
        frac = 481_330_000 + off
        events.append(event(f"2026-03-01T08:15:02.{frac:09d}Z", sent=1))
    stats = parse_stats(stats_json(events))
    assert hexai_snapshot(stats, HOUR, NOW, PRICES, OK).totals.reqs == sum(
        1 for off in offsets_ns if off >= 0
    )
    # the same instants written with an offset (keys in another zone)
    shifted = [event(f"2026-03-01T13:45:02.{481_330_000 + off:09d}+05:30") for off in offsets_ns]
    stats = parse_stats(stats_json(shifted))
    assert hexai_snapshot(stats, HOUR, NOW, PRICES, OK).totals.reqs == 5


def test_invalid_utf8_becomes_replacement_characters_as_in_go() -> None:
    # Go's encoding/json (hexai's own reader) replaces each byte that does not start a valid
    # UTF-8 sequence with U+FFFD: a stray byte, a truncated sequence (two bytes: two U+FFFD), an
    # encoded surrogate (three bytes: three U+FFFD). The event still counts.
    data = stats_json([event("2026-03-01T10:00:00+01:00", model="gpt-4.1")]).replace(
        b'"gpt-4.1"', b'"gpt\xff-4.1 \xe2\x82 \xed\xa0\x80"'
    )
    stats = parse_stats(data)
    snap = hexai_snapshot(stats, HOUR, NOW, PRICES, OK)
    assert snap.totals.reqs == 1
    assert [r.model for r in snap.by_model] == ["gpt\ufffd-4.1 \ufffd\ufffd \ufffd\ufffd\ufffd"]


def test_invalid_utf8_outside_a_string_is_still_corrupt() -> None:
    with pytest.raises(StatsFormatError, match="corrupt JSON"):
        parse_stats(b'{"version":1,\xff"events":[]}\n')


def test_byte_sums_beyond_int64_stay_exact() -> None:
    big = 2**63 - 1  # the largest sent Go accepts; two of them overflow an int64 sum
    data = stats_json([event("2026-03-01T10:00:00+01:00", sent=big, recv=big)] * 3)
    snap = hexai_snapshot(parse_stats(data), HOUR, NOW, PRICES, OK)
    assert (snap.totals.sent, snap.totals.recv) == (3 * big, 3 * big)


def test_a_large_file_is_read_in_chunks_that_split_only_between_events() -> None:
    # Over 1 MiB of events (read in chunks), some with an unknown field (Go ignores those)
    # holding exactly what separates two events in Go's encoding: a split there cannot decode,
    # so the result must still be what one whole decode gives.
    events: list[dict[str, object]] = [
        event(
            f"2026-03-01T09:{i // 600 % 60:02d}:{i // 10 % 60:02d}.{i:06d}+01:00",
            provider=["openai", "anthropic", ""][i % 3],
            model=f"m{i % 7}",
            sent=i,
            recv=i % 13,
        )
        for i in range(20_000)
    ]
    for i in range(0, 20_000, 97):
        events[i]["extra"] = [{"a": 1}, {"ts": "2026-03-01T10:00:00Z", "sent": 10**6}]
    compact = stats_json(events)  # laid out as Go writes it: read in chunks
    spaced = json.dumps(json.loads(compact)).encode()  # same content, not Go's layout
    assert len(compact) > 1024 * 1024 and b'},{"ts":"2026-03-01T10:00:00Z"' in compact
    chunked, whole = parse_stats(compact), parse_stats(spaced)
    assert chunked.event_count == whole.event_count == 20_000
    assert sorted(chunked.raw_events()) == sorted(whole.raw_events())
    for cutoff in (NOW - 2 * HOUR, NOW - 3600 * S - 1, NOW - 30 * 60 * S):
        assert sorted(chunked.counters(cutoff)) == sorted(whole.counters(cutoff))
    plain = stats_json([{k: v for k, v in e.items() if k != "extra"} for e in events])
    assert sorted(parse_stats(plain).counters(NOW - 2 * HOUR)) == sorted(
        whole.counters(NOW - 2 * HOUR)
    )


def test_a_chunk_split_inside_an_unknown_field_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    from burntray.sources.hexai import parse as hexai_parse

    monkeypatch.setattr(hexai_parse, "_CHUNK_BYTES", 300)  # a split every few events
    events = [event(f"2026-03-01T10:00:{i:02d}+01:00", sent=i) for i in range(40)]
    plain = stats_json(events)
    layout = hexai_parse.go_layout(plain)
    assert layout is not None
    chunked = hexai_parse.parse_layout(plain, layout)
    assert chunked is not None and chunked.counters(0) == [("openai", "gpt-4.1", 40, 780, 400)]
    for e in events:  # now every event hides an event separator in an ignored field
        e["extra"] = [{"a": 1}, {"ts": "2026-03-01T10:00:00Z"}]
    trapped = stats_json(events)
    layout = hexai_parse.go_layout(trapped)
    assert layout is not None
    assert hexai_parse.parse_layout(trapped, layout) is None  # a split landed in a trap
    assert parse_stats(trapped).counters(0) == [("openai", "gpt-4.1", 40, 780, 400)]
