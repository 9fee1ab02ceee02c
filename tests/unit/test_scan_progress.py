"""A long read's progress as people read it: the text, the tray's menu and title, the counter."""

from __future__ import annotations

import io
from pathlib import Path

from burntray.config import Settings
from burntray.model.pricing import build_price_table
from burntray.model.progress import ScanProgress, progress_text
from burntray.model.snapshot import Snapshot, SourceStatus
from burntray.sources.agent_logs.progress import ScanCounter
from burntray.sources.agent_logs.source import claude_source
from burntray.ui.presenter import UiState, present
from burntray.ui.progress_line import ProgressLine
from burntray.ui.progress_watch import ProgressWatch

READING = ScanProgress("Claude Code logs", 2_150_000_000, 5_200_000_000)


def test_the_text_says_percent_and_bytes_in_gb_or_mb() -> None:
    assert progress_text(READING) == "reading Claude Code logs: 41 % (2.1 of 5.2 GB)"
    small = ScanProgress("Claude Code logs", 61_000_000, 150_000_000)
    assert progress_text(small) == "reading Claude Code logs: 40 % (61 of 150 MB)"
    # never past 100 %, nor a division by zero
    assert progress_text(ScanProgress("x", 9, 5)).startswith("reading x: 100 % (")
    assert progress_text(ScanProgress("x", 0, 0)) == "reading x: 0 % (0.0 of 0.0 MB)"


def test_the_menu_and_the_title_say_how_far_the_first_scan_has_got() -> None:
    settings = Settings(source="claude")
    starting = present(None, settings, UiState(progress=(READING,)))
    assert "reading Claude Code logs: 41 % (2.1 of 5.2 GB)" in starting.header
    assert "reading Claude Code logs: 41 %" in starting.title
    snapshot = Snapshot(
        source="claude",
        window_ns=3600 * 10**9,
        as_of_ns=1_700_000_000 * 10**9,
        status=SourceStatus("starting", "first read pending", stale=True),
    )
    view = present(snapshot, settings, UiState(progress=(READING,)))
    assert "reading Claude Code logs: 41 % (2.1 of 5.2 GB)" in view.header
    done = present(snapshot, settings, UiState())
    assert not any("Claude Code logs:" in row for row in done.header)
    assert "Claude Code logs:" not in done.title


def test_the_counter_reports_only_a_large_read_while_it_lasts() -> None:
    counter = ScanCounter(min_bytes=100)
    assert counter.now() is None
    counter.start(50)  # too small to be worth a line
    assert counter.now() is None
    counter.start(1000)
    counter.add(250)
    assert counter.now() == (250, 1000)
    counter.stop()
    assert counter.now() is None


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_line_is_for_terminals_only() -> None:
    assert ProgressLine.wanted(_Tty())
    assert not ProgressLine.wanted(io.StringIO())
    line = ProgressLine(_Tty())
    line.stop()  # never started, nothing shown: nothing written
    assert line.stream.getvalue() == ""  # type: ignore[attr-defined]


def test_the_tray_watch_hands_on_each_change_of_a_sources_long_read(tmp_path: Path) -> None:
    source = claude_source([tmp_path / "claude"], build_price_table(), None, watch=False)
    shown: list[tuple[ScanProgress, ...]] = []
    watch = ProgressWatch(lambda: source, shown.append)
    watch.check()
    assert shown == []  # nothing under way: nothing to say
    counter = source.reader.progress
    counter.start(5_200_000_000)  # a first scan begins (the monitor thread reads)
    counter.add(2_150_000_000)
    watch.check()
    watch.check()  # unchanged: not handed on again
    assert shown == [(READING,)]
    counter.stop()
    watch.check()
    assert shown == [(READING,), ()]  # over: the menu's line goes
    ProgressWatch(lambda: None, shown.append).check()  # no source yet
    assert len(shown) == 2
