"""The status document's alerts object under a stream of usage: re-evaluated at most once a
second while the figures change on every tick (it reads the history), at once on a new alert
level, and current again once the stream pauses."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from msgspec.structs import replace

from burntray.app import AppContext
from burntray.model.pricing import build_price_table
from burntray.serve.figures import FiguresBoard
from burntray.serve.run import ALERTS_MIN_GAP_NS, FiguresPublisher
from burntray.sources.otel.mapping import Decoded, UsageEvent
from burntray.sources.otel.source import OtelSource
from burntray.store.history import HistoryStore

MS = 1_000_000
HOUR = 3600 * 1000 * MS


def test_a_stream_re_evaluates_the_alerts_once_a_second_and_a_new_level_at_once(
    tmp_path: Path,
) -> None:
    start = time.time_ns()
    clock = [start]
    history = HistoryStore(tmp_path / "h.sqlite3")
    source = OtelSource("127.0.0.1:0", build_price_table({}), history, lambda: clock[0])
    ctx = AppContext.load()
    board = FiguresBoard(started_ns=start - MS)
    publisher = FiguresPublisher(ctx, ctx.settings, board)
    docs = []
    try:
        for i in range(600):  # 3 s of ticks 5 ms apart, a request on each
            clock[0] = start + 5 * MS * i
            event = UsageEvent(
                "claude-code", "anthropic", "claude-opus-4-1", "s", clock[0], 1, 1, 0, 0, 0.01,
                f"claude-code:req:{i}",
            )  # fmt: skip
            source.ledger.add(Decoded(events=[event]), clock[0])
            source.poll()
            publisher(source.snapshot(HOUR, clock[0]), source)
            figures = board.get()
            assert figures is not None
            docs.append(figures.status_doc["alerts"])
        evaluated = len({id(doc) for doc in docs})
        assert 3 <= evaluated <= 4, evaluated  # at 0, 1, 2 (and 3) s: not 600 times
        assert docs[-1]["spent_today_usd"] < 6.0  # up to a second behind the stream

        # the stream pauses: the next tick a second on says what was spent, exactly
        clock[0] += ALERTS_MIN_GAP_NS
        source.poll()
        publisher(source.snapshot(HOUR, clock[0]), source)
        figures = board.get()
        assert figures is not None
        assert figures.status_doc["alerts"]["spent_today_usd"] == pytest.approx(6.0)

        # a new alert level is never held back
        last = figures.status_doc["alerts"]
        clock[0] += 5 * MS
        publisher(replace(source.snapshot(HOUR, clock[0]), alert_level="spike"), source)
        figures = board.get()
        assert figures is not None
        assert figures.status_doc["alerts"] is not last
    finally:
        source.close()
        ctx.close()
        history.close()
