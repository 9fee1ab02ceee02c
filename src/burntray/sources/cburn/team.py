"""The cburn daemon's usage for a team's hub: each minute's increases of its running totals.

A minute's increase is the running sums of increases (``cum_*``, which ``history.ingest``
works out with the one rule: decreases add nothing, a restart re-reads the same totals, a
changed period starts a baseline) at the minute's last sample less those at the last sample
before it: summed over a window's minutes, exactly what ``history.window`` says for it.
"""

# ruff: noqa: S608 - SQL here names only constant tables and columns; values are bound

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from burntray.model.timefmt import NS_PER_MINUTE
from burntray.sources import team_counters
from burntray.sources.cburn.history import TABLE

if TYPE_CHECKING:
    from burntray.store.history import HistoryStore

SOURCE = "cburn"
# cburn sums every model of Claude Code's logs: its minutes have one provider and model
PROVIDER, MODEL = "anthropic", "(cburn: every model)"


def minute_increases(history: HistoryStore, from_minute: int) -> team_counters.Increases:
    """Each minute's increases from ``from_minute`` on (minutes without one left out)."""
    start = from_minute * NS_PER_MINUTE
    base: list[Any] = history.execute(
        f"SELECT cum_calls, cum_tokens, cum_cost FROM {TABLE} WHERE at_ns < ? "
        "ORDER BY at_ns DESC, run_ns DESC, period DESC LIMIT 1",
        (start,),
    )
    rows: list[Any] = history.execute(
        f"SELECT at_ns, cum_calls, cum_tokens, cum_cost FROM {TABLE} WHERE at_ns >= ? "
        "ORDER BY at_ns, run_ns, period",
        (start,),
    )
    if not rows:
        return {}
    # no sample before: the first one kept is the baseline (its own increase is 0)
    prev = tuple(base[0]) if base else tuple(rows[0][1:])
    last: dict[int, tuple[int, int, float]] = {}
    for at_ns, calls, tokens, cost in rows:
        last[int(at_ns) // NS_PER_MINUTE] = (int(calls), int(tokens), float(cost))
    out: dict[tuple[int, str, str], tuple[int, int, int, int, float]] = {}
    for minute, (calls, tokens, cost) in last.items():  # in time order (dicts keep it)
        d_calls, d_tokens, d_cost = calls - int(prev[0]), tokens - int(prev[1]), cost - prev[2]
        if d_calls or d_tokens or d_cost:
            out[(minute, PROVIDER, MODEL)] = (d_calls, 0, 0, d_tokens, d_cost)
        prev = (calls, tokens, cost)
    return out


class CburnTeam:
    """Writes the daemon's minutes for the hub after its samples reach the history (on the
    monitor's thread)."""

    def __init__(self, history: HistoryStore) -> None:
        self.history = history
        self._synced = False

    def saved(self, first_at_ns: int, full: bool) -> None:
        """Samples from ``first_at_ns`` on were written (a sample before the last one changes
        the increases of the minutes after it too). ``full``: a long-running burntray, which
        writes every minute kept once (reporting may have just been turned on); a one-shot
        ``status`` writes only the minutes it touched."""
        if not team_counters.reporting(self.history):
            return
        first = first_at_ns // NS_PER_MINUTE
        if full and not self._synced:
            first, self._synced = 0, True
        team_counters.write(self.history, SOURCE, first, minute_increases(self.history, first))

    def catch_up(self) -> None:
        """A long-running burntray's every minute kept, once reporting is on: the sender turns
        it on after the first samples may have been saved, and a quiet daemon sends no more."""
        if not self._synced and team_counters.reporting(self.history):
            self._synced = True
            team_counters.write(self.history, SOURCE, 0, minute_increases(self.history, 0))


def rollups(history: HistoryStore) -> team_counters.CounterRollups:
    return team_counters.CounterRollups(history, SOURCE)
