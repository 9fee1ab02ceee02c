"""The receiver's HTTP layer against web pages and hostile sockets, over real loopback HTTP:
content types, Host (DNS rebinding), Origin and CORS preflights, chunked bodies, a 413 the
client gets to read, the decoding memory budget, and connection states and caps."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from burntray.model.pricing import build_price_table
from burntray.serve.figures import FiguresBoard
from burntray.serve.http import FiguresServer
from burntray.sources.otel.ledger import OtelLedger
from burntray.sources.otel.receiver import OtlpReceiver, Timeouts
from tests.otel_senders import page_claude_body, receiving, send_claude_request

PB = "application/x-protobuf"


@pytest.fixture(scope="module")
def claude_body() -> bytes:
    """One Claude Code request ($123.45) as the official SDK sends it (protobuf)."""
    return page_claude_body()


@pytest.fixture
def ledger() -> OtelLedger:
    return OtelLedger(build_price_table({}), grace_ns=0)


@pytest.fixture
def receiver(ledger: OtelLedger) -> Iterator[OtlpReceiver]:
    with receiving(
        ledger.on_export,
        timeouts=Timeouts(1.0, 1.0, 30.0),
        cors_origins="https://ui.example",
        allowed_hosts="otel.internal",
    ) as r:
        yield r


def exchange(port: int, raw: bytes, timeout: float = 10) -> bytes:
    """Send ``raw`` on a new connection, then read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(raw)
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
            if b"\r\n\r\n" in reply and b"Connection: close" not in reply:
                head, _, rest = reply.partition(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                if len(rest) >= length:
                    break
        return reply


def post(
    port: int, body: bytes, headers: dict[str, str], path: str = "/v1/logs"
) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", path, body, headers)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp


def counted(ledger: OtelLedger) -> list[str]:
    return [r.key for r in ledger.take(2**62)]


# --- finding: any web page could write to the receiver -------------------------------------


def test_a_body_without_an_otlp_content_type_gets_415_and_adds_nothing(
    receiver: OtlpReceiver, ledger: OtelLedger, claude_body: bytes
) -> None:
    host = f"127.0.0.1:{receiver.port}"
    head = f"POST /v1/logs HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(claude_body)}\r\n"
    reply = exchange(receiver.port, head.encode() + b"\r\n" + claude_body)
    assert reply.startswith(b"HTTP/1.1 415"), reply[:200]
    assert b"unsupported Content-Type none" in reply
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        assert post(receiver.port, claude_body, {"Content-Type": ctype}).status == 415
    assert counted(ledger) == []
    # the OTLP types, with parameters, are taken
    ok = post(receiver.port, claude_body, {"Content-Type": f"{PB}; charset=binary"})
    assert ok.status == 200
    assert counted(ledger) == ["claude-code:req:from-a-page"]


def test_host_must_name_this_server(
    receiver: OtlpReceiver, ledger: OtelLedger, claude_body: bytes
) -> None:
    port = receiver.port

    def status(host: str | None) -> int:
        line = f"Host: {host}\r\n" if host is not None else ""
        raw = (
            f"POST /v1/logs HTTP/1.1\r\n{line}Content-Type: {PB}\r\n"
            f"Content-Length: {len(claude_body)}\r\n\r\n"
        ).encode() + claude_body
        return int(exchange(port, raw)[9:12])

    assert status(f"attacker.example:{port}") == 403  # DNS rebinding: the page's own name
    assert status("attacker.example") == 403
    assert status(f"127.0.0.1:{port + 1}") == 403  # another port
    assert status(f"10.1.2.3:{port}") == 403  # not a loopback address on a loopback bind
    assert status(None) == 400
    assert counted(ledger) == []
    assert status(f"127.0.0.1:{port}") == 200
    assert status(f"localhost:{port}") == 200
    assert status(f"LOCALHOST.:{port}") == 200
    assert status("otel.internal:443") == 200  # a configured name (behind a proxy: any port)
    assert len(counted(ledger)) == 4  # the four accepted
    assert receiver.stats.rejected[403] == 4


def test_a_cross_origin_post_is_refused_unless_its_origin_is_configured(
    receiver: OtlpReceiver, ledger: OtelLedger, claude_body: bytes
) -> None:
    page = "http://127.0.0.1:18080"
    resp = post(receiver.port, claude_body, {"Content-Type": PB, "Origin": page})
    assert resp.status == 403
    assert resp.getheader("Access-Control-Allow-Origin") is None
    assert post(receiver.port, claude_body, {"Content-Type": PB, "Origin": "null"}).status == 403
    assert counted(ledger) == []
    resp = post(receiver.port, claude_body, {"Content-Type": PB, "Origin": "https://ui.example"})
    assert resp.status == 200
    assert resp.getheader("Access-Control-Allow-Origin") == "https://ui.example"
    own = f"http://127.0.0.1:{receiver.port}"  # a page the server itself would serve
    assert post(receiver.port, claude_body, {"Content-Type": PB, "Origin": own}).status == 200
    assert counted(ledger) == ["claude-code:req:from-a-page"] * 2


def preflight(port: int, origin: str, headers: str = "content-type") -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(
        "OPTIONS",
        "/v1/logs",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": headers,
        },
    )
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp


def test_preflights_are_answered_only_for_configured_origins(receiver: OtlpReceiver) -> None:
    ok = preflight(receiver.port, "https://ui.example", "content-type, content-encoding")
    assert ok.status == 204
    assert ok.getheader("Access-Control-Allow-Origin") == "https://ui.example"
    assert ok.getheader("Access-Control-Allow-Methods") == "POST"
    assert ok.getheader("Access-Control-Allow-Headers") == "content-encoding, content-type"
    refused = preflight(receiver.port, "http://127.0.0.1:18080")
    assert refused.status == 403
    assert refused.getheader("Access-Control-Allow-Origin") is None
    assert preflight(receiver.port, "https://ui.example", "x-evil").status == 403


# --- chunked bodies and a 413 the client can read --------------------------------------------


def chunked(body: bytes, size: int = 1000) -> bytes:
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    out = b"".join(f"{len(p):x};ext=1\r\n".encode() + p + b"\r\n" for p in parts)
    return out + b"0\r\nX-Trailer: y\r\n\r\n"


def test_a_chunked_body_is_accepted(
    receiver: OtlpReceiver, ledger: OtelLedger, claude_body: bytes
) -> None:
    head = (
        f"POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1:{receiver.port}\r\nContent-Type: {PB}\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    reply = exchange(receiver.port, head.encode() + chunked(claude_body, 100))
    assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
    assert counted(ledger) == ["claude-code:req:from-a-page"]


def test_a_chunked_body_over_the_limit_gets_413(ledger: OtelLedger) -> None:
    with receiving(ledger.on_export, max_body=64 * 1024) as r:
        head = (
            f"POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1:{r.port}\r\nContent-Type: {PB}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        )
        reply = exchange(r.port, head.encode() + chunked(b"\0" * 100_000, 10_000))
        assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
        assert b"over the 0 MiB limit" in reply or b"limit" in reply
        both = head.replace("Transfer-Encoding", "Content-Length: 5\r\nTransfer-Encoding")
        assert exchange(r.port, both.encode() + chunked(b"hello")).startswith(b"HTTP/1.1 400")


def test_a_client_that_sends_its_whole_oversized_body_reads_the_413(ledger: OtelLedger) -> None:
    with receiving(ledger.on_export, max_body=1 * 2**20) as r:
        conn = http.client.HTTPConnection("127.0.0.1", r.port, timeout=20)
        try:  # http.client sends all of the body before it reads the answer
            conn.request("POST", "/v1/logs", b"\0" * (24 * 2**20), {"Content-Type": PB})
            resp = conn.getresponse()
            assert resp.status == 413
            assert b"over the 1 MiB limit" in resp.read()
        finally:
            conn.close()


# --- the decoding memory budget ----------------------------------------------------------


def big_logs(size: int) -> bytes:
    msg = ExportLogsServiceRequest()
    rec = msg.resource_logs.add().scope_logs.add().log_records.add()
    rec.body.string_value = "x" * size
    return msg.SerializeToString()


def test_decoding_beyond_the_memory_budget_gets_503_with_retry_after() -> None:
    inside = threading.Event()
    release = threading.Event()

    def slow(_path: str, message: Message, _ts: int) -> None:
        if message.ByteSize() > 1000 and not release.is_set():
            inside.set()
            assert release.wait(10)

    body = big_logs(600 * 1024)
    with receiving(slow, memory_budget=2**20) as r:
        first: list[int] = []
        t = threading.Thread(
            target=lambda: first.append(post(r.port, body, {"Content-Type": PB}).status)
        )
        t.start()
        assert inside.wait(10)
        assert r.inflight_bytes >= len(body)
        busy = post(r.port, body, {"Content-Type": PB})
        assert busy.status == 503
        assert busy.getheader("Retry-After") == "1"
        small = post(r.port, big_logs(10), {"Content-Type": PB})  # fits beside it
        release.set()
        t.join(10)
        assert (first, small.status) == ([200], 200)
        assert r.inflight_bytes == 0
        assert post(r.port, body, {"Content-Type": PB}).status == 200


# --- connections: separate deadlines, a cap that gives way, scrapes never starved ----------------


def good_request_is_served(receiver: OtlpReceiver, ledger: OtelLedger, rid: str) -> None:
    send_claude_request(receiver.port, rid, 0.5)
    assert counted(ledger) == [f"claude-code:req:{rid}"]


def wait_for(condition: object, deadline_s: float = 5.0) -> None:
    end = time.monotonic() + deadline_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < end, "condition not reached in time"
        time.sleep(0.02)


def test_forty_slowloris_clients_do_not_stop_exports(ledger: OtelLedger) -> None:
    with receiving(ledger.on_export) as r:
        slow = [socket.create_connection(("127.0.0.1", r.port)) for _ in range(40)]
        try:
            for s in slow:
                s.sendall(b"POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-a: ")
            wait_for(lambda: r.server is not None and r.server.open_connections().get("header"))
            for i in range(20):
                good_request_is_served(r, ledger, f"beside-slowloris-{i}")
        finally:
            for s in slow:
                s.close()


def test_idle_keepalives_at_the_cap_give_way_to_a_new_client(
    ledger: OtelLedger, claude_body: bytes
) -> None:
    # idle connections may stay an hour: the new client is served only if one gives way
    with receiving(ledger.on_export, max_connections=4, timeouts=Timeouts(5, 5, 3600)) as r:
        idle = []
        for _ in range(4):  # each sends one request, then stays open and idle
            conn = http.client.HTTPConnection("127.0.0.1", r.port, timeout=10)
            conn.request("POST", "/v1/logs", claude_body, {"Content-Type": PB})
            assert conn.getresponse().read() is not None
            idle.append(conn)
        wait_for(lambda: r.server is not None and r.server.open_connections() == {"idle": 4})
        assert len(counted(ledger)) == 4
        good_request_is_served(r, ledger, "at-the-cap")
        assert r.stats.rejected.get(503, 0) == 0
        for conn in idle:
            conn.close()


def test_an_idle_keepalive_outlives_the_header_deadline(
    ledger: OtelLedger, claude_body: bytes
) -> None:
    with receiving(ledger.on_export, timeouts=Timeouts(0.3, 5, 3600)) as r:
        conn = http.client.HTTPConnection("127.0.0.1", r.port, timeout=30)
        conn.request("POST", "/v1/logs", claude_body, {"Content-Type": PB})
        sock = conn.sock
        assert conn.getresponse().read() is not None
        # a silent connection opened now gets only the header deadline (the idle one is an
        # hour; 60 s is the hang guard): once it is cut, the keepalive has been idle past it
        with socket.create_connection(("127.0.0.1", r.port), timeout=60) as s:
            assert s.recv(10) == b""
        conn.request("POST", "/v1/logs", claude_body, {"Content-Type": PB})
        assert conn.getresponse().status == 200
        assert conn.sock is sock  # the same connection carried both
        conn.close()


def test_half_open_sockets_never_block_a_scrape() -> None:
    board = FiguresBoard(started_ns=0)
    srv = FiguresServer("127.0.0.1", 0, board, max_connections=8)
    srv.start()
    try:
        half_open = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(20)]
        try:
            for _ in range(5):
                conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=2)
                conn.request("GET", "/metrics")
                assert conn.getresponse().status == 200
                conn.close()
        finally:
            for s in half_open:
                s.close()
    finally:
        srv.close()
