"""cburn's and ctm's running totals at a team's hub (issue 25), end to end: real ``burntray
serve`` processes on loopback, one machine following a cburn daemon (the test daemon process,
speaking cburn's HTTP/SSE API), one following ctm's cost store (written by a writer process
with ctm's schema and write pattern), each in its own home, reporting to a hub (``burntray
serve --otlp``). Each host's figures at the hub equal that machine's own ``status`` exactly,
also after the hub was killed while the daemon's totals went down, the daemon restarted and a
ctm session name was reused, and after both machines were killed mid-stream; and every
``--by`` view of the hub adds up to its total."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cburn_daemon import DaemonProcess, free_port
from tests.e2e.test_team_hub import Home
from tests.processes import wait_for
from tests.store_writers import WriterProcess

pytestmark = pytest.mark.slow

FIGURES = ("reqs", "tokens", "cost_usd")
VIEWS = ("day", "week", "month", "session", "project", "branch", "host", "user", "model",
         "tool", "day,host")  # fmt: skip


def _own(home: Home, source: str) -> dict[str, float]:
    done = home.burntray("status", "--source", source, "--window", "14d", "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    t = json.loads(done.stdout)["totals"]
    return {"reqs": t["reqs"], "tokens": t["tokens_est"], "cost_usd": t["cost_usd"]}


def _view(hub: Home, by: str) -> list[dict[str, float]]:
    done = hub.burntray("status", "--source", "hub", "--by", by, "--window", "14d",
                        "--format", "json")  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    return list(json.loads(done.stdout)["rows"])


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["reqs"] == b["reqs"]
        and a["tokens"] == b["tokens"]
        and (abs(a["cost_usd"] - b["cost_usd"]) < 1e-6)
    )


def _converged(hub: Home, machines: dict[str, tuple[Home, str]]) -> bool:
    own = {name: _own(home, source) for name, (home, source) in machines.items()}
    rows = {r["host"]: {"reqs": r["reqs"], "tokens": r["total_tokens"], "cost_usd": r["cost_usd"]}
            for r in _view(hub, "host")}  # fmt: skip
    if set(rows) != set(own) or not all(_same(rows[n], own[n]) for n in own):
        return False
    t = hub.status("hub", ("reqs", "tokens_est"))
    total = {"reqs": t["reqs"], "tokens": t["tokens_est"], "cost_usd": t["cost_usd"]}
    return _same(total, {k: sum(o[k] for o in own.values()) for k in FIGURES})


def _following(daemon: DaemonProcess) -> bool:
    """Whether a machine's stream is open at the daemon (it waits up to 5 s for one)."""
    daemon.send(op="wait_subscribers", n=1, timeout=5)
    return bool(json.loads(daemon.send(op="hits")).get("/v1/stream", 0))


class Ctm:
    """ctm's sessions: running totals per session name, written by ctm's write pattern."""

    def __init__(self, writer: WriterProcess) -> None:
        self.writer = writer
        self.rng = random.Random(7)
        self.state: dict[str, list[int]] = {}

    def updates(self, n: int, sessions: int = 3) -> None:
        now_ms = time.time_ns() // 10**6 - n * 1000
        for i in range(n):
            name = f"s{self.rng.randrange(sessions)}"
            s = self.state.setdefault(name, [0, 0])
            s[0] += self.rng.randrange(0, 4000)
            s[1] += self.rng.randrange(1, 600)
            self.writer.send(op="point", ts_ms=now_ms + i * 1000, session=name, input=s[0],
                             output=s[1], cache=self.rng.randrange(0, 50_000))  # fmt: skip


@pytest.fixture
def homes(tmp_path: Path) -> Iterator[tuple[Home, Home, Home]]:
    hub, cb, ct = Home(tmp_path, "hub"), Home(tmp_path, "cb"), Home(tmp_path, "ct")
    try:
        yield hub, cb, ct
    finally:
        for home in (hub, cb, ct):
            home.stop()


def test_cburn_and_ctm_machines_equal_their_own_status_at_the_hub_through_kills(
    homes: tuple[Home, Home, Home],
) -> None:
    hub, cb, ct = homes
    port, daemon_port = free_port(), free_port()
    team = f'[team]\nhub = "http://127.0.0.1:{port}"\n'
    hub.config('window = "14d"\n')
    cb.config(f'source = "cburn"\n[cburn]\nurl = "http://127.0.0.1:{daemon_port}"\n'
              f'{team}host = "cb"\n')  # fmt: skip
    db = ct.root / "ctm.db"
    ct.config(f'source = "ctm"\n[ctm]\ndb = "{db}"\n{team}host = "ct"\n')
    machines = {"cb": (cb, "cburn"), "ct": (ct, "ctm")}
    daemon = DaemonProcess(port=daemon_port)
    writer = WriterProcess("ctm", db)
    try:
        calls, tokens, cost = 500, 900_000, 40.0  # the daemon's totals over its period

        def poll(d_calls: int, d_tokens: int, d_cost: float) -> None:
            nonlocal calls, tokens, cost
            calls, tokens, cost = calls + d_calls, tokens + d_tokens, cost + d_cost
            daemon.send(op="poll", sessions=3, prompts=9, api_calls=calls, tokens=tokens,
                        estimated_cost_usd=cost)  # fmt: skip

        poll(0, 0, 0.0)
        ctm = Ctm(writer)
        ctm.updates(40)
        hub.serve("--source", "hub", "--otlp", f"127.0.0.1:{port}")
        cb.serve()
        ct.serve()
        wait_for(lambda: _following(daemon), 30, "cb to follow the daemon")
        for i in range(6):
            poll(3 + i, 1000 * i + 17, 0.25 * i + 0.01)
            time.sleep(0.2)  # polls apart in time, as a daemon's are
        wait_for(lambda: _converged(hub, machines), 60, "the hub to equal each machine", 0.5)
        assert _own(cb, "cburn")["reqs"] == sum(3 + i for i in range(6))
        assert _own(ct, "ctm")["reqs"] > 20

        # the hub dies; the daemon's totals go down (a session left its period: adds nothing),
        # then up; the daemon restarts (re-reports its totals: adds nothing), then grows; a
        # ctm session name is reused (starts over) and more updates come
        hub.kill()
        poll(-40, -200_000, -10.0)
        poll(7, 700, 0.5)
        # the growth is read before the daemon dies: a kill right after a poll can come before
        # the daemon has pushed it to its followers (a CI run under load timed out below, cb
        # short of this growth), and what a daemon never sent is not the machine's to count
        grown = sum(3 + i for i in range(6)) + 7
        wait_for(lambda: _own(cb, "cburn")["reqs"] == grown, 30, "cb to read the growth", 0.5)
        daemon.kill()
        daemon = DaemonProcess(port=daemon_port)
        poll(0, 0, 0.0)
        wait_for(lambda: _following(daemon), 60, "cb to follow the restarted daemon")
        poll(5, 500, 0.125)
        ctm.state["s0"] = [0, 0]
        ctm.updates(30)
        want = sum(3 + i for i in range(6)) + 7 + 5
        wait_for(lambda: _own(cb, "cburn")["reqs"] == want, 30, "cb to read its new usage", 0.5)
        hub.serve("--source", "hub", "--otlp", f"127.0.0.1:{port}")
        wait_for(lambda: _converged(hub, machines), 60, "the hub to catch up", 0.5)

        # both machines die mid-stream, usage goes on, they come back: nothing lost or twice
        cb.kill()
        ct.kill()
        poll(4, 400, 0.0625)
        ctm.updates(10)
        cb.serve()
        ct.serve()
        want += 4
        wait_for(lambda: _own(cb, "cburn")["reqs"] == want, 30, "cb to read the usage", 0.5)
        wait_for(lambda: _converged(hub, machines), 60, "the hub after the machines' kill", 0.5)

        # every view of the hub adds up to its total: periods in the viewer's zone, the
        # minutes' session, project and branch as (unknown)
        t = hub.status("hub", ("reqs", "tokens_est"))
        for by in VIEWS:
            rows = _view(hub, by)
            assert sum(r["reqs"] for r in rows) == t["reqs"], by
            assert sum(r["total_tokens"] for r in rows) == t["tokens_est"], by
            cost = sum(r["cost_usd"] for r in rows)
            assert abs(cost - t["cost_usd"]) <= 1e-6 * (len(rows) + 1), by  # JSON rounds rows
        assert {r["session"] for r in _view(hub, "session")} == {"(unknown)"}
        doctor = hub.burntray("doctor")
        assert "per-minute rollups (hexai, cburn, ctm)" in doctor.stdout, doctor.stdout
    finally:
        daemon.kill()
        writer.close()
