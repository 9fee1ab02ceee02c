"""cburn's and ctm's usage at a team's hub (issue 25): a machine sends each minute's increases of
their running totals to a real hub receiver on 127.0.0.1, and the hub's figures for each host
equal that machine's own cburn and ctm figures exactly - through decreases, daemon restarts,
period changes, reused ctm session names, a late sample that moves a minute already sent, and
everything sent again. The views (``status --source hub --by ...``) add up to the hub's total
for every dimension, periods in the viewer's zone."""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from burntray.model.periods import PERIODS
from burntray.model.pricing import build_price_table
from burntray.model.usage import UsageRecord
from burntray.report.views import ViewQuery, read_view
from burntray.runtime import team_wire
from burntray.runtime.team_sender import Target, TeamSender, post
from burntray.sources import team_counters
from burntray.sources.base import SourceContext
from burntray.sources.cburn import history as cburn_history
from burntray.sources.cburn.history import Sample
from burntray.sources.cburn.team import CburnTeam
from burntray.sources.ctm.source import CtmSource
from burntray.sources.hexai.team import HexaiRollups
from burntray.sources.hexai.writer import hexai_update
from burntray.sources.hub.source import HubSource
from burntray.sources.registry import REGISTRY
from burntray.store.history import HistoryStore
from burntray.store.usage_events import UsageEvents
from tests.integration.test_team_sender import TOKEN, Hub
from tests.store_writers import WriterProcess

PRICES = build_price_table({})
MINUTE = 60 * 10**9
WINDOW = 6 * 3600 * 10**9
# the minutes sit in the hours before now (ctm's and hexai's windows reach back from now)
BASE = (time.time_ns() // MINUTE - 240) * MINUTE


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    h = Hub(tmp_path / "hub.sqlite3", token=TOKEN)
    yield h
    h.close()


class CburnMachine:
    """A machine whose cburn samples are kept in its history by the source's own rule
    (``cburn_history.ingest``), its minutes written for the hub and sent."""

    def __init__(self, root: Path, url: str, host: str) -> None:
        self.history = HistoryStore(root / f"{host}.sqlite3", REGISTRY.history_tables())
        self.team = CburnTeam(self.history)
        self.sender = TeamSender(
            self.history,
            Target(url, host, "ana", TOKEN, ""),
            rollups=(team_counters.CounterRollups(self.history, "cburn"),),
        )
        self.sender.outbox.enable()

    def poll(self, *samples: Sample) -> None:
        cburn_history.ingest(self.history, samples)
        self.team.saved(min(s.at_ns for s in samples), full=False)

    def own(self, start: int, end: int) -> tuple[int, int, float]:
        f = cburn_history.window(self.history, start, end)
        return f.api_calls, f.tokens, f.cost_usd

    def drain(self) -> int:
        for n in range(1000):
            if not self.sender.send_once():
                return n
        raise AssertionError("the minutes never ran out")


def _sample(minute: float, run: int, period: str, *figures: float) -> Sample:
    """A poll ``minute`` minutes after BASE: (calls, tokens, cost) cumulative."""
    calls, tokens, cost = figures
    return Sample(BASE + int(minute * MINUTE), run, period, 1, 1, int(calls), int(tokens), cost)


def _hub_figures(hub: Hub, host: str, now: int) -> tuple[int, int, float]:
    hosts = HubSource(hub.history, clock_ns=time.time_ns, prices=PRICES).host_totals(
        now - WINDOW, now + 1
    )
    h = next(h for h in hosts if h.host == host)
    return h.reqs, h.input + h.output + h.estimated, h.cost


def test_cburn_minutes_equal_the_machines_own_figures_through_resets_and_resends(
    hub: Hub, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{hub.port}/v1/logs"
    m = CburnMachine(tmp_path, url, "alpha")
    # a run of the daemon: growth, a decrease (a session left its period: adds nothing), then
    # growth again; a restart re-reporting the same totals (adds nothing), then growth; another
    # period (a new baseline: adds nothing), then growth
    m.poll(_sample(0, 1, "30d", 100, 50_000, 5.0))  # the first sample: the baseline
    m.poll(_sample(1.2, 1, "30d", 110, 52_000, 5.5), _sample(1.7, 1, "30d", 113, 52_500, 5.75))
    m.poll(_sample(3, 1, "30d", 90, 40_000, 4.0))
    m.poll(_sample(4.5, 1, "30d", 95, 41_000, 4.5))
    m.poll(_sample(6, 2, "30d", 95, 41_000, 4.5), _sample(7, 2, "30d", 99, 41_800, 4.75))
    m.poll(_sample(9, 2, "7d", 20, 9_000, 1.0), _sample(9.5, 2, "7d", 26, 9_900, 1.25))
    assert m.drain() > 0
    now = time.time_ns()
    own = m.own(now - WINDOW, now)
    assert own[0] == 10 + 3 + 5 + 4 + 6  # what the rule counts, decreases and restarts as 0
    hub_reqs, hub_tokens, hub_cost = _hub_figures(hub, "alpha", now)
    assert (hub_reqs, hub_tokens) == own[:2]
    assert hub_cost == pytest.approx(own[2], abs=1e-9)
    snap = HubSource(hub.history, clock_ns=time.time_ns, prices=PRICES).snapshot(WINDOW, now)
    assert (snap.totals.reqs, snap.totals.tokens) == own[:2]
    assert m.sender.describe().endswith("; 0 records waiting")

    # a late sample (an event read after later ones) moves minutes already at the hub: those
    # minutes are sent again and replace what the hub holds, never add to it
    m.poll(_sample(2.5, 1, "30d", 120, 53_000, 6.0))
    assert m.drain() >= 1
    now = time.time_ns()
    own = m.own(now - WINDOW, now)
    hub_reqs, hub_tokens, hub_cost = _hub_figures(hub, "alpha", now)
    assert (hub_reqs, hub_tokens) == own[:2]
    assert hub_cost == pytest.approx(own[2], abs=1e-9)

    # everything sent again (reporting turned off and on): the hub's figures do not move
    m.sender.outbox.disable()
    m.sender.outbox.enable()
    m.sender.rollups[0].owe_all()
    assert m.drain() >= 1
    assert _hub_figures(hub, "alpha", now)[:2] == own[:2]
    m.history.close()


def test_ctm_minutes_equal_the_machines_own_figures_with_reused_sessions(
    hub: Hub, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{hub.port}/v1/logs"
    db = tmp_path / "ctm.db"
    history = HistoryStore(tmp_path / "beta.sqlite3", REGISTRY.history_tables())
    sender = TeamSender(
        history,
        Target(url, "beta", "bo", TOKEN, ""),
        rollups=(team_counters.CounterRollups(history, "ctm"),),
    )
    sender.outbox.enable()
    rng = random.Random(3)
    state = {f"s{i}": [0, 0] for i in range(4)}
    ts = BASE // 10**6
    with WriterProcess("ctm", db) as writer:

        def update(name: str, grow: bool = True) -> None:
            nonlocal ts
            if grow:
                state[name][0] += rng.randrange(0, 5000)
                state[name][1] += rng.randrange(1, 800)
            ts += rng.choice((0, 7, 1000, 45_000))
            writer.send(op="point", ts_ms=ts, session=name, input=state[name][0],
                        output=state[name][1], cache=rng.randrange(0, 90_000))  # fmt: skip

        for _ in range(150):
            update(f"s{rng.randrange(4)}", grow=rng.random() < 0.8)
        source = CtmSource(db, team=history)
        source.start(lambda: None)
        assert source.poll()
        assert sender.send_once()
        while sender.send_once():
            pass
        # a reused session name starts over; more updates after the first send
        state["s0"] = [0, 0]
        for _ in range(40):
            update(f"s{rng.randrange(4)}")
        assert source.poll()
        while sender.send_once():
            pass
    now = time.time_ns()
    own = source.snapshot(WINDOW, now).totals
    assert own.reqs > 100
    hosts = HubSource(hub.history, clock_ns=time.time_ns, prices=PRICES).host_totals(
        now - WINDOW, now + 1
    )
    (h,) = hosts
    assert (h.host, h.reqs, h.input, h.output) == (
        "beta", own.reqs, own.input_tokens, own.output_tokens)  # fmt: skip
    assert h.cost == pytest.approx(own.cost_usd, abs=1e-9)
    history.close()


def test_a_running_totals_minute_is_validated_and_refused_alone(hub: Hub) -> None:
    target = Target(f"http://127.0.0.1:{hub.port}/v1/logs", "delta", "", TOKEN, "")
    minute = BASE // MINUTE
    good = team_wire.MinuteRollup("ctm", minute, "anthropic", "m", 2, 0, 0, 10, 5, 15, 0.25)
    short = good._replace(minute=minute + 1, tokens=3)  # fewer tokens than input + output
    huge = good._replace(minute=minute + 2, cost=1e12)
    refused, why = post(target, team_wire.encode((), "delta", "", [good, short]), None)
    assert (refused, why) == (1, "burntray.usage.tokens 3 is less than input + output (15)")
    refused, why = post(target, team_wire.encode((), "delta", "", [huge]), None)
    assert refused == 1
    assert why == "burntray.cost_usd 1000000000000.0 is outside +-10,000,000 a minute"
    rows = hub.history.execute("SELECT minute, reqs, tokens, cost FROM hub_counter_minutes")
    assert rows == [(minute, 2, 15, 0.25)]


def _hexai(history: HistoryStore, root: Path) -> int:
    """hexai's events kept by its source in ``history`` (minutes owed to the hub)."""
    from burntray.sources.hexai.source import HexaiSource

    source = HexaiSource(root / "hexai", PRICES, history)
    first = time.time_ns() - 55 * MINUTE  # hexai keeps its last hour
    for i in range(50):
        at = first + i * 61 * 10**9
        model = ("gpt-4.1-mini", "no-such-model")[i % 2]
        hexai_update(root / "hexai", "openai", model, 1001 + 7 * i, 3 + 5 * i,
                     clock_ns=lambda at=at: at)  # fmt: skip
    assert source.poll()
    return source.snapshot(WINDOW).totals.reqs


@pytest.mark.parametrize("zone", ["Asia/Kathmandu", "America/St_Johns", "UTC"])
def test_every_view_of_the_hub_adds_up_to_its_total(hub: Hub, tmp_path: Path, zone: str) -> None:
    """Records, hexai's minutes and cburn's increases from two hosts: every ``--by`` view (a
    period in the viewer's zone, session/project/branch as ``(unknown)`` for the minutes) sums
    to the hub's total, and the day view puts each minute in its local day."""
    url = f"http://127.0.0.1:{hub.port}/v1/logs"
    history = HistoryStore(tmp_path / "m.sqlite3", REGISTRY.history_tables())
    sender = TeamSender(history, Target(url, "alpha", "ana", TOKEN, ""),
                        rollups=(HexaiRollups(history),))  # fmt: skip
    sender.outbox.enable()
    # records whose days differ by zone: spread over 30 hours before the minutes
    UsageEvents(history).ingest("claude", [
        UsageRecord(BASE - i * 1800 * 10**9, "anthropic", "claude-sonnet-4-5", 10 + i, 20, 30,
                    40, 0.01 * i, f"k{i}", session=f"s{i % 3}", project="p", branch="main")
        for i in range(60)
    ])  # fmt: skip
    hexai_reqs = _hexai(history, tmp_path)
    assert hexai_reqs > 40
    while sender.send_once():
        pass
    cburn = CburnMachine(tmp_path, url, "beta")
    cburn.poll(_sample(0, 1, "30d", 1, 100, 0.5))
    cburn.poll(*(_sample(50 + 5 * i, 1, "30d", 2 + i, 200 + 50 * i, 0.5 + i / 8)
                 for i in range(30)))  # fmt: skip
    cburn.drain()
    now = time.time_ns()
    start = BASE - 40 * 3600 * 10**9
    span = now + 1 - start
    total = HubSource(hub.history, clock_ns=time.time_ns, prices=PRICES).snapshot(span, now).totals
    assert total.reqs == 60 + hexai_reqs + 30
    tz = ZoneInfo(zone)
    dims_list = [(d,) for d in (*PERIODS, "session", "project", "branch", "host", "user",
                               "model", "tool")]  # fmt: skip
    dims_list += [("day", "host"), ("project", "branch"), ("week", "model"), ("month", "session")]
    for dims in dims_list:
        view = read_view(hub.history, ["hub"], ViewQuery(dims, start, now + 1, tz))
        assert sum(r.reqs for r in view.rows) == total.reqs, dims
        assert sum(r.tokens for r in view.rows) == total.tokens, dims
        assert sum(r.cost_usd for r in view.rows) == pytest.approx(total.cost_usd, abs=1e-9)
    # the minutes have no session: shown as (unknown), as older records without a branch
    by_session = read_view(hub.history, ["hub"], ViewQuery(("session",), start, now + 1, tz))
    unknown = next(r for r in by_session.rows if r.keys == ("(unknown)",))
    assert unknown.reqs == hexai_reqs + 30
    # each minute's day in the viewer's zone: the day view equals grouping the minutes by hand
    by_day = read_view(hub.history, ["hub"], ViewQuery(("day", "host"), start, now + 1, tz))
    beta_days = {r.keys[0]: r.reqs for r in by_day.rows if r.keys[1] == "beta"}
    want: dict[str, int] = {}
    rows = hub.history.execute("SELECT minute, reqs FROM hub_counter_minutes")
    for minute, reqs in rows:
        day = dt.datetime.fromtimestamp(int(minute) * 60, tz).date().isoformat()  # type: ignore[call-overload]
        want[day] = want.get(day, 0) + int(reqs)  # type: ignore[call-overload]
    assert beta_days == {d: n for d, n in want.items() if n}
    history.close()
    cburn.history.close()


def test_minutes_go_only_while_the_followed_source_counts_them(
    hub: Hub, isolated_env: Path
) -> None:
    """Under ``all`` with Claude Code's own logs present, ctm reports the same requests and is
    not added: its minutes stay at home (the records go instead); followed alone, they go."""
    from burntray.config import Settings
    from burntray.paths import app_paths
    from burntray.sources.build import build_source
    from burntray.sources.ctm.paths import ctm_db
    from tests.agent_logs_support import generate_claude_logs

    history = HistoryStore(isolated_env / "m.sqlite3", REGISTRY.history_tables())
    url = f"http://127.0.0.1:{hub.port}/v1/logs"
    sender = TeamSender(history, Target(url, "gamma", "ana", TOKEN, ""),
                        rollups=(team_counters.CounterRollups(history, "ctm"),))  # fmt: skip
    sender.outbox.enable()
    team_counters.write(history, "ctm", 0, {(BASE // MINUTE, "anthropic", "m"): (3, 1, 2, 3, 0.5)})
    with WriterProcess("ctm", ctm_db()) as writer:
        writer.send(op="point", ts_ms=BASE // 10**6, session="a", input=10, output=2)

    def counted(source: str) -> frozenset[str] | None:
        ctx = SourceContext(Settings(source=source), app_paths(), PRICES, history=history)
        built = build_source(source, ctx)
        try:
            sender.follow(built)
        finally:
            built.close()
        return sender.counted

    generate_claude_logs(Path(os.environ["HOME"]) / ".claude" / "projects", 20_000, 1, seed=1)
    assert "ctm" not in (counted("all") or ())
    assert "claude" in (counted("all") or ())
    assert not sender.send_once()  # the ctm minute is not sent: all does not count ctm
    assert sender.describe().endswith("; 0 records waiting")
    assert counted("ctm") == {"ctm"}
    assert sender.describe().endswith("; 0 records waiting, 1 minutes")
    assert sender.send_once()
    assert hub.history.execute("SELECT host, reqs FROM hub_counter_minutes") == [("gamma", 3)]
    history.close()
