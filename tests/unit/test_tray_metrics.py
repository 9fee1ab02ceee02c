"""The tray's "Serve /metrics" toggle: off by default; clicking it (a real pystray menu) saves
the setting and the endpoint serves the monitor's figures; clicking again stops it; a busy port
is reported, not fatal."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from burntray.app import AppContext
from burntray.config import load_settings
from burntray.serve.endpoint import MetricsEndpoint
from tests.cburn_daemon import free_port
from tests.unit.test_tray_menu import Harness, pystray  # noqa: F401 - the fixture


def scrape(port: int) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


@pytest.fixture
def wired(pystray: Any) -> Iterator[tuple[Harness, MetricsEndpoint, list[str], int]]:  # noqa: F811
    from burntray.paths import app_paths

    port = free_port()
    config = app_paths().config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'source = "hexai"\n[serve]\nmetrics = "127.0.0.1:{port}"\n')
    h = Harness(AppContext.load(strict=False), pystray)
    errors: list[str] = []
    endpoint = MetricsEndpoint(h.ctx, on_error=errors.append)
    h.monitor.enrichers.append(endpoint)  # as TrayApp wires it
    h.controller.on_settings = endpoint.apply
    endpoint.apply(h.ctx.settings)
    try:
        yield h, endpoint, errors, port
    finally:
        endpoint.close()
        h.close()


def test_the_toggle_starts_and_stops_the_endpoint(
    wired: tuple[Harness, MetricsEndpoint, list[str], int],
) -> None:
    h, endpoint, errors, port = wired
    item = h.find("Serve /metrics")
    assert str(item.text) == f"Serve /metrics on 127.0.0.1:{port}"
    assert not item.checked and endpoint.address is None  # off by default
    h.click("Serve /metrics")
    assert load_settings(h.ctx.paths.config_file).tray_metrics
    assert h.find("Serve /metrics").checked
    assert endpoint.address == f"127.0.0.1:{port}"
    deadline = time.monotonic() + 5
    while "burntray_window_requests" not in scrape(port)[1]:  # the monitor publishes on its tick
        h.controller.refresh()
        assert time.monotonic() < deadline, "no figures on /metrics"
        time.sleep(0.05)
    assert 'burntray_source_up{source="hexai"}' in scrape(port)[1]
    h.click("Serve /metrics")
    assert endpoint.address is None
    with pytest.raises(OSError):
        scrape(port)
    assert errors == []


def test_a_busy_port_is_reported(wired: tuple[Harness, MetricsEndpoint, list[str], int]) -> None:
    h, endpoint, errors, port = wired
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", port))
        blocker.listen()
        h.click("Serve /metrics")
        assert endpoint.address is None
        assert errors and errors[0].startswith(f"cannot serve /metrics on 127.0.0.1:{port}")
    assert h.monitor.alive  # the app goes on


def test_with_metrics_off_the_server_modules_stay_unloaded() -> None:
    """The tray's module and an endpoint that is off (the default) load neither the server
    (prometheus_client, http.server) nor the OTLP receiver with protobuf: an idle tray keeps
    them out of its memory until /metrics is switched on."""
    import json
    import subprocess
    import sys

    code = (
        "import sys, json\n"
        "import burntray.ui.tray\n"
        "from burntray.app import AppContext\n"
        "from burntray.serve.endpoint import MetricsEndpoint\n"
        "ctx = AppContext.load(strict=False)\n"
        "MetricsEndpoint(ctx).apply(ctx.settings)\n"
        "names = ('prometheus_client', 'http.server', 'burntray.serve.http',\n"
        "         'burntray.sources.otel.receiver', 'burntray.io.http_server', 'google.protobuf')\n"
        "print(json.dumps([n for n in names if n in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(done.stdout) == []


def test_a_busy_port_unticks_the_item_and_says_why(pystray: Any) -> None:  # noqa: F811
    from burntray.paths import app_paths

    port = free_port()
    config = app_paths().config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'source = "hexai"\n[serve]\nmetrics = "127.0.0.1:{port}"\n')
    h = Harness(AppContext.load(strict=False), pystray)
    announced: list[str] = []
    h.controller.announce = announced.append
    # wired as TrayApp wires it
    endpoint = MetricsEndpoint(h.ctx, on_error=h.controller.metrics_failed)
    h.controller.on_settings = endpoint.apply
    try:
        with socket.socket() as blocker:
            blocker.bind(("127.0.0.1", port))
            blocker.listen()
            h.click("Serve /metrics")
            assert endpoint.address is None
            assert not h.find("Serve /metrics").checked  # not left ticked while not serving
            assert not load_settings(h.ctx.paths.config_file).tray_metrics
            why = f"cannot serve /metrics on 127.0.0.1:{port}: Address already in use"
            assert any(why in text for text in h.texts())
            assert announced == [why]
        h.click("Serve /metrics")  # the port is free again: it serves
        assert h.find("Serve /metrics").checked
        assert endpoint.address == f"127.0.0.1:{port}"
    finally:
        endpoint.close()
        h.close()
