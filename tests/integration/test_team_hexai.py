"""hexai's usage at a team's hub (issue 25): a machine sends its per-minute rollups (requests
and bytes per minute, provider and model) to a real hub receiver on 127.0.0.1, and the hub's
figures for each host equal that machine's own hexai figures exactly - requests, bytes,
estimated tokens (rounded per machine, as hexai rounds them) and cost - however often a minute
is resent or grows."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from burntray.model.pricing import build_price_table
from burntray.model.snapshot import Totals
from burntray.report.views import ViewQuery, read_view
from burntray.runtime import team_wire
from burntray.runtime.team_sender import Target, TeamSender, post
from burntray.sources.hexai.source import HexaiSource
from burntray.sources.hexai.team import HexaiRollups
from burntray.sources.hexai.writer import hexai_update
from burntray.sources.hub.source import HubSource
from burntray.sources.registry import REGISTRY
from burntray.store.history import HistoryStore
from tests.integration.test_team_sender import TOKEN, Hub
from tests.processes import wait_for

PRICES = build_price_table({})
WINDOW = 2 * 3600 * 10**9
MINUTE = 60 * 10**9
# the stats file's events sit in the hour before now (hexai's own window prunes older ones)
BASE = (time.time_ns() // MINUTE - 40) * MINUTE


class HexaiMachine:
    """A machine whose hexai cache is written by the hexai writer and read by its source (which
    keeps the events in its history), with a sender of its hexai minutes to the hub."""

    def __init__(self, root: Path, url: str, host: str) -> None:
        self.cache = root / host / "hexai"
        self.history = HistoryStore(root / f"{host}.sqlite3", REGISTRY.history_tables())
        self.source = HexaiSource(self.cache, PRICES, self.history)
        self.sender = TeamSender(
            self.history,
            Target(url, host, "ana", TOKEN, ""),
            rollups=(HexaiRollups(self.history),),
        )
        self.sender.outbox.enable()  # what ``start`` does first: minutes written are owed

    def write(self, at_ns: int, model: str, sent: int, recv: int) -> None:
        hexai_update(self.cache, "openai", model, sent, recv, clock_ns=lambda: at_ns)
        assert self.source.poll()

    def drain(self) -> int:
        for n in range(1000):
            if not self.sender.send_once():
                return n
        raise AssertionError("the minutes never ran out")

    def own(self, now: int) -> Totals:
        return self.source.snapshot(WINDOW, now).totals

    def close(self) -> None:
        self.history.close()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    h = Hub(tmp_path / "hub.sqlite3", token=TOKEN)
    yield h
    h.close()


def _figures(t: Totals) -> tuple[int, int, int, int]:
    return t.reqs, t.sent, t.recv, t.tokens


def test_a_machines_hexai_minutes_equal_its_own_figures_at_the_hub_through_resends(
    hub: Hub, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{hub.port}/v1/logs"
    alpha = HexaiMachine(tmp_path, url, "alpha")
    beta = HexaiMachine(tmp_path, url, "beta")
    # Each machine rounds its own bytes / 4 (alpha 45,870.5 -> 45,870, beta 9,109.25 -> 9,109):
    # the hub's total is their sum, 54,979, not its own rounding of all bytes (54,980). A
    # priced model and one without a price.
    alpha.write(BASE + 5 * 10**9, "gpt-4.1", 1, 1)
    beta.write(BASE + 7 * 10**9, "gpt-4.1", 2, 0)
    for i in range(30):
        alpha.write(BASE + MINUTE + i * 3 * 10**9, "gpt-4.1-mini", 1000 + i, 5000 + 7 * i)
        beta.write(BASE + 2 * MINUTE + i * 10**9, "no-such-model", 300, 900 + i)
    assert alpha.sender.describe().endswith(": 0 sent since start; 0 records waiting, 3 minutes")
    assert alpha.drain() > 0 and beta.drain() > 0
    assert alpha.sender.describe().endswith("; 0 records waiting")
    now = time.time_ns()
    live = HubSource(hub.history, clock_ns=time.time_ns, prices=PRICES)  # a running hub's

    def check() -> None:
        source = HubSource(hub.history, clock_ns=time.time_ns, prices=PRICES)
        hosts = {h.host: h for h in source.host_totals(now - WINDOW, now + 1)}
        total = source.snapshot(WINDOW, now).totals
        assert live.snapshot(WINDOW, now).totals == total  # its kept sums follow what arrives
        own = {m.sender.target.host: m.own(now) for m in (alpha, beta)}
        # the hub's `status --source hub --by host`: a line per host, as its machine says
        view = read_view(hub.history, ["hub"], ViewQuery(("host",), now - WINDOW, now + 1))
        lines = {row.keys[0]: row for row in view.rows}
        assert set(lines) == set(own)
        for name, mine in own.items():
            line = lines[name]
            assert (line.reqs, line.tokens, line.unpriced_reqs) == (
                mine.reqs, mine.tokens, mine.unpriced_reqs)  # fmt: skip
            assert line.cost_usd == pytest.approx(mine.cost_usd, abs=1e-12)
        assert set(hosts) == set(own)
        for name, mine in own.items():
            h = hosts[name]
            assert (h.reqs, h.sent, h.recv, h.estimated) == _figures(mine)
            assert h.cost == pytest.approx(mine.cost_usd, abs=1e-12)
            assert h.unpriced == mine.unpriced_reqs
        summed = zip(*map(_figures, own.values()), strict=True)
        assert _figures(total) == tuple(sum(x) for x in summed)
        assert total.cost_usd == pytest.approx(sum(t.cost_usd for t in own.values()), abs=1e-12)
        assert total.tokens == 54_979 + grown

    grown = 0
    check()
    assert alpha.own(now).cost_usd > 0 and beta.own(now).unpriced_reqs == 30

    # a minute already at the hub grows (more events in it): sent again, replaced, not added
    alpha.write(BASE + MINUTE + 59 * 10**9, "gpt-4.1-mini", 4, 4)
    assert alpha.drain() == 1
    grown = 2  # 45,872.5 rounds to 45,872
    now = time.time_ns()
    check()

    # everything resent (reporting turned off and on again): the hub's figures do not move
    before = HubSource(hub.history, prices=PRICES).snapshot(WINDOW, now).totals
    alpha.sender.outbox.disable()
    kept = alpha.history.execute("SELECT count(*) FROM hexai_minutes")[0][0]
    sent = alpha.sender.sent
    alpha.sender.start()  # the queue was off: every minute is owed again, and sent
    wait_for(lambda: alpha.sender.sent == sent + kept, 30, "every minute to be sent again")
    alpha.sender.close()
    assert alpha.drain() == 0  # nothing owed once acknowledged
    assert HubSource(hub.history, prices=PRICES).snapshot(WINDOW, now).totals == before
    check()
    alpha.close()
    beta.close()


def test_a_resent_minute_keeps_one_row_at_the_hub(hub: Hub, tmp_path: Path) -> None:
    """The wire: one rollup sent three times, the last with more in it: the hub holds the last."""
    url = f"http://127.0.0.1:{hub.port}/v1/logs"
    target = Target(url, "gamma", "bo", TOKEN, "")
    minute = BASE // MINUTE
    for reqs in (3, 3, 5):
        rollup = team_wire.MinuteRollup("hexai", minute, "openai", "gpt-4.1", reqs, 40 * reqs, 4)
        body = team_wire.encode((), target.host, target.user, [rollup])
        assert post(target, body, None) == (0, "")
    rows = hub.history.execute("SELECT host, user, minute, reqs, sent, recv FROM hub_minutes")
    assert rows == [("gamma", "bo", minute, 5, 200, 4)]


def test_a_bad_rollup_is_refused_alone(hub: Hub) -> None:
    url = f"http://127.0.0.1:{hub.port}/v1/logs"
    target = Target(url, "delta", "", TOKEN, "")
    minute = BASE // MINUTE
    good = team_wire.MinuteRollup("hexai", minute, "openai", "gpt-4.1", 1, 10, 10)
    bad = team_wire.MinuteRollup("hexai", minute + 1, "openai", "gpt-4.1", -1, 10, 10)
    refused, why = post(target, team_wire.encode((), "delta", "", [good, bad]), None)
    assert refused == 1
    assert "burntray.requests -1 is not a count" in why
    rows = hub.history.execute("SELECT reqs FROM hub_minutes WHERE host = 'delta'")
    assert rows == [(1,)]
