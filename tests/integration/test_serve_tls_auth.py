"""TLS, bearer tokens and readiness for ``burntray serve`` and the OTLP receiver, with a real
self-signed certificate made by ``openssl`` for each test, real clients (urllib over ssl, the
official OpenTelemetry SDK exporter with a CA certificate) and ``run_serve`` itself."""

from __future__ import annotations

import contextlib
import http.client
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from burntray.app import AppContext
from burntray.model.pricing import build_price_table
from burntray.model.snapshot import Snapshot, SourceStatus, Totals
from burntray.serve.figures import Figures, FiguresBoard
from burntray.serve.http import FiguresServer
from burntray.serve.run import run_serve
from burntray.sources.otel.ledger import OtelLedger
from tests.cburn_daemon import free_port
from tests.otel_senders import Sender, claude_request, receiving


@pytest.fixture
def cert(tmp_path: Path) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key (PEM files)."""
    openssl = shutil.which("openssl")
    assert openssl is not None, "openssl is needed to make a test certificate"
    crt, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(crt),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return str(crt), str(key)


def fetch(url: str, ca: str | None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    context = ssl.create_default_context(cafile=ca) if ca else None
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10, context=context) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def figures(home: Path) -> Figures:
    snap = Snapshot(
        source="hexai",
        window_ns=3600 * 10**9,
        as_of_ns=time.time_ns(),
        status=SourceStatus("ok"),
        totals=Totals(reqs=1, rpm=1 / 60, tokens=10, cost_usd=0.1),
    )
    doc = {"sources": {"hexai": {"dir": str(home / ".cache" / "hexai"), "home": str(home)}}}
    return Figures(snap, None, doc)


@pytest.fixture
def served(cert: tuple[str, str]) -> Iterator[tuple[FiguresServer, FiguresBoard]]:
    board = FiguresBoard(started_ns=0)
    srv = FiguresServer("127.0.0.1", 0, board, token="s3cret", tls_cert=cert[0], tls_key=cert[1])
    srv.start()
    try:
        yield srv, board
    finally:
        srv.close()


def test_figures_over_tls_need_the_token_in_any_case(
    served: tuple[FiguresServer, FiguresBoard], cert: tuple[str, str]
) -> None:
    srv, board = served
    board.put(figures(Path.home()))
    url = f"https://127.0.0.1:{srv.port}"
    for path in ("/metrics", "/healthz", "/v1/status"):
        assert fetch(url + path, cert[0])[0] == 401
        assert fetch(url + path, cert[0], {"Authorization": "Bearer wrong"})[0] == 401
    for scheme in ("Bearer", "bearer", "BEARER"):
        status, body = fetch(url + "/metrics", cert[0], {"Authorization": f"{scheme} s3cret"})
        assert status == 200 and b"burntray_window_requests" in body
    status, body = fetch(url + "/v1/status", cert[0], {"Authorization": "bearer s3cret"})
    assert status == 200 and str(Path.home()).encode() in body  # the owner sees real paths
    # plain HTTP on the TLS port gets no figures
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    with pytest.raises((OSError, http.client.HTTPException)):
        conn.request("GET", "/metrics", headers={"Authorization": "Bearer s3cret"})
        conn.getresponse().read()
    conn.close()


def test_a_silent_tls_client_does_not_hold_the_server(
    served: tuple[FiguresServer, FiguresBoard], cert: tuple[str, str]
) -> None:
    srv, _board = served
    silent = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(3)]
    try:  # the handshake runs in each connection's thread: others are served at once
        status, _ = fetch(
            f"https://127.0.0.1:{srv.port}/healthz", cert[0], {"Authorization": "Bearer s3cret"}
        )
        assert status in (200, 503)
    finally:
        for s in silent:
            s.close()


def test_status_hides_the_home_dir_from_unauthenticated_callers() -> None:
    board = FiguresBoard(started_ns=0)
    board.put(figures(Path.home()))
    srv = FiguresServer("127.0.0.1", 0, board)
    srv.start()
    try:
        status, body = fetch(f"http://127.0.0.1:{srv.port}/v1/status", None)
    finally:
        srv.close()
    assert status == 200
    assert str(Path.home()).encode() not in body
    doc = json.loads(body)
    assert doc["sources"]["hexai"] == {"dir": "~/.cache/hexai", "home": "~"}


def test_the_sdk_exports_over_tls_with_a_lower_case_bearer(
    cert: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = OtelLedger(build_price_table({}), grace_ns=0)
    # requests lets these variables override the exporter's own CA file (requests issue 3829)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", cert[0])
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=bearer tok3n")
    with receiving(ledger.on_export, token="tok3n", tls_cert=cert[0], tls_key=cert[1]) as r:
        with Sender("claude-code", f"https://127.0.0.1:{r.port}") as sender:
            claude_request(
                sender,
                session="s",
                request_id="over-tls",
                model="claude-opus-4-1",
                inp=1,
                out=2,
                cache_read=0,
                cache_write=0,
                cost=0.5,
                metric=False,
            )
        assert [x.key for x in ledger.take(2**62)] == ["claude-code:req:over-tls"]
        assert r.stats.accepted == 1
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=bearer nope")
        with Sender("claude-code", f"https://127.0.0.1:{r.port}") as sender:
            claude_request(
                sender,
                session="s",
                request_id="wrong-token",
                model="claude-opus-4-1",
                inp=1,
                out=2,
                cache_read=0,
                cache_write=0,
                cost=0.5,
                metric=False,
            )
        assert ledger.take(2**62) == []
        assert r.stats.rejected == {401: 1}


def test_bad_tls_files_are_said_plainly(tmp_path: Path, cert: tuple[str, str]) -> None:
    board = FiguresBoard(started_ns=0)
    with pytest.raises(ValueError, match="no such file"):
        FiguresServer("127.0.0.1", 0, board, tls_cert=str(tmp_path / "nope.pem"), tls_key=cert[1])
    with pytest.raises(ValueError, match="both a certificate and its key"):
        FiguresServer("127.0.0.1", 0, board, tls_cert=cert[0])
    with pytest.raises(ValueError, match="cannot load the certificate"):
        FiguresServer("127.0.0.1", 0, board, tls_cert=cert[1], tls_key=cert[1])


# --- /healthz is a readiness check -----------------------------------------------------------


def serving(otlp: str, metrics_port: int) -> tuple[threading.Event, threading.Thread, list[int]]:
    """``run_serve`` with the otel source on ``otlp``, in a thread; stop it with the event."""
    ctx = AppContext.load(strict=False)
    ctx.settings = settings = ctx.settings.replace(
        source="otel", options={"otel.listen": otlp, "otel.enabled": True}
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


def healthz_until(port: int, wanted: bytes, deadline_s: float = 20) -> tuple[int, bytes]:
    end = time.monotonic() + deadline_s
    last: tuple[int, bytes] = (0, b"")
    while time.monotonic() < end:
        with contextlib.suppress(OSError):
            last = fetch(f"http://127.0.0.1:{port}/healthz", None)
        if wanted in last[1]:
            return last
        time.sleep(0.05)
    raise AssertionError(f"/healthz never said {wanted!r}; last {last}")


@pytest.mark.usefixtures("clean_root_logger")
def test_healthz_is_not_ok_while_the_requested_receiver_cannot_listen() -> None:
    metrics = free_port()
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        stop, thread, codes = serving(f"127.0.0.1:{taken}", metrics)
        try:
            status, body = healthz_until(metrics, b"OTLP receiver not listening")
            assert status == 503
            assert b"port is in use" in body
        finally:
            stop.set()
            thread.join(10)
    assert codes == [0]


@pytest.mark.usefixtures("clean_root_logger")
def test_healthz_is_ok_when_the_receiver_listens() -> None:
    metrics, otlp = free_port(), free_port()
    stop, thread, codes = serving(f"127.0.0.1:{otlp}", metrics)
    try:
        assert healthz_until(metrics, b"ok")[0] == 200
    finally:
        stop.set()
        thread.join(10)
    assert codes == [0]
