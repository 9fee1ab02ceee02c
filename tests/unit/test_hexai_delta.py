"""Incremental re-reads of stats.json equal full parses, after every step of long random runs.

A real hexai-protocol writer (``hexai_update``: lock, read, append, prune a prefix, atomic
rename) appends under a random clock (small steps, jumps forward and back), random windows
(1 s to 24 h), random zones, identical events, and the run is interleaved with clears
(``clear_stats``), deletions, hand edits and corrupt files. After every step the incremental
reader's result is compared with a fresh full parse of the same bytes: the events, the header,
window counters at many cutoffs (including exactly at event times), and the events it reports
as new for the history (against the whole-file count difference the history rule defines).
"""

from __future__ import annotations

import collections
import json
import os
import random
import time
from pathlib import Path

import pytest

from burntray.model.timefmt import format_rfc3339_ns, parse_rfc3339_ns
from burntray.sources.hexai import delta as hexai_delta
from burntray.sources.hexai.delta import StatsReader
from burntray.sources.hexai.parse import (
    StatsFile,
    StatsFormatError,
    parse_stats,
    to_history_events,
)
from burntray.sources.hexai.source import clear_stats
from burntray.sources.hexai.writer import hexai_update

S = 10**9
START = 1_790_000_000 * S
MODELS = [
    ("openai", "gpt-4.1"),
    ("anthropic", "claude-sonnet-4-5"),
    ("ollama", "qwen3 «coder»"),
    ("", ""),
]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def _cutoffs(stats: StatsFile, now: int, rng: random.Random) -> list[int]:
    cutoffs = [now - w * S for w in (0, 1, 7, 60, 300, 3600, 86400)] + [-(2**62), 2**62]
    texts = [t for t, *_ in stats.raw_events() if t is not None]
    for text in rng.sample(texts, min(4, len(texts))):
        exact = parse_rfc3339_ns(text)
        cutoffs += [exact - 1, exact, exact + 1]
    return cutoffs


def _same(got: StatsFile, want: StatsFile, now: int, rng: random.Random) -> None:
    assert (got.window_seconds, got.updated_ns, got.event_count) == (
        want.window_seconds,
        want.updated_ns,
        want.event_count,
    )
    assert collections.Counter(got.raw_events()) == collections.Counter(want.raw_events())
    assert sum(len(s) for s in got.series.values()) == got.event_count
    for cutoff in _cutoffs(want, now, rng):
        assert sorted(got.counters(cutoff)) == sorted(want.counters(cutoff)), cutoff
        until = cutoff + rng.randrange(1, 600) * S
        assert sorted(got.counters(cutoff, until)) == sorted(want.counters(cutoff, until))


def _hand_edit(path: Path, rng: random.Random) -> None:
    """A file hexai's encoder did not write: reordered events, or spaces after separators."""
    doc = json.loads(path.read_bytes())
    if rng.random() < 0.5:
        rng.shuffle(doc["events"])
        data = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
    else:
        data = json.dumps(doc, ensure_ascii=False).encode() + b"\n"
    tmp = path.with_name("edit.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# The reader streams a re-read in pieces: with tiny pieces every comparison crosses piece
# boundaries, and the first piece rarely reaches past the first event.
PIECES = {"default pieces": None, "tiny pieces": (140, 7)}


@pytest.mark.parametrize("pieces", PIECES)
@pytest.mark.parametrize("seed", [1, 2])
def test_incremental_rereads_equal_full_parses(
    hexai_dir: Path, monkeypatch: pytest.MonkeyPatch, seed: int, pieces: str
) -> None:
    if PIECES[pieces] is not None:
        head, piece = PIECES[pieces]
        monkeypatch.setattr(hexai_delta, "_HEAD_BYTES", head)
        monkeypatch.setattr(hexai_delta, "_COMPARE_BYTES", piece)
    rng = random.Random(seed)
    clock = Clock(START)
    path = hexai_dir / "stats.json"
    reader = StatsReader()
    if seed == 2:
        reader.expect_rereads()  # first reads into the reusable buffer, not fresh bytes
    last_good: StatsFile | None = None
    window = 3600
    incremental = steps = 0
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        for _ in range(700):
            roll = rng.random()
            if roll < 0.78:  # append, sometimes twice at the same instant (identical events)
                step = rng.choice([0, 1, 1, 2, 5, 30]) * S + rng.randrange(S)
                clock.now += step
                provider, model = rng.choice(MODELS)
                sent, recv = rng.choice([(100, 10), (rng.randrange(10**6), rng.randrange(10**5))])
                for _ in range(2 if rng.random() < 0.05 else 1):
                    hexai_update(
                        hexai_dir, provider, model, sent, recv, window_s=window, clock_ns=clock
                    )
            elif roll < 0.84:  # the writers' window changes (another config), 1 s .. 24 h
                window = rng.choice([1, 5, 60, 600, 3600, 3600, 86400, 86400])
                continue
            elif roll < 0.88:  # clock jumps, forward or back
                clock.now += rng.choice([-1, 1]) * rng.choice([30, 600, 7200]) * S
                continue
            elif roll < 0.91:  # the writers' local zone changes (DST, another process's TZ)
                monkeypatch.setenv("TZ", rng.choice(ZONES))
                time.tzset()
                continue
            elif roll < 0.94:
                clear_stats(hexai_dir, clock)
                if not path.exists():  # nothing to clear: no file is created
                    continue
            elif roll < 0.96 and path.exists():
                path.unlink()
                reader.reset()  # what the source does when the file is gone
                last_good = None
                continue
            elif roll < 0.98 and path.exists():
                _hand_edit(path, rng)
            elif path.exists():
                good = path.read_bytes()
                path.write_bytes(good[: rng.randrange(len(good))])  # torn/corrupt
                with pytest.raises(StatsFormatError):
                    parse_stats(path.read_bytes())
                with pytest.raises(StatsFormatError):
                    reader.read(path.read_bytes(), fresh=True)
                path.write_bytes(good)  # the reader kept its last good state: compare on
                continue
            else:
                continue
            data = path.read_bytes()
            want = parse_stats(data)
            result = reader.read(data, fresh=True)
            steps += 1
            incremental += result.incremental
            _same(result.stats, want, clock.now, rng)
            current = collections.Counter(want.raw_events())
            before = collections.Counter(last_good.raw_events()) if last_good else None
            expected = (
                to_history_events(current - before, before)
                if before
                else to_history_events(current)
            )
            assert sorted(result.fresh) == sorted(expected)
            last_good = want
    finally:
        monkeypatch.setenv("TZ", "UTC")
        time.tzset()
    assert steps > 500
    assert incremental > steps // 2, (incremental, steps)  # the fast path is really taken


def _go_file(
    events: list[tuple[int, str, str, int, int]], updated: int, window: int = 3600
) -> bytes:
    body = {
        "version": 1,
        "updated_at": format_rfc3339_ns(updated),
        "window_seconds": window,
        "events": [
            {"ts": format_rfc3339_ns(ts), "provider": p, "model": m, "sent": s, "recv": r}
            for ts, p, m, s, r in events
        ],
    }
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"


def test_prune_and_append_is_incremental_and_exact() -> None:
    events = [(START + i * S, "openai", "gpt-4.1", 100 + i, 10) for i in range(50)]
    reader = StatsReader()
    first = reader.read(_go_file(events, START + 50 * S), fresh=True)
    assert not first.incremental and len(first.fresh) == 50
    later = [*events[7:], (START + 60 * S, "anthropic", "claude", 5, 6)]
    result = reader.read(_go_file(later, START + 60 * S), fresh=True)
    assert result.incremental
    assert result.stats.event_count == 44
    assert [(e.ts_ns, e.provider, e.sent) for e in result.fresh] == [
        (START + 60 * S, "anthropic", 5)
    ]
    assert sorted(result.stats.counters(START)) == [
        ("anthropic", "claude", 1, 5, 6),
        ("openai", "gpt-4.1", 43, sum(100 + i for i in range(7, 50)), 430),
    ]


def test_a_changed_kept_event_forces_a_full_parse() -> None:
    events = [(START + i * S, "openai", "gpt-4.1", 100, 10) for i in range(5)]
    reader = StatsReader()
    reader.read(_go_file(events, START + 5 * S))
    edited = [*events[:2], (START + 2 * S, "openai", "gpt-4.1", 999, 10), *events[3:]]
    result = reader.read(_go_file(edited, START + 6 * S))
    assert not result.incremental
    assert result.stats.counters(START) == [("openai", "gpt-4.1", 5, 1399, 50)]


def test_an_event_earlier_than_the_last_forces_a_full_parse() -> None:
    events = [(START + i * S, "openai", "gpt-4.1", 100, 10) for i in range(5)]
    reader = StatsReader()
    reader.read(_go_file(events, START + 5 * S))
    jumped = [*events, (START + 2 * S, "openai", "gpt-4.1", 7, 1)]  # the clock went back
    result = reader.read(_go_file(jumped, START + 2 * S))
    assert not result.incremental
    assert result.stats.counters(START + 2 * S) == [("openai", "gpt-4.1", 4, 307, 31)]


def test_the_source_rereads_in_place_exactly(hexai_dir: Path) -> None:
    """HexaiSource re-reads each change into the one copy of the file it keeps: every poll
    still equals a full parse of the file, through appends, prunes, a clear."""
    from burntray.model.pricing import build_price_table
    from burntray.sources.hexai.source import HexaiSource

    clock = Clock(START)
    source = HexaiSource(hexai_dir, build_price_table(), clock_ns=clock)
    path = hexai_dir / "stats.json"
    kinds = []
    for step in range(40):
        clock.now += (1 if step % 7 else 400) * S  # now and then a gap that prunes
        if step == 25:
            clear_stats(hexai_dir, clock)
        else:
            hexai_update(
                hexai_dir, "openai", f"m{step % 3}", 100 + step, 7, window_s=600, clock_ns=clock
            )
        assert source.poll() is True
        kinds.append(source.last_read_incremental)
        want = parse_stats(path.read_bytes())
        _same(source.stats, want, clock.now, random.Random(step))
    assert kinds[0] is False and all(kinds[2:25]) and all(kinds[26:])


def _big_file(count: int, first: int = 0) -> bytes:
    events = [
        (START + i * S, "openai", f"gpt-{i % 3}", 1000 + i, i % 97) for i in range(first, count)
    ]
    return _go_file(events, START + count * S, window=86400)


def test_a_reread_holds_one_copy_of_the_file(tmp_path: Path) -> None:
    """Memory of a re-read: the reader keeps one copy of the file and changes it in place, so
    an append to a 1.5 MB file allocates far less than the file (it used to read the new file
    into a second buffer)."""
    import tracemalloc

    path = tmp_path / "stats.json"
    path.write_bytes(_big_file(15_000))
    reader = StatsReader()
    reader.read_file(path)
    path.write_bytes(_big_file(15_001, first=40))  # 40 pruned, one appended
    reader.read_file(path)  # the first re-read turns the first read's bytes into the buffer
    size = len(_big_file(15_002, first=80))
    path.write_bytes(_big_file(15_002, first=80))
    tracemalloc.start()
    try:
        result = reader.read_file(path, fresh=True)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.incremental
    assert reader.held_bytes == size
    assert peak < size // 4, (peak, size)
    _same(result.stats, parse_stats(path.read_bytes()), START + 15_002 * S, random.Random(3))


def test_a_change_deep_inside_the_kept_events_forces_a_full_parse(tmp_path: Path) -> None:
    """Bytes past the first piece are compared too: one digit changed in the middle of the
    file (same length) is found, and the result is the new file's full parse."""
    path = tmp_path / "stats.json"
    data = _big_file(20_000)
    path.write_bytes(data)
    reader = StatsReader()
    reader.read_file(path)
    edited = _big_file(20_001)
    middle = edited.index(b'"sent":11000,')
    edited = edited[:middle] + b'"sent":11001,' + edited[middle + 13 :]
    path.write_bytes(edited)
    result = reader.read_file(path, fresh=True)
    assert not result.incremental
    want = parse_stats(edited)
    _same(result.stats, want, START + 20_001 * S, random.Random(4))
    assert len(result.fresh) == 2  # the appended event and the edited one are new


@pytest.mark.parametrize("in_place", [False, True])
def test_files_of_changing_sizes_read_into_the_buffer_exactly(
    tmp_path: Path, in_place: bool
) -> None:
    """The buffer is refitted to each file, larger or smaller, whether or not the change is an
    append (a clear empties the file, a bigger rewrite replaces it)."""
    path = tmp_path / "stats.json"
    reader = StatsReader()
    if in_place:
        reader.expect_rereads()
    for count, first in ((3000, 0), (3001, 0), (10, 5), (0, 0), (6000, 0), (6001, 3)):
        data = _big_file(count, first)
        path.write_bytes(data)
        result = reader.read_file(path)
        assert reader.held_bytes == len(data)
        _same(result.stats, parse_stats(data), START + count * S, random.Random(count))
