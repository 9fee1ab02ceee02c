"""A hub's receiver is what ``/healthz`` and ``serve``'s start-up checks look at (issue 25):
``serve --source hub --otlp`` whose receiver cannot listen is not ready, one that listens is;
a hub beyond loopback without a token is refused at start, as the otel receiver is; and a hub
that was not asked to listen, or ``all`` (whose otel member listens), is not held to it."""

from __future__ import annotations

import socket
import threading

import pytest

from burntray.app import AppContext
from burntray.cli.serve import refusal
from burntray.serve.run import receiver_requested, run_serve
from tests.cburn_daemon import free_port
from tests.integration.test_serve_tls_auth import healthz_until


def _serving(
    otlp: str, metrics_port: int, **options: object
) -> tuple[threading.Event, threading.Thread, list[int]]:
    """``run_serve`` of a hub listening on ``otlp``, in a thread; stop it with the event."""
    ctx = AppContext.load(strict=False)
    ctx.settings = settings = ctx.settings.replace(
        source="hub", options={"otel.listen": otlp, "otel.enabled": True, **options}
    )
    stop, codes = threading.Event(), []
    thread = threading.Thread(
        target=lambda: codes.append(
            run_serve(ctx, settings, f"127.0.0.1:{metrics_port}", stop=stop)
        ),
        daemon=True,
    )
    thread.start()
    return stop, thread, codes


@pytest.mark.usefixtures("isolated_env", "clean_root_logger")
def test_a_hub_whose_receiver_cannot_listen_is_not_ready() -> None:
    metrics = free_port()
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        stop, thread, codes = _serving(f"127.0.0.1:{blocker.getsockname()[1]}", metrics)
        try:
            status, body = healthz_until(metrics, b"OTLP receiver not listening")
            assert status == 503
            assert b"port is in use" in body
        finally:
            stop.set()
            thread.join(10)
    assert codes == [0]


@pytest.mark.usefixtures("isolated_env", "clean_root_logger")
def test_a_hub_whose_receiver_listens_is_ready() -> None:
    metrics, otlp = free_port(), free_port()
    stop, thread, codes = _serving(f"127.0.0.1:{otlp}", metrics)
    try:
        assert healthz_until(metrics, b"ok")[0] == 200
    finally:
        stop.set()
        thread.join(10)
    assert codes == [0]


@pytest.mark.usefixtures("isolated_env", "clean_root_logger")
def test_a_hub_beyond_loopback_without_tls_is_not_ready() -> None:
    """It listens, but refuses every machine's records (403): /healthz says why."""
    metrics, otlp = free_port(), free_port()
    stop, thread, codes = _serving(f"0.0.0.0:{otlp}", metrics, **{"otel.token": "s3cret"})
    try:
        status, body = healthz_until(metrics, b"takes no team records")
        assert status == 503
        assert b"only over TLS (start it with --tls-cert and --tls-key)" in body
    finally:
        stop.set()
        thread.join(10)
    assert codes == [0]


@pytest.mark.usefixtures("isolated_env")
def test_which_serves_are_held_to_a_hub_receiver() -> None:
    base = AppContext.load(strict=False).settings
    hub = base.replace(source="hub", options={"otel.listen": "0.0.0.0:4318", "otel.enabled": True})
    assert receiver_requested(hub)
    # beyond loopback without a token: refused at start, before anything listens
    assert refusal(hub).startswith("refusing to receive OTLP on 0.0.0.0:4318: an address beyond")
    # a hub read from its history only (no --otlp) listens for nothing
    assert not receiver_requested(base.replace(source="hub"))
    # `all --otlp`: its otel member listens (and is checked), not the hub
    assert receiver_requested(base.replace(source="all", options={"otel.enabled": True}))
    assert not receiver_requested(base.replace(source="all"))
