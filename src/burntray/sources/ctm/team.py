"""ctm's usage for a team's hub: each minute's increases of its sessions' running totals.

Each row of ``cost_points`` adds its increase over its session's previous row (a reused
session name starting afresh, as ``CtmCache`` counts it); a minute's increases are those of
its rows, so summed over a window's minutes they are what the machine's own ``status`` says
for it. A long-running burntray reporting to a hub reads ctm's store back to the history's
retention and writes the minutes the rows it read since touched (``team_counters``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from burntray.sources import team_counters

if TYPE_CHECKING:
    from burntray.sources.ctm.source import CtmCache
    from burntray.store.history import HistoryStore

SOURCE = "ctm"
_MS_PER_MINUTE = 60_000


def minute_increases(
    cache: CtmCache, from_ms: int, provider: str, model: str
) -> team_counters.Increases:
    """Each minute's increases of the rows from ``from_ms`` on (minutes without one left
    out): updates that grew a session's counters, input, output, ctm's cost."""
    import bisect  # noqa: PLC0415

    acc: dict[int, list[int]] = {}
    for series in cache.sessions.values():
        i_in, i_out, i_cost, i_grew = series.sums
        for i in range(bisect.bisect_left(series.ts, from_ms), len(series.ts)):
            a = acc.setdefault(series.ts[i] // _MS_PER_MINUTE, [0, 0, 0, 0])
            a[0] += i_grew[i + 1] - i_grew[i]
            a[1] += i_in[i + 1] - i_in[i]
            a[2] += i_out[i + 1] - i_out[i]
            a[3] += i_cost[i + 1] - i_cost[i]
    return {
        (minute, provider, model): (grew, inp, out, inp + out, micros / 1e6)
        for minute, (grew, inp, out, micros) in sorted(acc.items())
        if grew or inp or out or micros
    }


def write(history: HistoryStore, cache: CtmCache, provider: str, model: str) -> int:
    """The minutes of the rows read since the last write (``cache.dirty_from_ms``)."""
    from_ms = cache.dirty_from_ms
    if from_ms is None:
        return 0
    cache.dirty_from_ms = None
    from_ms -= from_ms % _MS_PER_MINUTE  # the whole minute: its earlier rows are in it too
    increases = minute_increases(cache, from_ms, provider, model)
    return team_counters.write(history, SOURCE, from_ms // _MS_PER_MINUTE, increases)


def rollups(history: HistoryStore) -> team_counters.CounterRollups:
    return team_counters.CounterRollups(history, SOURCE)
