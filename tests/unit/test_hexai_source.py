"""HexaiSource on real files: change detection, errors that keep the last good numbers (stale),
files never written by reading, and history filling windows longer than the file keeps."""

from __future__ import annotations

import json
import os
from pathlib import Path

from burntray.model.pricing import build_price_table
from burntray.model.timefmt import format_rfc3339_ns
from burntray.sources.hexai import history as hexai_history
from burntray.sources.hexai.source import HexaiSource
from burntray.store.history import HistoryStore

S = 10**9
MIN = 60 * S
NOW = 1_790_000_000 * S


class FakeClock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def write_stats(
    path: Path, events: list[tuple[int, str, str, int, int]], updated: int, window: int = 3600
) -> None:
    body = {
        "version": 1,
        "updated_at": format_rfc3339_ns(updated),
        "window_seconds": window,
        "events": [
            {"ts": format_rfc3339_ns(ts), "provider": p, "model": m, "sent": s, "recv": r}
            for ts, p, m, s, r in events
        ],
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, separators=(",", ":")) + "\n")
    os.replace(tmp, path)


def test_missing_file_is_no_data_yet(hexai_dir: Path) -> None:
    source = HexaiSource(hexai_dir, build_price_table(), clock_ns=FakeClock(NOW))
    source.poll()
    snap = source.snapshot(3600 * S)
    assert snap.status.state == "empty"
    assert "no stats.json yet" in snap.status.detail
    assert snap.status.healthy and snap.totals.reqs == 0


def test_rereads_only_on_change(hexai_dir: Path) -> None:
    stats = hexai_dir / "stats.json"
    write_stats(stats, [(NOW - MIN, "openai", "gpt-4.1", 400, 40)], NOW - MIN)
    source = HexaiSource(hexai_dir, build_price_table(), clock_ns=FakeClock(NOW))
    assert source.poll() is True
    assert source.poll() is False  # unchanged: not re-read
    write_stats(
        stats, [(NOW - MIN, "openai", "gpt-4.1", 400, 40), (NOW, "openai", "gpt-4.1", 400, 40)], NOW
    )
    assert source.poll() is True
    assert source.snapshot(3600 * S).totals.reqs == 2


def test_corrupt_file_keeps_last_good_numbers_and_is_left_alone(hexai_dir: Path) -> None:
    stats = hexai_dir / "stats.json"
    write_stats(stats, [(NOW - MIN, "openai", "gpt-4.1", 400, 40)], NOW - MIN)
    source = HexaiSource(hexai_dir, build_price_table(), clock_ns=FakeClock(NOW))
    source.poll()
    corrupt = b'{"version":1,"events":[{"ts":"2026-'
    stats.write_bytes(corrupt)
    before = os.stat(stats)
    source.poll()
    snap = source.snapshot(3600 * S)
    assert snap.status.state == "error"
    assert snap.status.stale is True
    assert "corrupt JSON" in snap.status.detail and str(stats) in snap.status.detail
    assert snap.totals.reqs == 1  # last good numbers stay visible
    assert stats.read_bytes() == corrupt  # never rewritten by reading
    assert os.stat(stats).st_mtime_ns == before.st_mtime_ns
    # A writer fixes it: back to ok.
    write_stats(stats, [(NOW, "openai", "gpt-4.1", 1, 1)], NOW)
    source.poll()
    assert source.snapshot(3600 * S).status.state == "ok"


def test_wrong_version_is_an_error_not_data(hexai_dir: Path) -> None:
    (hexai_dir / "stats.json").write_text('{"version":2,"events":[]}\n')
    source = HexaiSource(hexai_dir, build_price_table(), clock_ns=FakeClock(NOW))
    source.poll()
    assert source.status.state == "error"
    assert "unsupported version 2" in source.status.detail


def test_history_fills_windows_longer_than_the_file(hexai_dir: Path, tmp_path: Path) -> None:
    stats = hexai_dir / "stats.json"
    clock = FakeClock(NOW - 5 * 3600 * S)
    history = HistoryStore(tmp_path / "history.sqlite3")
    source = HexaiSource(hexai_dir, build_price_table(), history, clock)
    # Five hours ago the file held two events; hexai has since pruned them.
    old = [
        (clock.now - 10 * MIN, "openai", "gpt-4.1", 1000, 100),
        (clock.now - 5 * MIN, "anthropic", "claude-sonnet-4-5", 2000, 200),
    ]
    write_stats(stats, old, clock.now)
    source.poll()
    clock.now = NOW
    recent = [(NOW - 2 * MIN, "openai", "gpt-4.1", 10, 1)]
    write_stats(stats, recent, NOW)
    source.poll()
    one_hour = source.snapshot(3600 * S)
    six_hours = source.snapshot(6 * 3600 * S)
    assert (one_hour.totals.reqs, one_hour.history_used) == (1, False)
    assert (six_hours.totals.reqs, six_hours.history_used) == (3, True)
    assert six_hours.totals.sent == 3010
    # re-reading the same file (or replaying it) never double counts
    source.attach_history(history)
    stats.touch()
    source.poll()
    assert source.snapshot(6 * 3600 * S).totals.reqs == 3
    assert hexai_history.count_events(history) == 3
    history.close()


def test_deleted_file_reads_as_empty_like_hexai(hexai_dir: Path) -> None:
    stats = hexai_dir / "stats.json"
    write_stats(stats, [(NOW - MIN, "openai", "gpt-4.1", 400, 40)], NOW - MIN)
    source = HexaiSource(hexai_dir, build_price_table(), clock_ns=FakeClock(NOW))
    source.poll()
    stats.unlink()
    source.poll()
    snap = source.snapshot(3600 * S)
    assert (snap.status.state, snap.totals.reqs) == ("empty", 0)
