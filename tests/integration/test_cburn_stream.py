"""The cburn source against a real HTTP daemon on 127.0.0.1 (tests/cburn_daemon.py).

Every scenario asserts the source's status, the numbers, and that no client thread is left
behind once the source is closed (and that the process's thread count is back where it was).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from burntray.sources.cburn.period import daemon_of
from tests.cburn_daemon import CburnTestDaemon, DaemonProcess, SilentAcceptor, free_port
from tests.cburn_helpers import HOUR_NS, NoJitter, Streaming, client_threads, wait_for


@pytest.fixture
def baseline_threads() -> Iterator[int]:
    before = threading.active_count()
    yield before
    assert client_threads() == []
    # daemon handler threads end asynchronously once their connection is gone
    wait_for(lambda: threading.active_count() <= before, 5, "threads back to the baseline")


def test_normal_stream_with_deltas(baseline_threads: int) -> None:
    with CburnTestDaemon() as daemon:
        daemon.poll(sessions=3, prompts=10, api_calls=100, tokens=50_000, estimated_cost_usd=2.5)
        client = Streaming(daemon.url)
        try:
            snap = client.wait_state("ok")
            assert snap.totals.reqs == 0  # the first sample is the baseline
            assert daemon_of(snap) is not None and daemon_of(snap).api_calls == 100
            wait_for(lambda: daemon.subscriber_count() == 1, what="the client to subscribe")
            client.woken.clear()
            daemon.poll(
                sessions=3, prompts=12, api_calls=110, tokens=56_000, estimated_cost_usd=2.75
            )
            wait_for(client.woken.is_set, what="wake() on a new event")
            # a session leaves the daemon's sliding window: totals (and the delta) go down
            daemon.poll(sessions=2, prompts=9, api_calls=90, tokens=40_000, estimated_cost_usd=2.0)
            daemon.poll(sessions=2, prompts=10, api_calls=97, tokens=41_000, estimated_cost_usd=2.1)
            snap = wait_for(
                lambda: (s := client.snap()).totals.tokens == 7_000 and s, what="the last event"
            )
            assert snap.status.state == "ok"
            assert snap.totals.reqs == 10 + 7  # positive increases only, never negative
            assert snap.totals.tokens == 6_000 + 1_000
            assert snap.totals.cost_usd == pytest.approx(0.25 + 0.1)
            assert snap.totals.rpm == pytest.approx(17 / 60)
            assert snap.tokens_estimated is False
            assert snap.by_model == ()  # the daemon has no per-model data
            assert daemon_of(snap).sessions == 2 and daemon_of(snap).days == 30
            assert daemon_of(snap).estimated_cost_usd == pytest.approx(2.1)
            assert client.source.stats["dropped"] == 0
        finally:
            assert client.close()


def test_silent_stream_longer_than_probe_interval(baseline_threads: int) -> None:
    with CburnTestDaemon() as daemon:
        daemon.poll(sessions=1, prompts=1, api_calls=5, tokens=10, estimated_cost_usd=0.01)
        client = Streaming(daemon.url)  # probes after 0.3 s of silence
        try:
            client.wait_state("ok")
            states = set()

            def probed_twice() -> bool:  # watching the state all along
                states.add(client.snap().status.state)
                # The client counts a probe as it sends it: wait until the daemon has served both.
                return daemon.hits.get("/healthz", 0) >= 2

            wait_for(probed_twice, what="two probes of the silent stream answered")
            assert states == {"ok"}  # silence is not death
            assert client.source.stats["probes"] >= 2
            daemon.poll(sessions=1, prompts=2, api_calls=8, tokens=20, estimated_cost_usd=0.02)
            snap = wait_for(lambda: (s := client.snap()).totals.reqs == 3 and s, what="event")
            assert snap.status.state == "ok"
        finally:
            client.close()


def test_daemon_killed_and_restarted_on_the_same_port(baseline_threads: int) -> None:
    port = free_port()
    with DaemonProcess(port) as first:
        first.send(op="poll", sessions=4, prompts=20, api_calls=200, tokens=9000,
                   estimated_cost_usd=3.0)  # fmt: skip
        client = Streaming(first.url)
        try:
            client.wait_state("ok")
            first.send(op="wait_subscribers", n=1)
            first.send(op="poll", sessions=4, prompts=22, api_calls=210, tokens=9500,
                       estimated_cost_usd=3.5)  # fmt: skip
            wait_for(lambda: client.snap().totals.reqs == 10, what="the first daemon's event")
            first.kill()
            offline = client.wait_state("offline")
            assert "retrying" in offline.status.detail
            assert offline.status.stale is True
            assert offline.totals.reqs == 10  # the last good numbers stay
            with DaemonProcess(port) as second:  # ids start again at 1, same totals re-read
                second.send(op="poll", sessions=4, prompts=22, api_calls=210, tokens=9500,
                            estimated_cost_usd=3.5)  # fmt: skip
                client.wait_state("ok", timeout=5)
                second.send(op="wait_subscribers", n=1)
                second.send(op="poll", sessions=4, prompts=23, api_calls=215, tokens=9600,
                            estimated_cost_usd=3.6)  # fmt: skip
                snap = wait_for(
                    lambda: (s := client.snap()).totals.tokens == 600 and s,
                    what="the restarted daemon's event",
                )
                assert snap.status.state == "ok"
                assert snap.totals.reqs == 15  # 10 + 5: the restart counted nothing twice
                assert snap.totals.tokens == 600
                assert snap.totals.cost_usd == pytest.approx(0.6)
                assert client.close()
        finally:
            client.close()


def test_connection_refused_at_start_then_the_daemon_appears(baseline_threads: int) -> None:
    port = free_port()
    client = Streaming(f"http://127.0.0.1:{port}")
    try:
        snap = client.wait_state("offline", contains="connection refused")
        assert snap.totals.reqs == 0 and daemon_of(snap) is None
        with CburnTestDaemon(port=port) as daemon:
            daemon.poll(sessions=1, prompts=1, api_calls=1, tokens=1, estimated_cost_usd=1e-7)
            snap = client.wait_state("ok")
            assert daemon_of(snap) is not None and daemon_of(snap).estimated_cost_usd == 1e-7
            client.close()
    finally:
        client.close()


def _streaming_ok(daemon: CburnTestDaemon) -> Streaming:
    daemon.poll(sessions=1, prompts=1, api_calls=50, tokens=100, estimated_cost_usd=1.0)
    client = Streaming(daemon.url)
    client.wait_state("ok")
    wait_for(lambda: daemon.subscriber_count() == 1, what="the client to subscribe")
    daemon.poll(sessions=1, prompts=2, api_calls=60, tokens=200, estimated_cost_usd=1.5)
    wait_for(lambda: client.snap().totals.reqs == 10, what="an event")
    return client


def test_malformed_json_in_data_marks_offline_and_recovers(baseline_threads: int) -> None:
    with CburnTestDaemon() as daemon:
        client = _streaming_ok(daemon)
        try:
            streams = daemon.subscriptions
            daemon.inject_raw(b'event: usage_delta\ndata: {"id":3,"type":\n\n')
            status = client.wait_seen("offline", contains="not JSON")
            assert status.stale
            # it reconnects (the daemon itself is fine) and keeps the numbers
            wait_for(lambda: daemon.subscriptions > streams, what="a new stream")
            snap = client.wait_state("ok")
            assert snap.totals.reqs == 10
            daemon.inject_raw(b'event: usage_delta\ndata: {"id":4,"type":"usage_delta"}\n\n')
            client.wait_seen("offline", contains="wrong shape")
            assert client.wait_state("ok").totals.reqs == 10
        finally:
            client.close()


def test_two_mib_line_is_an_oversized_event(baseline_threads: int) -> None:
    with CburnTestDaemon() as daemon:
        client = _streaming_ok(daemon)
        try:
            daemon.inject_raw(b"event: usage_delta\ndata: " + b"7" * (2 << 20) + b"\n\n")
            client.wait_seen("offline", contains="oversized event: a line over 1 MiB")
            assert client.wait_state("ok").totals.reqs == 10
        finally:
            client.close()


def test_server_that_accepts_and_never_answers(baseline_threads: int) -> None:
    with SilentAcceptor() as server:
        client = Streaming(server.url)
        try:
            snap = client.wait_state("offline", contains="did not answer")
            assert daemon_of(snap) is None and snap.totals.reqs == 0
        finally:
            assert client.close()


def test_html_instead_of_json_on_status(baseline_threads: int) -> None:
    with CburnTestDaemon() as daemon:
        daemon.override("/v1/status", 200, "text/html; charset=utf-8", b"<html>login</html>")
        client = Streaming(daemon.url)
        try:
            snap = client.wait_state("offline", contains="text/html, not application/json")
            assert daemon_of(snap) is None
            assert daemon.hits.get("/v1/stream", 0) == 0
        finally:
            client.close()


def test_404_on_stream(baseline_threads: int) -> None:
    with CburnTestDaemon() as daemon:
        daemon.poll(sessions=1, prompts=1, api_calls=3, tokens=3, estimated_cost_usd=0.0)
        daemon.override("/v1/stream", 404, "text/plain; charset=utf-8", b"404 page not found\n")
        client = Streaming(daemon.url)
        try:
            snap = client.wait_state("offline", contains="/v1/stream not found (HTTP 404)")
            assert daemon_of(snap) is not None and daemon_of(snap).api_calls == 3
            assert snap.status.stale is True
        finally:
            client.close()


def test_daemon_poll_error_is_shown(baseline_threads: int) -> None:
    with CburnTestDaemon() as daemon:
        daemon.poll(sessions=1, prompts=1, api_calls=3, tokens=3, estimated_cost_usd=0.0)
        daemon.poll_error("open /home/u/.claude/projects: permission denied")
        client = Streaming(daemon.url)
        try:
            snap = client.wait_state("error", contains="permission denied")
            assert daemon_of(snap) is not None and "permission denied" in daemon_of(snap).last_error
            assert snap.status.stale
            wait_for(lambda: daemon.subscriber_count() == 1, what="the client to subscribe")
            daemon.poll(sessions=1, prompts=2, api_calls=5, tokens=4, estimated_cost_usd=0.0)
            snap = client.wait_state("ok")  # a successful poll clears cburn's last_error
            assert daemon_of(snap) is not None and daemon_of(snap).last_error == ""
            assert snap.totals.reqs == 2
        finally:
            client.close()


def test_window_reaches_into_history(baseline_threads: int, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from burntray.sources.cburn.discovery import Discovery
    from burntray.sources.cburn.source import CburnSource
    from burntray.store.history import HistoryStore

    history = HistoryStore(tmp_path / "h.sqlite3")
    now = time.time_ns()
    with CburnTestDaemon() as daemon:
        daemon.poll(at_ns=now - 3 * HOUR_NS, sessions=1, prompts=1, api_calls=10, tokens=1,
                    estimated_cost_usd=0.1)  # fmt: skip
        daemon.poll(at_ns=now - 2 * HOUR_NS, sessions=1, prompts=1, api_calls=30, tokens=1,
                    estimated_cost_usd=0.1)  # fmt: skip
        daemon.poll(at_ns=now - 60_000_000_000, sessions=1, prompts=1, api_calls=34, tokens=1,
                    estimated_cost_usd=0.1)  # fmt: skip
        one_shot = CburnSource(Discovery(daemon.url, "test"))
        one_shot.poll()
        assert one_shot.snapshot(HOUR_NS, now).totals.reqs == 4
        assert one_shot.needs_history(6 * HOUR_NS, now)  # before the first buffered event
        one_shot.attach_history(history)
        assert one_shot.snapshot(6 * HOUR_NS, now).totals.reqs == 24
        one_shot.close()
    # a later run, with the daemon's buffer gone: the history still has the window
    with CburnTestDaemon() as daemon:
        daemon.poll(
            at_ns=now, sessions=1, prompts=1, api_calls=35, tokens=1, estimated_cost_usd=0.1
        )
        later = CburnSource(Discovery(daemon.url, "test"), history)
        later.poll()
        snap = later.snapshot(6 * HOUR_NS, now)
        assert snap.totals.reqs == 25 and snap.history_used
        later.close()
    assert history.clear_usage()["cburn_snapshots"] == 4
    history.close()


def test_backoff_grows_while_down_and_starts_afresh_after_a_working_stream(
    baseline_threads: int,
) -> None:
    import re

    from burntray.model.snapshot import SourceStatus
    from burntray.sources.cburn.client import Timing

    port = free_port()
    # Steps that stay distinct at the status's one decimal ("retrying in 0.1 s"), and jitter
    # pinned: with real jitter, 0.0625 s shows as "0.1" and 0.3 s as "0.3", so "grew 3-fold"
    # failed now and then although the backoff was right.
    timing = Timing(
        connect_timeout_s=1.0,
        request_timeout_s=0.5,
        probe_interval_s=5.0,
        backoff_initial_s=0.1,  # short steps: the test waits them out
        backoff_cap_s=5.0,
    )
    client = Streaming(f"http://127.0.0.1:{port}", timing, rng=NoJitter())

    def retries(seen: list[SourceStatus]) -> list[float]:
        found = (re.search(r"retrying in ([0-9.]+) s", s.detail) for s in seen)
        return [float(m.group(1)) for m in found if m]

    try:
        wait_for(lambda: len(retries(client.seen)) >= 4, what="four failed attempts")
        assert retries(client.seen)[:4] == [0.1, 0.2, 0.4, 0.8]  # doubling while down
        with CburnTestDaemon(port=port) as daemon:
            daemon.poll(sessions=1, prompts=1, api_calls=1, tokens=1, estimated_cost_usd=0.0)
            client.wait_state("ok", timeout=10)
            wait_for(lambda: daemon.subscriber_count() == 1, what="the stream")
            seen_before = len(client.seen)
        # the daemon went away after a working stream: the first retry is quick again (0.1 s,
        # where carrying on from before would wait 1.6 s or more)
        after = wait_for(lambda: retries(client.seen[seen_before:]), what="a retry after the break")
        assert after[0] == 0.1, client.seen[seen_before:]
    finally:
        client.close()
