"""What the receiver does with the values it decoded, over real loopback HTTP: implausible
values are refused one by one through OTLP partial success, what a sender controls is capped,
and nothing already acknowledged is lost when the history cannot take it."""

from __future__ import annotations

import gzip
import http.client
import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord

import burntray.sources.registry  # noqa: F401 - first, as the app loads it (otel -> spec -> registry)
from burntray.model.pricing import build_price_table
from burntray.sources.otel import mapping as otel_map
from burntray.sources.otel.ledger import MAX_REQUESTS_PER_EXPORT, OtelLedger
from burntray.sources.otel.mapping import CUMULATIVE, DELTA
from burntray.sources.otel.source import ISOLATE_AFTER, OtelSource
from burntray.store.history import RESUME_STATE_PREFIX, HistoryStore
from tests.otel_senders import Sender, claude_request, receiving

S = 10**9
HOUR = 3600 * S
FAR = 2**62  # a "now" past every grace


@pytest.fixture
def ledger() -> OtelLedger:
    return OtelLedger(build_price_table({}), grace_ns=0)


@pytest.fixture
def port(ledger: OtelLedger) -> Iterator[int]:
    with receiving(ledger.on_export) as r:
        yield r.port


def post(port: int, path: str, body: bytes, ctype: str = "application/x-protobuf") -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, body, {"Content-Type": ctype})
        resp = conn.getresponse()
        data = resp.read()
        assert resp.status == 200, data
        return data
    finally:
        conn.close()


def _kv(kvs: object, **values: object) -> None:
    for key, value in values.items():
        kv: KeyValue = kvs.add()  # type: ignore[attr-defined]
        kv.key = key
        if isinstance(value, str):
            kv.value.string_value = value
        elif isinstance(value, float):
            kv.value.double_value = value
        else:
            kv.value.int_value = int(value)  # type: ignore[call-overload]


def claude_points(*points: tuple[str, float], temporality: int = DELTA) -> bytes:
    """One Claude Code metrics export: (type or "cost", value) per point, one session."""
    req = ExportMetricsServiceRequest()
    rm = req.resource_metrics.add()
    _kv(rm.resource.attributes, **{"service.name": "claude-code"})
    sm = rm.scope_metrics.add()
    now = time.time_ns()
    for i, (kind, value) in enumerate(points):
        metric = sm.metrics.add()
        metric.name = "claude_code.cost.usage" if kind == "cost" else "claude_code.token.usage"
        metric.sum.aggregation_temporality = temporality
        metric.sum.is_monotonic = True
        dp = metric.sum.data_points.add()
        dp.start_time_unix_nano, dp.time_unix_nano = now - 60 * S, now
        dp.as_double = value
        attrs = {"session.id": "s", "model": "claude-opus-4-1", "n": i}
        if kind != "cost":
            attrs["type"] = kind
        _kv(dp.attributes, **attrs)
    return req.SerializeToString()


def claude_events(*events: dict[str, object]) -> bytes:
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    _kv(rl.resource.attributes, **{"service.name": "claude-code"})
    sl = rl.scope_logs.add()
    for i, extra in enumerate(events):
        rec = sl.log_records.add()
        rec.time_unix_nano = time.time_ns()
        rec.event_name = "claude_code.api_request"
        attrs: dict[str, object] = {
            "session.id": "s",
            "model": "claude-opus-4-1",
            "request_id": f"req_{i}",
            "cost_usd": "0.5",
            "input_tokens": "10",
            "output_tokens": "5",
        }
        attrs.update(extra)
        _kv(rec.attributes, **attrs)
    return req.SerializeToString()


def metrics_answer(data: bytes) -> tuple[int, str]:
    resp = ExportMetricsServiceResponse()
    resp.ParseFromString(data)
    return resp.partial_success.rejected_data_points, resp.partial_success.error_message


def logs_answer(data: bytes) -> tuple[int, str]:
    resp = ExportLogsServiceResponse()
    resp.ParseFromString(data)
    return resp.partial_success.rejected_log_records, resp.partial_success.error_message


# --- finding: one NaN stopped all accounting ---------------------------------------------


def test_nan_and_infinite_points_are_refused_alone_with_partial_success(
    ledger: OtelLedger, port: int
) -> None:
    inf, nan = float("inf"), float("nan")
    body = claude_points(
        ("input", nan),
        ("cost", inf),
        ("output", -inf),
        ("cost", 1e308),
        ("cacheRead", 1e300),
        ("input", 120.0),
        ("cost", 0.75),
    )
    rejected, message = metrics_answer(post(port, "/v1/metrics", body))
    assert rejected == 5
    assert "outside 0.." in message and "nan" in message
    records = ledger.take(FAR)
    assert sum(r.input_tokens for r in records) == 120
    assert sum(r.cost_usd or 0 for r in records) == 0.75
    assert ledger.rejected == 5


def test_partial_success_is_answered_in_json_for_a_json_request(port: int) -> None:
    body = json.dumps(
        {
            "resourceMetrics": [
                {
                    "resource": {
                        "attributes": [
                            {"key": "service.name", "value": {"stringValue": "claude-code"}}
                        ]
                    },
                    "scopeMetrics": [
                        {
                            "metrics": [
                                {
                                    "name": "claude_code.cost.usage",
                                    "sum": {
                                        "aggregationTemporality": 1,
                                        "isMonotonic": True,
                                        "dataPoints": [
                                            {"timeUnixNano": str(time.time_ns()), "asDouble": v}
                                            for v in ("NaN", "Infinity", 0.5)
                                        ],
                                    },
                                }
                            ]
                        }
                    ],
                }
            ]
        }
    ).encode()
    answer = json.loads(post(port, "/v1/metrics", body, "application/json"))
    assert answer["partialSuccess"]["rejectedDataPoints"] == "2"
    assert "outside" in answer["partialSuccess"]["errorMessage"]


def test_implausible_events_are_refused_and_the_rest_of_the_export_counts(
    ledger: OtelLedger, port: int
) -> None:
    body = claude_events(
        {"cost_usd": "NaN"},
        {"cost_usd": "999999999"},
        {"cost_usd": "-1"},
        {"input_tokens": "1e300"},
        {"output_tokens": 2**63 - 1},
        {"input_tokens": "lots"},
        {"request_id": "ok", "cost_usd": "0.25"},
    )
    rejected, message = logs_answer(post(port, "/v1/logs", body))
    assert rejected == 6
    assert "cost_usd 'NaN' is outside 0..1,000 USD" in message
    assert "input_tokens '1e300' is outside" in message
    assert message.endswith("; 1 more")  # five reasons are spelled out, the rest counted
    (record,) = ledger.take(FAR)
    assert (record.key, record.cost_usd) == ("claude-code:req:ok", 0.25)


def test_a_nan_point_no_longer_stops_the_counting_of_later_sdk_events(tmp_path: Path) -> None:
    """The issue's case: a NaN token point, then honest SDK events; all of them are counted,
    in history, and the source stays healthy."""
    history = HistoryStore(tmp_path / "h.sqlite3")
    source = OtelSource("127.0.0.1:0", build_price_table({}), history, grace_ns=0)
    woke = threading.Event()
    source.start(woke.set)
    try:
        assert source.receiver is not None
        port = source.receiver.port
        rejected, _ = metrics_answer(post(port, "/v1/metrics", claude_points(("input", 1e400))))
        assert rejected == 1
        with Sender("claude-code", f"http://127.0.0.1:{port}") as sender:
            for i in range(50):
                claude_request(
                    sender,
                    session="s2",
                    request_id=f"r{i}",
                    model="claude-opus-4-1",
                    inp=10,
                    out=5,
                    cache_read=0,
                    cache_write=0,
                    cost=0.02,
                    metric=False,
                )
        source.poll()
        snap = source.snapshot(HOUR)
        assert snap.totals.reqs == 50
        assert snap.totals.cost_usd == pytest.approx(1.0)
        assert snap.status.state == "ok"
        assert source.health() == (True, "ok; 1 records/points rejected")
    finally:
        source.close()
        history.close()


# --- finding: amplification --------------------------------------------------------------


def genai_histogram(
    count: int, points: int, temporality: int = DELTA, start: int = 0, at_ns: int = 0
) -> bytes:
    req = ExportMetricsServiceRequest()
    rm = req.resource_metrics.add()
    _kv(rm.resource.attributes, **{"service.name": "some-agent"})
    metric = rm.scope_metrics.add().metrics.add()
    metric.name = "gen_ai.client.token.usage"
    metric.histogram.aggregation_temporality = temporality
    now = at_ns or time.time_ns()
    for i in range(points):
        dp = metric.histogram.data_points.add()
        dp.start_time_unix_nano, dp.time_unix_nano = start or now - 60 * S, now
        dp.count, dp.sum = count, 100.0
        _kv(
            dp.attributes,
            **{"gen_ai.token.type": "input", "gen_ai.request.model": f"m{i}"},
        )
    return req.SerializeToString()


def test_a_huge_histogram_count_is_refused_not_expanded_into_rows(
    ledger: OtelLedger, port: int
) -> None:
    rejected, message = metrics_answer(post(port, "/v1/metrics", genai_histogram(2**64 - 1, 100)))
    assert rejected == 100
    assert "over 1,000" in message
    assert ledger.take(FAR) == []
    # counts within the ceilings still count their requests, up to the export's budget
    rejected, message = metrics_answer(post(port, "/v1/metrics", genai_histogram(900, 3)))
    assert rejected == 1 and f"over {MAX_REQUESTS_PER_EXPORT:,} requests" in message
    assert len(ledger.take(FAR)) == 1800


def test_a_cumulative_backlog_over_the_ceiling_is_refused_and_increases_count(
    ledger: OtelLedger, port: int
) -> None:
    start = time.time_ns() - HOUR  # the sender's start: the same on every export
    first = genai_histogram(50_000, 1, CUMULATIVE, start, at_ns=start + HOUR - 60 * S)
    rejected, _ = metrics_answer(post(port, "/v1/metrics", first))
    assert rejected == 1 and ledger.take(FAR) == []
    # the SDK's next export: a later point time
    second = genai_histogram(50_003, 1, CUMULATIVE, start, at_ns=start + HOUR - 30 * S)
    rejected, _ = metrics_answer(post(port, "/v1/metrics", second))
    assert rejected == 0 and len(ledger.take(FAR)) == 3


def test_records_and_attributes_over_the_caps_are_refused_unread(
    ledger: OtelLedger, port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    sl = rl.scope_logs.add()
    rec = sl.log_records.add()
    rec.event_name = "claude_code.api_request"
    _kv(rec.attributes, **{f"a{i}": "x" for i in range(otel_map.MAX_ATTRIBUTES + 1)})
    rejected, message = logs_answer(post(port, "/v1/logs", req.SerializeToString()))
    assert rejected == 1 and "over 128 attributes" in message

    monkeypatch.setattr(otel_map, "MAX_ITEMS_PER_EXPORT", 5)
    rejected, message = logs_answer(post(port, "/v1/logs", claude_events(*({},) * 8)))
    assert rejected == 3 and "over 5 log records" in message
    assert len(ledger.take(FAR)) == 5


# --- finding: request ids cut to 200 characters merged distinct requests ------------------


def test_long_request_ids_stay_distinct(ledger: OtelLedger, port: int) -> None:
    long = "r" * 300
    body = claude_events({"request_id": long + "a"}, {"request_id": long + "b"})
    assert logs_answer(post(port, "/v1/logs", body)) == (0, "")
    keys = {r.key for r in ledger.take(FAR)}
    assert len(keys) == 2 and all(len(k) < 100 for k in keys)


# --- the history cannot take the records ---------------------------------------------------


def _refuse_writes(path: Path, when: str = "1") -> None:
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON usage_events "
            f"WHEN {when} BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
        )


def _allow_writes(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("DROP TRIGGER refuse")


def _events(port: int, *ids: str, model: str = "claude-opus-4-1") -> None:
    body = claude_events(*({"request_id": i, "model": model} for i in ids))
    assert logs_answer(post(port, "/v1/logs", body)) == (0, "")


def test_records_whose_write_failed_are_written_later_and_the_error_clears(
    tmp_path: Path,
) -> None:
    path = tmp_path / "h.sqlite3"
    history = HistoryStore(path)
    source = OtelSource("127.0.0.1:0", build_price_table({}), history, grace_ns=0)
    source.start(lambda: None)
    try:
        assert source.receiver is not None
        port = source.receiver.port
        source.poll()
        _refuse_writes(path)
        _events(port, "a", "b")
        source.poll()
        assert source.status.state == "error" and "disk says no" in source.status.detail
        ok, why = source.health()
        assert not ok and "disk says no" in why
        _events(port, "c")
        source.poll()
        assert source.health()[0] is False
        _allow_writes(path)
        source.poll()
        assert source.status.state == "ok"
        assert source.health() == (True, "ok")
        assert source.snapshot(HOUR).totals.reqs == 3
        # the resume state went in with the records carried over, although nothing new for it
        # arrived since the state taken for the failed write
        saved = history.get_meta(f"{RESUME_STATE_PREFIX}otel")
        assert saved is not None
        assert (
            json.loads(saved)["event_sessions"]
            == json.loads(cast(str, source.ledger.save_state()))["event_sessions"]
        )
    finally:
        source.close()
        history.close()


def test_one_record_the_history_refuses_does_not_hold_back_the_others(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    history = HistoryStore(path)
    source = OtelSource("127.0.0.1:0", build_price_table({}), history, grace_ns=0)
    source.start(lambda: None)
    try:
        assert source.receiver is not None
        port = source.receiver.port
        source.poll()
        _refuse_writes(path, "NEW.model = 'poison'")
        _events(port, "a", "b")
        _events(port, "p", model="poison")
        for _ in range(ISOLATE_AFTER + 1):
            source.poll()
        assert source.snapshot(HOUR).totals.reqs == 2
        assert source.status.state == "ok"
        ok, why = source.health()
        assert ok and "1 lost" in why and "disk says no" in why
    finally:
        source.close()
        history.close()


# --- finding: a session was counted twice after a restart of burntray ----------------------


def _claude(port: int, rid: str, *, event: bool) -> None:
    with Sender("claude-code", f"http://127.0.0.1:{port}") as sender:
        claude_request(
            sender,
            session="s1",
            request_id=rid,
            model="claude-opus-4-1",
            inp=10,
            out=5,
            cache_read=0,
            cache_write=0,
            cost=0.01,
            event=event,
            metric=not event,
        )
        if not event:
            sender.flush_metrics()


def test_sessions_counted_from_events_stay_so_after_a_restart(tmp_path: Path) -> None:
    """Three requests as events, burntray restarts, then the same session's metrics arrive
    (Claude Code exports them every minute): still 3 requests and $0.03."""
    history = HistoryStore(tmp_path / "h.sqlite3")
    for rids in (("a", "b", "c"), ()):
        source = OtelSource("127.0.0.1:0", build_price_table({}), history, grace_ns=0)
        source.start(lambda: None)
        try:
            assert source.receiver is not None
            for rid in rids:
                _claude(source.receiver.port, rid, event=True)
            if not rids:  # after the restart: the session's metric point
                _claude(source.receiver.port, "d", event=False)
            source.poll()
            snap = source.snapshot(HOUR)
            assert (snap.totals.reqs, round(snap.totals.cost_usd, 6)) == (3, 0.03)
        finally:
            source.close()
    history.close()


# --- finding: concurrent exports of millions of attributes took 2.4 GiB ---------------------

_RECEIVER = """
import sys
import burntray.sources.registry
from burntray.model.pricing import build_price_table
from burntray.sources.otel.ledger import OtelLedger
from burntray.sources.otel.receiver import OtlpReceiver
receiver = OtlpReceiver("127.0.0.1", 0, OtelLedger(build_price_table({})).on_export)
receiver.start()
print(receiver.port, flush=True)
sys.stdin.read()
"""


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


def test_concurrent_large_exports_are_decoded_one_at_a_time(tmp_path: Path) -> None:
    """Six concurrent gzip exports of one record with 600,000 attributes each (a refused
    record, about 6.6 MB once inflated: under the inflate cap, so each is decoded): the
    receiver process grows by what one of them takes, not six."""
    one = LogRecord()
    kv = one.attributes.add()
    kv.key, kv.value.int_value = "a", 1
    req = ExportLogsServiceRequest()
    rec = req.resource_logs.add().scope_logs.add().log_records.add()
    rec.MergeFromString(one.SerializeToString() * 600_000)  # repeated fields concatenate
    body = gzip.compress(req.SerializeToString())
    proc = subprocess.Popen(
        [sys.executable, "-c", _RECEIVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        # warm up: imports and the first decode's arenas are not what is measured
        answers = [logs_answer(post_gzip(port, body))]
        base = _kib(proc.pid, "VmRSS")
        threads = [
            threading.Thread(target=lambda: answers.append(logs_answer(post_gzip(port, body))))
            for _ in range(6)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert answers == [(1, "a log record has over 128 attributes")] * 7
        grown_mib = (_kib(proc.pid, "VmHWM") - base) / 1024
        assert grown_mib < 150, grown_mib
    finally:
        proc.kill()
        proc.wait()


def post_gzip(port: int, body: bytes, deadline_s: float = 120.0) -> bytes:
    """POST as an OTLP exporter does: a 503 "retry later" (the receiver decodes one large export
    at a time and turns others away after a bounded wait) is retried until ``deadline_s``.
    On a loaded machine one decode can outlast that wait, so a single 503 is not a failure."""
    deadline = time.monotonic() + deadline_s
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request(
                "POST",
                "/v1/logs",
                body,
                {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"},
            )
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        if resp.status == 503 and b"retry later" in data and time.monotonic() < deadline:
            time.sleep(0.1)  # an exporter's retry delay, not a wait for a result
            continue
        assert resp.status == 200, data
        return data


def test_the_readiness_check_is_not_ok_while_the_history_refuses_writes(tmp_path: Path) -> None:
    """``/healthz``'s check: a receiver that listens but cannot store what it acknowledges is
    not ready, and is again once a write succeeds."""
    from burntray.model.snapshot import Snapshot
    from burntray.serve.run import SourceWatch, receiver_ready

    path = tmp_path / "h.sqlite3"
    history = HistoryStore(path)
    source = OtelSource("127.0.0.1:0", build_price_table({}), history, grace_ns=0)
    source.start(lambda: None)
    watch = SourceWatch()
    check = receiver_ready(watch)
    try:
        assert source.receiver is not None
        port = source.receiver.port
        watch(cast(Snapshot, None), source)
        source.poll()
        assert check() == (True, "ok")
        _refuse_writes(path)
        _events(port, "a")
        source.poll()
        ok, why = check()
        assert not ok and why.startswith("OTLP receiver not counting: ") and "disk says no" in why
        _allow_writes(path)
        source.poll()
        assert check() == (True, "ok")
    finally:
        source.close()
        history.close()
