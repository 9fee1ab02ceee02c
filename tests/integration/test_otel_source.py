"""The ``otel`` source as the app runs it: history, the monitor's wake-up, a busy port, a
restart of burntray, ``all`` and doctor."""

from __future__ import annotations

import contextlib
import io
import socket
import threading
from pathlib import Path

import pytest

from burntray.app import AppContext
from burntray.cli import main as cli_main
from burntray.model.pricing import build_price_table
from burntray.sources.build import build_source
from burntray.sources.otel import parse_listen
from burntray.sources.otel.source import OtelSource
from burntray.store.history import HistoryStore
from tests.cburn_daemon import free_port
from tests.otel_senders import Sender, claude_request
from tests.processes import wait_for

HOUR = 3600 * 10**9


def send(base: str, *ids: str, sender: Sender | None = None, metric: bool = False) -> None:
    own = sender is None
    sender = sender or Sender("claude-code", base, "protobuf", "cumulative")
    try:
        for rid in ids:
            claude_request(
                sender,
                session="s",
                request_id=rid,
                model="claude-opus-4-1",
                inp=10,
                out=5,
                cache_read=0,
                cache_write=0,
                cost=0.25,
                event=not metric,
                metric=metric,
            )
        if metric:
            sender.flush_metrics()
    finally:
        if own:
            sender.close()


def test_received_requests_land_in_history_and_wake_the_monitor(tmp_path: Path) -> None:
    history = HistoryStore(tmp_path / "h.sqlite3")
    source = OtelSource("127.0.0.1:0", build_price_table({}), history)
    woke = threading.Event()
    source.start(woke.set)
    try:
        assert source.receiver is not None
        source.poll()
        assert source.status.state == "empty"
        assert source.status.detail.startswith("listening on 127.0.0.1:")
        send(f"http://127.0.0.1:{source.receiver.port}", "a", "b")
        assert woke.wait(30)
        assert source.poll()
        snap = source.snapshot(HOUR)
        assert (snap.totals.reqs, snap.totals.cost_usd) == (2, 0.5)
        assert snap.status.state == "ok"
        assert snap.capabilities.upstream_cost
        facts = {f.label: f.value for f in snap.facts}
        assert facts["Received"] == "2 exports"
        assert facts["Understood"] == "claude_code.api_request (2)"
    finally:
        source.close()
        history.close()


def test_a_busy_port_is_a_status_and_is_retried(tmp_path: Path) -> None:
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    source = OtelSource(f"127.0.0.1:{port}", build_price_table({}), retry_s=0.0)
    try:
        source.start(lambda: None)
        source.poll()
        assert source.status.state == "error"
        assert "the port is in use" in source.status.detail
        assert f"127.0.0.1:{port}" in source.status.detail
        blocker.close()
        source.poll()  # the retry binds now that the port is free
        assert source.receiver is not None
        assert source.status.state == "empty"
    finally:
        blocker.close()
        source.close()


def test_a_restart_of_burntray_does_not_count_a_running_senders_totals_again(
    tmp_path: Path,
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # one sender process keeps running throughout
    sender = Sender("claude-code", base, "protobuf", "cumulative")
    history = HistoryStore(tmp_path / "h.sqlite3")
    first = OtelSource(f"127.0.0.1:{port}", build_price_table({}), history, grace_ns=0)
    first.start(lambda: None)
    send(base, "a", "b", sender=sender, metric=True)
    first.poll()
    assert first.snapshot(HOUR).totals.cost_usd == pytest.approx(0.5)
    first.close()
    history.close()

    history = HistoryStore(tmp_path / "h.sqlite3")  # burntray restarted
    second = OtelSource(f"127.0.0.1:{port}", build_price_table({}), history, grace_ns=0)
    second.start(lambda: None)
    try:
        send(base, "c", sender=sender, metric=True)  # cumulative: 0.75 since the sender began
        second.poll()
        assert second.snapshot(HOUR).totals.cost_usd == pytest.approx(0.75)
    finally:
        # the sender ends while a receiver listens: its last export on shutdown is answered
        # at once, instead of retried with backoff against a closed port (seconds of waiting)
        sender.close()
        second.close()
        history.close()


def test_all_includes_the_receiver_only_when_enabled(tmp_path: Path) -> None:
    ctx = AppContext.load()
    port = free_port()
    off = ctx.source_context(ctx.settings.replace(options={"otel.listen": f"127.0.0.1:{port}"}))
    combined = build_source("all", off)
    try:
        combined.poll()
        assert "otel" not in {p.source for p in combined.snapshot(HOUR).by_source}
    finally:
        combined.close()
    on = ctx.source_context(
        ctx.settings.replace(options={"otel.listen": f"127.0.0.1:{port}", "otel.enabled": True})
    )
    combined = build_source("all", on)
    try:
        combined.start(lambda: None)
        send(f"http://127.0.0.1:{port}", "x")
        wait_for(lambda: combined.poll() and combined.snapshot(HOUR).totals.reqs == 1, 5, "x")
        parts = {p.source: p for p in combined.snapshot(HOUR).by_source}
        assert parts["otel"].totals.cost_usd == 0.25
    finally:
        combined.close()
        ctx.close()


def test_listen_addresses_are_checked() -> None:
    assert parse_listen(" [::1]:4318 ") == "[::1]:4318"
    for bad in ("4318", "host:", ":4318", "h:99999", 4318):
        with pytest.raises(ValueError, match="HOST:PORT"):
            parse_listen(bad)


def test_doctor_names_the_receiver_and_what_it_ignored(tmp_path: Path) -> None:
    ctx = AppContext.load()
    port = free_port()
    settings = ctx.settings.replace(options={"otel.listen": f"127.0.0.1:{port}"})
    source = OtelSource(f"127.0.0.1:{port}", build_price_table({}), ctx.history())
    source.start(lambda: None)
    try:
        with Sender("claude-code", f"http://127.0.0.1:{port}") as sender:
            sender.event("claude_code.tool_result", {"tool_name": "Bash"})
        source.poll()
    finally:
        source.close()
        ctx.close()
    config = AppContext.load().paths.config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[otel]\nlisten = "{settings.option("otel.listen")}"\n')
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        cli_main(["doctor"])
    text = out.getvalue()
    assert f"127.0.0.1:{port} (OTLP/HTTP" in text
    assert "claude_code.tool_result (1)" in text
