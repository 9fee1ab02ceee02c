"""cburn: wire decoding, windowed figures from samples, discovery, the auto probe."""

from __future__ import annotations

import itertools
import json
import os
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from burntray.config import Settings
from burntray.model.pricing import build_price_table
from burntray.paths import app_paths
from burntray.sources.base import SourceContext
from burntray.sources.build import NotedSource, build_source, choose_auto
from burntray.sources.cburn import history as cburn_history
from burntray.sources.cburn import wire
from burntray.sources.cburn.client import BoundedLines, OversizedEventError
from burntray.sources.cburn.discovery import DEFAULT_URL, check_url, discover, probe
from burntray.sources.cburn.history import Sample
from burntray.sources.cburn.source import CburnSource
from burntray.store.history import HistoryStore
from tests.cburn_daemon import CburnTestDaemon, SilentAcceptor, free_port, go_float, go_json

STATUS = (
    b'{"started_at":"2026-02-28T09:00:00.12-05:00","last_poll_at":"2026-02-28T09:10:15.3-05:00",'
    b'"poll_interval_sec":15,"poll_count":41,"data_dir":"/home/u/.claude","days":30,"summary":'
    b'{"at":"2026-02-28T09:10:15.3-05:00","sessions":120,"prompts":900,"api_calls":5400,'
    b'"tokens":81234567,"estimated_cost_usd":412.37,"cache_hit_rate":0.91,"cost_per_day_usd":'
    b'20.6,"tokens_per_day":4061728,"sessions_per_day":6},"event_count":7,"subscriber_count":1}\n'
)


# --- wire ---------------------------------------------------------------------------------
def test_status_as_the_daemon_writes_it() -> None:
    status = wire.decode_status(STATUS)
    assert status.project_filter == "" and status.last_error == ""  # omitted when empty
    period = wire.daemon_period(status)
    assert period.days == 30 and period.api_calls == 5400 and period.sessions_per_day == 6.0
    assert period.at_ns == wire.go_time_ns("2026-02-28T14:10:15.3Z", "t")  # offsets honoured
    sample = wire.sample_of(status.summary, 1, "p", "summary")
    assert sample is not None and sample.cost_usd == 412.37


def test_zero_time_before_the_first_poll_is_no_sample() -> None:
    data = STATUS.replace(b'"at":"2026-02-28T09:10:15.3-05:00"', b'"at":"0001-01-01T00:00:00Z"')
    status = wire.decode_status(data)
    assert wire.sample_of(status.summary, 1, "p", "summary") is None
    assert wire.daemon_period(status).at_ns is None


@pytest.mark.parametrize("text", ["1e-7", "1e-07", "9.999999994736442e-8"])
def test_go_exponent_floats(text: str) -> None:
    event = wire.decode_event(
        b'{"id":2,"type":"usage_delta","timestamp":"2026-02-28T09:10:15+01:00","snapshot":'
        b'{"at":"2026-02-28T09:10:15+01:00","sessions":1,"prompts":1,"api_calls":1,"tokens":1,'
        b'"estimated_cost_usd":' + text.encode() + b'},"delta":{"estimated_cost_usd":-1e-7}}'
    )
    assert event.snapshot.estimated_cost_usd == float(text)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html>", "/v1/status is not JSON: '<html>'"),
        (b'{"started_at":"x"}', "/v1/status has the wrong shape: Object missing required field"),
        (STATUS.replace(b'"days":30', b'"days":"30"'), "Expected `int`, got `str` - at `$.days`"),
    ],
)
def test_bad_status_is_named(data: bytes, message: str) -> None:
    with pytest.raises(wire.WireFormatError, match=None) as caught:
        wire.decode_status(data)
    assert message in str(caught.value)


def test_the_test_daemon_encodes_like_go() -> None:
    assert [go_float(x) for x in (1e-7, 6.0, 0.1, 1e21, 1e-6, 2.5e-10, -1e-7)] == [
        "1e-7", "6", "0.1", "1e+21", "0.000001", "2.5e-10", "-1e-7",
    ]  # fmt: skip
    assert go_json({"a": "<&>", "b": [1, 0.0]}) == '{"a":"\\u003c\\u0026\\u003e","b":[1,0]}'


def test_bounded_lines_across_chunks() -> None:
    ok = list(BoundedLines(iter([b"data: 12", b"34\n\n", b"x" * 10, b"\n"]), 10))
    assert b"".join(ok) == b"data: 1234\n\n" + b"x" * 10 + b"\n"
    with pytest.raises(OversizedEventError, match="oversized event"):
        list(BoundedLines(iter([b"data: 12", b"345", b"6\n"]), 10))
    with pytest.raises(OversizedEventError):
        list(BoundedLines(iter([b"a\n" + b"y" * 11 + b"\nb"]), 10))


# --- windowed figures ---------------------------------------------------------------------
def _sample(at: int, calls: int, cost: float = 0.0, period: str = "d30", run: int = 1) -> Sample:
    return Sample(at, run, period, 1, 1, calls, calls * 10, cost)


def _reference(samples: list[Sample], start: int, end: int) -> tuple[int, int, float]:
    """The documented rule, written plainly: positive increases between neighbours of the
    same period whose later sample lies in (start, end]."""
    ordered = sorted(set(samples))
    calls = tokens = 0
    cost = 0.0
    for prev, cur in itertools.pairwise(ordered):
        if start < cur.at_ns <= end and prev.period == cur.period:
            calls += max(0, cur.api_calls - prev.api_calls)
            tokens += max(0, cur.tokens - prev.tokens)
            diff = cur.cost_usd - prev.cost_usd
            cost += diff if diff > cburn_history.COST_NOISE_USD else 0.0
    return calls, tokens, cost


@pytest.fixture
def store() -> HistoryStore:
    history = HistoryStore(Path(":memory:"))
    cburn_history.ensure_schema(history)
    return history


def test_increases_only_restart_and_period_change(store: HistoryStore) -> None:
    samples = [
        _sample(10, 100, 1.0),
        _sample(20, 110, 1.5),
        _sample(30, 90, 1.2),  # sliding window shrank: nothing negative
        _sample(40, 95, 1.2),
        _sample(50, 95, 1.2 + 1e-13, run=2),  # restart re-reads the same totals: +0
        _sample(60, 97, 1.3, run=2),
        _sample(70, 5000, 80.0, period="d90", run=3),  # --days changed: a new baseline
        _sample(80, 5003, 80.1, period="d90", run=3),
    ]
    assert cburn_history.ingest(store, samples) == 8
    assert cburn_history.ingest(store, samples) == 0  # replays add nothing
    figures = cburn_history.window(store, 0, 100)
    assert (figures.api_calls, figures.tokens) == (10 + 5 + 2 + 3, 200)
    assert figures.cost_usd == pytest.approx(0.5 + 0.1 + 0.1)
    assert cburn_history.window(store, 40, 60).api_calls == 2  # (40, 60]


samples_strategy = st.lists(
    st.builds(
        _sample,
        st.integers(0, 60),
        st.integers(0, 50),
        st.floats(0, 5, allow_nan=False),
        st.sampled_from(["a", "b"]),
    ),
    max_size=30,
    unique_by=lambda s: (s.at_ns, s.run_ns, s.period),  # one daemon poll, one set of figures
)


@settings(max_examples=150, deadline=None)
@given(samples_strategy, st.integers(0, 60), st.integers(0, 60), st.randoms())
def test_window_matches_the_rule_whatever_the_ingest_order(
    samples: list[Sample], start: int, length: int, rnd: random.Random
) -> None:
    history = HistoryStore(Path(":memory:"))
    cburn_history.ensure_schema(history)
    shuffled = samples[:]
    rnd.shuffle(shuffled)
    cut = rnd.randint(0, len(shuffled))
    cburn_history.ingest(history, shuffled[:cut])  # arrives in two batches, out of order
    cburn_history.ingest(history, shuffled[cut:])
    figures = cburn_history.window(history, start, start + length)
    calls, tokens, cost = _reference(samples, start, start + length)
    assert (figures.api_calls, figures.tokens) == (calls, tokens)
    assert figures.cost_usd == pytest.approx(cost, abs=1e-9)
    assert figures.api_calls >= 0 and figures.cost_usd >= 0


# --- discovery and the auto probe -------------------------------------------------------
def test_discovery_order(tmp_path: Path) -> None:
    state = tmp_path / "cburnd.pid.json"
    env = {"BURNTRAY_CBURN_URL": "http://10.0.0.2:9000/"}
    assert discover("http://h:1", env, tmp_path).origin == "config cburn.url"
    found = discover("", env, tmp_path)
    assert (found.url, found.origin) == ("http://10.0.0.2:9000", "env BURNTRAY_CBURN_URL")
    state.write_text(json.dumps({"pid": os.getpid(), "addr": ":8788"}, indent=2) + "\n")
    found = discover("", {}, tmp_path)
    assert (found.url, found.origin) == ("http://127.0.0.1:8788", f"state file {state}")
    state.write_text(json.dumps({"pid": os.getpid(), "addr": "[::]:8789"}))
    assert discover("", {}, tmp_path).url == "http://[::1]:8789"
    state.write_text(json.dumps({"pid": 2**22 + 12345, "addr": "127.0.0.1:9999"}))
    found = discover("", {}, tmp_path)
    assert found.url == DEFAULT_URL and "stale" in found.skipped[0]
    state.write_text("{not json")
    assert "is not JSON" in discover("", {}, tmp_path).skipped[0]
    assert discover("", {}, tmp_path / "nope").origin == "default"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://h:1", "only http:// and https://"),
        ("http://", "no host"),
        ("http://h:99999", "bad port"),
        ("http://h:1/?x=1", "query"),
        ("https://h/cburn", ""),
    ],
)
def test_check_url(url: str, problem: str) -> None:
    assert (problem in check_url(url)) if problem else check_url(url) == ""


def test_probe_answers_in_every_case() -> None:
    refused = f"http://127.0.0.1:{free_port()}"
    assert probe(refused) == (False, "connection refused")
    with CburnTestDaemon() as daemon:
        assert probe(daemon.url) == (True, f"cburn daemon at {daemon.url}")
        daemon.override("/healthz", 404, "text/plain", b"404 page not found\n")
        assert "did not answer ok" in probe(daemon.url)[1]
    with SilentAcceptor() as server:
        found, why = probe(server.url)  # its own timeout ends the wait
        assert not found and "accepted but did not answer" in why


def test_probe_by_host_name_ascii_and_not() -> None:
    """An ASCII host name goes to getaddrinfo as bytes (no idna codec import); a name that
    needs the codec still goes through it, and an unresolvable one is a reason, not a crash."""
    with CburnTestDaemon() as daemon:
        by_name = daemon.url.replace("127.0.0.1", "localhost")
        assert by_name != daemon.url
        assert probe(by_name) == (True, f"cburn daemon at {by_name}")
    for url in ("http://nowhere.invalid:9", "http://bücher.invalid:9"):
        found, why = probe(url, 1.0)
        assert not found and why


def test_auto_wraps_the_choice_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    with CburnTestDaemon() as daemon:
        daemon.poll(sessions=1, prompts=1, api_calls=1, tokens=1, estimated_cost_usd=0.0)
        ctx = SourceContext(
            Settings(source_options={"cburn.url": daemon.url}),
            app_paths(),
            build_price_table({}, None),
            env={},
        )
        assert choose_auto(ctx) == ("cburn", f"auto: cburn daemon at {daemon.url}")
        source = build_source("auto", ctx)
        assert isinstance(source, NotedSource) and isinstance(source.chosen, CburnSource)
        assert "snapshot" not in vars(source.chosen)  # wrapped, not patched
        source.poll()
        snap = source.snapshot(3600 * 10**9)
        assert snap.note == f"auto: cburn daemon at {daemon.url}"
        assert snap.status.state == "ok"
        source.close()


def test_memory_and_history_file_agree_on_every_window(tmp_path: Path) -> None:
    from burntray.sources.cburn.discovery import Discovery

    hour = 3600 * 10**9
    now = 1_800_000_000 * 10**9
    history = HistoryStore(tmp_path / "history.sqlite3")
    cburn_history.ensure_schema(history)
    rnd = random.Random(7)
    calls, samples = 0, []
    for minute in range(0, 72 * 60, 7):  # three days of polls, with ups and downs
        calls = max(0, calls + rnd.randint(-3, 9))
        samples.append(_sample(now - 72 * hour + minute * 60 * 10**9, calls, calls / 100))
    cburn_history.ingest(history, samples)
    source = CburnSource(Discovery("http://127.0.0.1:9", "test"), history, clock_ns=lambda: now)
    try:
        for hours in (1, 6, 24, 25, 26, 48, 80):
            snap = source.snapshot(hours * hour, now)
            truth = cburn_history.window(history, now - hours * hour, now)
            assert (snap.totals.reqs, snap.totals.tokens) == truth[:2], hours
            assert snap.totals.cost_usd == pytest.approx(truth.cost_usd)
            assert snap.history_used  # all of it was recorded by an earlier run
        # up to a day comes from memory, longer windows from the file
        assert source._covered_by_memory(now - 24 * hour)
        assert not source._covered_by_memory(now - 26 * hour)
    finally:
        source.close()
        history.close()


def test_the_test_daemon_speaks_cburns_wire_format() -> None:
    import httpx

    with CburnTestDaemon() as daemon, httpx.Client(base_url=daemon.url, timeout=5) as http:
        assert http.get("/v1/status/").status_code == 404  # exact paths
        assert http.get("/v1/status/").text == "404 page not found\n"
        assert http.post("/healthz").text == "ok\n"  # any method
        status = http.delete("/v1/status")
        assert status.headers["content-type"] == "application/json"
        assert '"at":"0001-01-01T00:00:00Z"' in status.text and status.text.endswith("}\n")
        assert "last_error" not in status.text and "project_filter" not in status.text
        assert http.get("/v1/events").text == "[]\n"
        daemon.poll(sessions=1, prompts=1, api_calls=1, tokens=1, estimated_cost_usd=1e-7)
        with http.stream("GET", "/v1/stream") as stream:
            assert stream.headers["content-type"] == "text/event-stream"
            lines = stream.iter_lines()
            greeting = [next(lines), next(lines), next(lines)]
        assert greeting[0] == "event: snapshot"
        assert greeting[1].startswith('data: {"id":0,"type":"snapshot","timestamp":"')
        assert '"estimated_cost_usd":1e-7' in greeting[1]
        assert greeting[2] == ""  # no id:, retry: or comment lines
        assert "-05:00" in greeting[1]  # the daemon's local offset
