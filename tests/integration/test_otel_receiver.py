"""The OTLP receiver against hostile and broken clients: every answer is a clear status, memory
and time stay bounded, and the next good request is still served."""

from __future__ import annotations

import gzip
import http.client
import socket
import struct
import time
import tracemalloc
import zlib
from collections.abc import Iterator

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from burntray.model.pricing import build_price_table
from burntray.sources.otel.decode import MAX_BODY, OtlpError, decode, inflate
from burntray.sources.otel.ledger import OtelLedger
from burntray.sources.otel.receiver import OtlpReceiver, Timeouts
from tests.otel_senders import receiving, send_claude_request


@pytest.fixture
def ledger() -> OtelLedger:
    return OtelLedger(build_price_table({}), grace_ns=0)


@pytest.fixture
def receiver(ledger: OtelLedger) -> Iterator[OtlpReceiver]:
    with receiving(ledger.on_export, timeouts=Timeouts(1.0, 1.0, 1.0), max_connections=4) as r:
        yield r


def post(
    receiver: OtlpReceiver,
    path: str,
    body: bytes,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=10)
    try:
        conn.request(
            "POST", path, body, {"Content-Type": "application/x-protobuf", **(headers or {})}
        )
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def good_request_is_served(receiver: OtlpReceiver, ledger: OtelLedger, rid: str) -> None:
    send_claude_request(receiver.port, rid, 0.5)
    assert [r.key for r in ledger.take(2**62)] == [f"claude-code:req:{rid}"]


def test_malformed_bodies_get_400_with_a_reason(receiver: OtlpReceiver, ledger: OtelLedger) -> None:
    status, body = post(receiver, "/v1/logs", b"\xff\xff\xff\xff not protobuf")
    assert status == 400
    assert b"not an OTLP logs protobuf body" in body
    status, body = post(receiver, "/v1/metrics", b"{nope", {"Content-Type": "application/json"})
    assert (status, body.startswith(b"not an OTLP metrics JSON body")) == (400, True)
    status, body = post(receiver, "/v1/logs", b"xx", {"Content-Encoding": "gzip"})
    assert (status, body.startswith(b"gzip body is corrupt")) == (400, True)
    status, body = post(receiver, "/v1/logs", b"", {"Content-Type": "text/csv"})
    assert status == 415 and b"unsupported Content-Type" in body
    status, body = post(receiver, "/v1/nothing", b"")
    assert status == 404
    good_request_is_served(receiver, ledger, "after-garbage")
    assert receiver.stats.rejected[400] == 3


def test_deeply_nested_values_are_refused_not_crashed_on(
    receiver: OtlpReceiver, ledger: OtelLedger
) -> None:
    nested = '{"stringValue": "x"}'
    for _ in range(5000):
        nested = '{"arrayValue": {"values": [' + nested + "]}}"
    doc = (
        '{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": ' + nested + "}]}]}]}"
    ).encode()
    status, body = post(receiver, "/v1/logs", doc, {"Content-Type": "application/json"})
    assert status == 400, body
    good_request_is_served(receiver, ledger, "after-nesting")


def test_oversized_body_gets_413_before_it_is_read(
    receiver: OtlpReceiver, ledger: OtelLedger
) -> None:
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=5) as s:
        s.sendall(
            b"POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\n"
            + f"Content-Length: {MAX_BODY + 1}\r\n\r\n".encode()
        )
        reply = b""
        while chunk := s.recv(4096):  # the server closes after its answer
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 413")
    assert b"over the 8 MiB limit" in reply
    good_request_is_served(receiver, ledger, "after-413")


def gzip_bomb(size: int, block: int = 2**20) -> bytes:
    """A valid gzip file of ``size`` zero bytes, built without compressing them all: one block
    of zeros is deflated ending in a full flush (so it refers to nothing before it) and repeated;
    ``gzip.compress`` of 512 MiB takes seconds of CPU and 512 MiB of memory."""
    zeros = bytes(block)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(size // block):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # gzip, deflate, no name, no mtime
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    return header + segment * (size // block) + end + trailer


def test_the_gzip_bomb_is_valid_gzip() -> None:
    assert gzip.decompress(gzip_bomb(8 * 2**20)) == bytes(8 * 2**20)


def test_a_gzip_bomb_is_stopped_at_the_inflate_cap(
    receiver: OtlpReceiver, ledger: OtelLedger
) -> None:
    bomb = gzip_bomb(512 * 2**20)  # 512 MiB in ~0.5 MiB
    assert len(bomb) < MAX_BODY
    tracemalloc.start()
    try:
        status, body = post(receiver, "/v1/logs", bomb, {"Content-Encoding": "gzip"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 413
    assert b"inflates to more than 8 MiB" in body
    assert peak < 80 * 2**20  # the cap plus one chunk and the compressed body, not 512 MiB
    good_request_is_served(receiver, ledger, "after-bomb")


def test_inflate_refuses_a_truncated_stream() -> None:
    data = gzip.compress(b"hello" * 100)[:-8]
    with pytest.raises(OtlpError, match="truncated"):
        inflate(data, "gzip")
    ok = zlib.compress(b"x")
    with pytest.raises(OtlpError, match="corrupt"):
        inflate(ok, "gzip")  # zlib framing, not gzip


def test_a_slowloris_client_is_cut_off_and_others_are_served(
    receiver: OtlpReceiver, ledger: OtelLedger
) -> None:
    slow = socket.create_connection(("127.0.0.1", receiver.port), timeout=10)
    try:
        slow.sendall(b"POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        good_request_is_served(receiver, ledger, "during-slowloris")  # not blocked by it
        # keep dribbling header bytes well inside the per-read timeout: the deadline still ends
        # it (the 60 s are a hang guard only: the header deadline is 1 s)
        closed = False
        guard = time.monotonic() + 60
        while time.monotonic() < guard:
            try:
                slow.sendall(b"X-a: b\r\n")
                if slow.recv(1, socket.MSG_DONTWAIT) == b"":
                    closed = True
                    break
            except BlockingIOError:
                pass
            except OSError:
                closed = True
                break
            time.sleep(0.2)
        assert closed, "the slow client was never cut off"
    finally:
        slow.close()
    assert receiver.stats.rejected.get(408, 0) >= 1, (
        receiver.stats.rejected,
        receiver.stats.last_error,
    )


def test_a_slow_body_is_cut_off(receiver: OtlpReceiver, ledger: OtelLedger) -> None:
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=10) as s:
        s.sendall(
            b"POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-protobuf\r\nContent-Length: 1000\r\n\r\nabc"
        )
        s.settimeout(60)  # a hang guard: the body deadline closes it first
        assert s.recv(100) == b""  # closed without an answer: the body never came
    good_request_is_served(receiver, ledger, "after-slow-body")


def test_a_mapping_bug_answers_500_and_the_receiver_goes_on() -> None:
    calls = []

    def broken(path: str, message: object, ts: int) -> None:
        calls.append(path)
        if len(calls) == 1:
            raise RuntimeError("bug")

    with receiving(broken) as r:
        body = ExportLogsServiceRequest().SerializeToString()
        assert post(r, "/v1/logs", body)[0] == 500
        assert post(r, "/v1/logs", body)[0] == 200


def test_port_in_use_is_an_oserror_for_the_caller_to_report(ledger: OtelLedger) -> None:
    with receiving(ledger.on_export) as first:
        second = OtlpReceiver("127.0.0.1", first.port, ledger.on_export)
        with pytest.raises(OSError):
            second.start()


def test_non_loopback_needs_a_token_and_the_token_is_checked(ledger: OtelLedger) -> None:
    with pytest.raises(ValueError, match="needs a bearer token"):
        OtlpReceiver("0.0.0.0", 0, ledger.on_export)
    with receiving(ledger.on_export, token="s3cret") as r:
        body = ExportLogsServiceRequest().SerializeToString()
        assert post(r, "/v1/logs", body)[0] == 401
        assert post(r, "/v1/logs", body, {"Authorization": "Bearer s3cret"})[0] == 200


def test_traces_are_acknowledged_and_dropped(receiver: OtlpReceiver, ledger: OtelLedger) -> None:
    assert post(receiver, "/v1/traces", b"")[0] == 200
    assert ledger.traces == 1
    assert ledger.take(2**62) == []


def test_decode_accepts_both_formats_of_the_same_message() -> None:
    from google.protobuf import json_format

    msg = ExportLogsServiceRequest()
    rec = msg.resource_logs.add().scope_logs.add().log_records.add()
    rec.event_name = "claude_code.api_request"
    as_json = json_format.MessageToJson(msg).encode()
    assert decode("/v1/logs", "application/json; charset=utf-8", None, as_json) == msg
    assert decode("/v1/logs", None, "gzip", gzip.compress(msg.SerializeToString())) == msg
