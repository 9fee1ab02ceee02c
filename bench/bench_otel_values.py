"""The OTLP receiver under value attacks (issue 20): an honest client keeps being served and
counted exactly. Every figure is measured in this run; targets in brackets, MISSED where one is
not met.

``burntray serve --source otel`` runs as its own process (the app as deployed: history, monitor,
/metrics). An honest Claude Code client - the official OpenTelemetry SDK, one export per event
(``SimpleLogRecordProcessor``), 500 events/s - runs through phases, each under one attack sent
from other connections over loopback:

- none (the baseline);
- NaN/Inf: metric exports of NaN, +/-Inf and 1e308 points, every 100 ms;
- histogram count: 100 ``gen_ai.client.token.usage`` points of count 2^64-1, every 100 ms;
- attributes: 8 concurrent gzip exports of one record with ~3,000,000 attributes, again and
  again;
- 20,000 models: 20,000 request events with distinct models (two exports), then /metrics
  scraped every second.

Per phase: exports that succeeded (>= 99 %), their p99 latency (<= 100 ms) and the serve
process's peak RSS (<= 150 MB); at the end, the honest model's counters on /metrics must equal
what was acknowledged (requests and cost, exactly).
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from prometheus_client.parser import text_string_to_metric_families

from loopback import free_port, http_get
from target import missed, percentile

S = 10**9
RATE = 500.0  # honest events (= exports) per second
PHASE_S = 6.0
HONEST_MODEL = "claude-honest-1"
HONEST_COST = 0.01


def _rss_mib(pid: int, field: str = "VmRSS") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _post(conn: http.client.HTTPConnection, path: str, body: bytes, **headers: str) -> int:
    conn.request("POST", path, body, {"Content-Type": "application/x-protobuf", **headers})
    resp = conn.getresponse()
    resp.read()
    return resp.status


@contextlib.contextmanager
def _serve(folder: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, int]]:
    otlp, metrics = free_port(), free_port()
    log = (folder / "serve.log").open("w")
    cmd = [sys.executable, "-m", "burntray", "serve", "--source", "otel"]
    cmd += ["--otlp", f"127.0.0.1:{otlp}", "--metrics", f"127.0.0.1:{metrics}"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while http_get(metrics, "/healthz")[0] != 200:
            assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)
        yield proc, otlp, metrics
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


# --- the honest client ---------------------------------------------------------------------


class _TimedExporter(OTLPLogExporter):
    """The SDK's OTLP/HTTP log exporter, timing each export and noting its result."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.results: list[tuple[float, bool]] = []

    def export(self, batch: Sequence[Any]) -> Any:
        t = time.perf_counter()
        result = super().export(batch)
        self.results.append((time.perf_counter() - t, result.name == "SUCCESS"))
        return result


class Honest:
    def __init__(self, otlp: int) -> None:
        self.exporter = _TimedExporter(endpoint=f"http://127.0.0.1:{otlp}/v1/logs", timeout=10)
        resource = Resource.create({"service.name": "claude-code", "service.version": "1.0"})
        self.provider = LoggerProvider(resource=resource)
        self.provider.add_log_record_processor(SimpleLogRecordProcessor(self.exporter))
        self.logger = self.provider.get_logger("claude-code")
        self.n = 0

    def run(self, seconds: float) -> list[tuple[float, bool]]:
        start = len(self.exporter.results)
        t0 = time.perf_counter()
        for i in range(int(RATE * seconds)):
            due = t0 + i / RATE
            while (now := time.perf_counter()) < due:
                time.sleep(min(due - now, 0.001))
            self.n += 1
            self.logger.emit(
                timestamp=time.time_ns(),
                body="claude_code.api_request",
                event_name="claude_code.api_request",
                attributes={
                    "event.name": "claude_code.api_request",
                    "session.id": "honest",
                    "model": HONEST_MODEL,
                    "cost_usd": str(HONEST_COST),
                    "input_tokens": "100",
                    "output_tokens": "20",
                    "cache_read_tokens": "0",
                    "cache_creation_tokens": "0",
                    "request_id": f"honest-{self.n}",
                },
            )
        return self.exporter.results[start:]

    def close(self) -> None:
        self.provider.shutdown()


# --- the attacks -----------------------------------------------------------------------------


def _kvs(kvs: Any, **values: object) -> None:
    for key, value in values.items():
        kv = kvs.add()
        kv.key = key
        if isinstance(value, str):
            kv.value.string_value = value
        elif isinstance(value, float):
            kv.value.double_value = value
        else:
            kv.value.int_value = value


def nan_body() -> bytes:
    req = ExportMetricsServiceRequest()
    rm = req.resource_metrics.add()
    _kvs(rm.resource.attributes, **{"service.name": "claude-code"})
    sm = rm.scope_metrics.add()
    now = time.time_ns()
    values = (float("nan"), float("inf"), float("-inf"), 1e308, 1e308, 1e300)
    for i, value in enumerate(values):
        for name, kind in (("claude_code.token.usage", "input"), ("claude_code.cost.usage", "")):
            metric = sm.metrics.add()
            metric.name = name
            metric.sum.aggregation_temporality = 1
            dp = metric.sum.data_points.add()
            dp.start_time_unix_nano, dp.time_unix_nano, dp.as_double = now - S, now, value
            attrs: dict[str, object] = {"session.id": f"evil{i}", "model": "claude-evil"}
            if kind:
                attrs["type"] = kind
            _kvs(dp.attributes, **attrs)
    return req.SerializeToString()


def histogram_body() -> bytes:
    req = ExportMetricsServiceRequest()
    rm = req.resource_metrics.add()
    _kvs(rm.resource.attributes, **{"service.name": "evil-agent"})
    metric = rm.scope_metrics.add().metrics.add()
    metric.name = "gen_ai.client.token.usage"
    metric.histogram.aggregation_temporality = 1
    now = time.time_ns()
    for i in range(100):
        dp = metric.histogram.data_points.add()
        dp.start_time_unix_nano, dp.time_unix_nano = now - S, now
        dp.count, dp.sum = 2**64 - 1, 1.0
        _kvs(dp.attributes, **{"gen_ai.token.type": "input", "gen_ai.request.model": f"m{i}"})
    return req.SerializeToString()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def attributes_body(n: int = 3_000_000) -> bytes:
    """One log record with ``n`` attributes, gzip: the wire bytes of one attribute, repeated
    (the generated classes would take minutes to build three million of them)."""
    one = LogRecord()
    kv: KeyValue = one.attributes.add()
    kv.key, kv.value.int_value = "a", 1
    attribute = one.SerializeToString()
    record = attribute * n + _field(12, b"claude_code.api_request")  # event_name
    scope = _field(2, record)
    resource = _field(2, scope)
    body = _field(1, resource)
    return gzip.compress(body, 6)


def models_bodies(n: int = 20_000, per_export: int = 10_000) -> list[bytes]:
    bodies = []
    for first in range(0, n, per_export):
        req = ExportLogsServiceRequest()
        rl = req.resource_logs.add()
        _kvs(rl.resource.attributes, **{"service.name": "claude-code"})
        sl = rl.scope_logs.add()
        now = time.time_ns()
        for i in range(first, min(n, first + per_export)):
            rec = sl.log_records.add()
            rec.time_unix_nano, rec.event_name = now, "claude_code.api_request"
            _kvs(
                rec.attributes,
                **{
                    "session.id": "many",
                    "model": f"model-{i}",
                    "request_id": f"many-{i}",
                    "cost_usd": "0.001",
                    "input_tokens": "1",
                },
            )
        bodies.append(req.SerializeToString())
    return bodies


class Attack:
    """``send(conn)`` repeated every ``every_s`` from ``threads`` connections until stopped."""

    def __init__(
        self,
        otlp: int,
        send: Callable[[http.client.HTTPConnection], None],
        every_s: float,
        threads: int = 1,
    ) -> None:
        self.otlp = otlp
        self.send = send
        self.every_s = every_s
        self.stop = threading.Event()
        self.sent = 0
        self.errors = 0
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.otlp, timeout=60)
        while not self.stop.is_set():
            try:
                self.send(conn)
                self.sent += 1
            except (OSError, http.client.HTTPException):
                self.errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.otlp, timeout=60)
            if self.every_s:
                self.stop.wait(self.every_s)
        conn.close()

    def __enter__(self) -> Attack:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(60)


class RssWatch:
    """The serve process's peak RSS, sampled every 20 ms while the ``with`` lasts."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss_mib(self.pid))

    def __enter__(self) -> RssWatch:
        self.peak = _rss_mib(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _metric(metrics: int, name: str, **labels: str) -> float:
    status, body = http_get(metrics, "/metrics")
    assert status == 200, status
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


def _phase(
    rows: list[tuple[str, str]], name: str, honest: Honest, pid: int, attack: Attack | None
) -> int:
    with RssWatch(pid) as rss, attack or contextlib.nullcontext():
        results = honest.run(PHASE_S)
    ok = sum(1 for _, good in results if good)
    share = 100 * ok / max(len(results), 1)
    p99 = percentile([t for t, _ in results], 0.99) * 1000
    extra = f", attack: {attack.sent} sent" if attack is not None else ""
    rows.append(
        (
            f"{name}: honest exports ok [>= 99 %] / p99 [<= 100 ms]",
            f"{share:.2f} % / {p99:.1f} ms{missed(share >= 99 and p99 <= 100)}{extra}",
        )
    )
    peak = f"{rss.peak:.0f} MiB{missed(rss.peak <= 150)}"
    rows.append(("  ... serve peak RSS [<= 150 MB]", peak))
    return ok


def run() -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    nan, hist = nan_body(), histogram_body()
    attrs = attributes_body()
    with tempfile.TemporaryDirectory() as tmp, _serve(Path(tmp)) as (proc, otlp, metrics):
        honest = Honest(otlp)
        acknowledged = 0
        try:
            acknowledged += _phase(rows, "no attack", honest, proc.pid, None)

            def send_metrics(body: bytes) -> Callable[[http.client.HTTPConnection], None]:
                return lambda conn: _post(conn, "/v1/metrics", body) and None

            attack = Attack(otlp, send_metrics(nan), 0.1)
            acknowledged += _phase(rows, "NaN/Inf points", honest, proc.pid, attack)
            attack = Attack(otlp, send_metrics(hist), 0.1)
            acknowledged += _phase(rows, "histogram count 2^64-1", honest, proc.pid, attack)

            def send_attrs(conn: http.client.HTTPConnection) -> None:
                _post(conn, "/v1/logs", attrs, **{"Content-Encoding": "gzip"})

            attack = Attack(otlp, send_attrs, 0.0, threads=8)
            label = f"8 x {len(attrs) // 1024} kB gzip, 3M attributes"
            acknowledged += _phase(rows, label, honest, proc.pid, attack)

            models = models_bodies()  # stamped now: after serve started, so in its counters
            sent_models = [0]

            def send_models(conn: http.client.HTTPConnection) -> None:
                if sent_models[0] < len(models):
                    _post(conn, "/v1/logs", models[sent_models[0]])
                    sent_models[0] += 1
                else:
                    http_get(metrics, "/metrics")

            attack = Attack(otlp, send_models, 1.0)
            acknowledged += _phase(rows, "20,000 models", honest, proc.pid, attack)
        finally:
            honest.close()
        # the honest model's counters: exactly what was acknowledged (counted within seconds)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            reqs = _metric(metrics, "burntray_requests_total", model=HONEST_MODEL)
            if reqs >= acknowledged:
                break
            time.sleep(0.2)
        cost = _metric(metrics, "burntray_cost_usd_total", model=HONEST_MODEL)
        exact = reqs == acknowledged and abs(cost - acknowledged * HONEST_COST) < 1e-6
        rows.append(
            (
                "honest totals on /metrics == acknowledged [exact]",
                f"{reqs:,.0f} / {acknowledged:,} requests, ${cost:,.2f}{missed(exact)}",
            )
        )
        _status, body = http_get(metrics, "/metrics")
        series = sum(1 for line in body.decode().splitlines() if line and line[0] != "#")
        size = f"{len(body) / 1024:,.0f} kB, {series} series"
        rows.append(("/metrics after 20,000 models", size))
        folded = _metric(metrics, "burntray_folded_models_total")
        rows.append(("  ... model labels folded into other by /metrics", f"{folded:,.0f}"))
        # the receiver keeps otel.max_models names per tool: the rest arrive as "other" already
        folded = _metric(metrics, "burntray_folded_requests_total")
        rows.append(("  ... requests the receiver counted as model other", f"{folded:,.0f}"))
        hwm = _rss_mib(proc.pid, "VmHWM")
        rows.append(("serve VmHWM (peak RSS over the run)", f"{hwm:.0f} MiB"))
    rows.append(("load average (2 shared cores)", f"{os.getloadavg()[0]:.2f}"))
    return rows


if __name__ == "__main__":
    for figure, value in run():
        print(f"  {figure:<58} {value}")
