"""The record views over most of the history read the whole table in the order written rather
than through an index (a search of the table per record): which way is taken, and that both
give the same sums for each source of a table they share."""

from __future__ import annotations

import math
import random
from pathlib import Path

from burntray.model.usage import UsageRecord
from burntray.store.history import HistoryStore
from burntray.store.usage_events import UsageEvents
from burntray.store.views import _Ask, _covers_most, grouped

S = 10**9
T0 = 1_796_000_400 * S
DAY = 86_400 * S


def _history(tmp_path: Path, big: int, small: int) -> HistoryStore:
    """Two sources over the same ten days, their records written in no time order."""
    rng = random.Random(7)
    history = HistoryStore(tmp_path / "history.sqlite3")
    events = UsageEvents(history)
    for source, count in (("big", big), ("small", small)):
        records = [
            UsageRecord(T0 + rng.randrange(10 * DAY), "anthropic", "claude-sonnet-4-5",
                        rng.randint(1, 90), rng.randint(1, 900), rng.randint(0, 9000), 0,
                        rng.choice((None, rng.random())), f"{source}:{i}", f"s{i % 13}",
                        f"-p{i % 3}")
            for i in range(count)
        ]  # fmt: skip
        events.ingest(source, records)
    return history


def test_a_source_holding_most_of_the_table_is_scanned_a_small_one_searched(
    tmp_path: Path,
) -> None:
    history = _history(tmp_path, big=900, small=100)
    everything = (T0 - DAY, T0 + 11 * DAY)
    assert _covers_most(history, "big", *everything) is True
    assert _covers_most(history, "small", *everything) is False  # a tenth: searched
    assert _covers_most(history, "big", T0, T0 + DAY) is False  # one day of ten: searched
    assert _covers_most(history, "nobody", *everything) is False


def test_a_scan_of_the_whole_table_sums_only_the_sources_own_records(tmp_path: Path) -> None:
    history = _history(tmp_path, big=900, small=100)
    start, end = T0 + DAY, T0 + 9 * DAY
    rows = history.execute(
        "SELECT source, session, count(*), sum(output), total(cost) FROM usage_events "
        "WHERE ts_ns >= ? AND ts_ns < ? GROUP BY 1, 2",
        (start, end),
    )
    for source in ("big", "small"):
        expected = {
            str(s): (int(n), int(out), float(cost))  # type: ignore[call-overload]
            for src, s, n, out, cost in rows
            if src == source
        }
        for scan in (True, False):
            got: dict[str, tuple[int, int, float]] = {}
            ask_rows = grouped(history, source, start, end, ("session",), by_period=False)
            if scan != _covers_most(history, source, start, end):
                # the other way, asked directly: both ways must give the same sums
                ask_rows = _Ask(history, source, ("session",), False).records(
                    start, end, (), scan=scan
                )
            for group in ask_rows:
                n, out, cost = got.get(group.values[0], (0, 0, 0.0))
                got[group.values[0]] = (
                    n + group.reqs,
                    out + group.output_tokens,
                    cost + group.cost_usd,
                )
            assert {k: v[:2] for k, v in got.items()} == {k: v[:2] for k, v in expected.items()}
            for key, (_, _, cost) in got.items():
                assert math.isclose(cost, expected[key][2], rel_tol=1e-12), (source, scan, key)
