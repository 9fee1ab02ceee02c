"""The OTLP receiver and /metrics under HTTP attacks (issue 20). Every figure is measured in
this run; targets in brackets, MISSED where one is not met.

The receiver runs as in the app (the ``otel`` source, burntray's history, the real monitor
thread) with ``burntray serve``'s figures endpoint beside it. An honest client - the official
OpenTelemetry SDK's OTLP/HTTP log exporter, one Claude Code request event per export - sends
500 events/s on loopback while each attack in ``ATTACKS`` runs, one at a time. Per attack: the
share of exports that succeed [>= 99 %], their p99 latency [<= 100 ms], the process's RSS
[<= 150 MB], and whether the totals are exact afterwards (every acknowledged event counted once,
nothing from the attacker). Scrapes of /metrics run during every attack too [all answered].

An attack is a function ``(Target) -> stop``: it starts its sockets or threads and returns the
function that ends them. ``ATTACKS`` is a list so that attacks on values (NaN, amplification)
can be added beside these HTTP ones.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource

from burntray.config import Settings
from burntray.model.pricing import build_price_table
from burntray.runtime.monitor import Monitor
from burntray.serve.figures import FiguresBoard
from burntray.serve.http import FiguresServer
from burntray.serve.run import FiguresPublisher
from burntray.sources.otel.source import OtelSource
from burntray.store.history import HistoryStore
from target import missed, percentile

S = 10**9
RATE = 500.0  # honest events (one per export) per second
PHASE_S = 3.0
COST = 0.0123
TARGET_OK = 0.99
TARGET_P99_MS = 100.0
TARGET_RSS_MB = 150.0


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Target:
    """Where the attacks aim: the receiver's and the figures endpoint's loopback ports."""

    otlp_port: int
    metrics_port: int


Stop = Callable[[], None]
Attack = Callable[[Target], Stop]


# --- the attacks -----------------------------------------------------------------------------


def _sockets(port: int, n: int, first: bytes) -> list[socket.socket]:
    out = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        if first:
            s.sendall(first)
        out.append(s)
    return out


def _closing(socks: list[socket.socket], extra: Stop | None = None) -> Stop:
    def stop() -> None:
        if extra is not None:
            extra()
        for s in socks:
            s.close()

    return stop


def _looping(body: Callable[[threading.Event], None], threads: int = 1) -> Stop:
    """Run ``body(stopped)`` in ``threads`` threads until stopped."""
    stopped = threading.Event()
    workers = [threading.Thread(target=body, args=(stopped,), daemon=True) for _ in range(threads)]
    for w in workers:
        w.start()

    def stop() -> None:
        stopped.set()
        for w in workers:
            w.join(10)

    return stop


def slowloris(target: Target) -> Stop:
    """40 connections that send a header line slowly, reconnecting when cut off."""
    head = f"POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1:{target.otlp_port}\r\n".encode()

    def dribble(stopped: threading.Event) -> None:
        socks = _sockets(target.otlp_port, 40, head)
        while not stopped.wait(0.5):
            for i, s in enumerate(socks):
                try:
                    s.sendall(b"X-a: b\r\n")
                except OSError:
                    s.close()
                    with contextlib.suppress(OSError):
                        socks[i] = _sockets(target.otlp_port, 1, head)[0]
        for s in socks:
            s.close()

    return _looping(dribble)


def _empty_export() -> bytes:
    return ExportLogsServiceRequest().SerializeToString()


def idle_keepalives(target: Target) -> Stop:
    """32 connections that send one good request each, then stay open and silent."""
    conns = []
    for _ in range(32):
        conn = http.client.HTTPConnection("127.0.0.1", target.otlp_port, timeout=5)
        conn.request(
            "POST", "/v1/logs", _empty_export(), {"Content-Type": "application/x-protobuf"}
        )
        conn.getresponse().read()
        conns.append(conn)

    def stop() -> None:
        for conn in conns:
            conn.close()

    return stop


def half_open(target: Target) -> Stop:
    """20 silent connections on the receiver and 100 on /metrics (over its cap of 64)."""
    socks = _sockets(target.otlp_port, 20, b"") + _sockets(target.metrics_port, 100, b"")
    return _closing(socks)


def oversized_bodies(target: Target) -> Stop:
    """Two threads sending bodies over the 8 MiB limit: one declared (Content-Length), one
    chunked and endless, each read until the server's answer."""
    junk = b"\0" * 65536

    def declared(stopped: threading.Event) -> None:
        while not stopped.is_set():
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", target.otlp_port), timeout=5) as s,
            ):
                s.sendall(
                    f"POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1:{target.otlp_port}\r\n"
                    "Content-Type: application/x-protobuf\r\n"
                    f"Content-Length: {9 * 2**20}\r\n\r\n".encode()
                )
                for _ in range(16):
                    s.sendall(junk)
                s.recv(4096)

    def chunked(stopped: threading.Event) -> None:
        while not stopped.is_set():
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", target.otlp_port), timeout=5) as s,
            ):
                s.sendall(
                    f"POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1:{target.otlp_port}\r\n"
                    "Content-Type: application/x-protobuf\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n".encode()
                )
                chunk = f"{len(junk):x}\r\n".encode() + junk + b"\r\n"
                for _ in range(200):  # 12.5 MiB: past the limit
                    s.sendall(chunk)
                s.recv(4096)

    stops = [_looping(declared), _looping(chunked)]
    return lambda: [stop() for stop in stops] and None


def cross_origin_posts(target: Target) -> Stop:
    """What a web page can send: a Claude Code export with no Content-Type, or text/plain,
    from another origin, as fast as one thread can."""
    body = _claude_export("attacker", 123.45)

    def post(stopped: threading.Event) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", target.otlp_port, timeout=5)
        n = 0
        while not stopped.is_set():
            headers = {"Origin": "http://127.0.0.1:18080"}
            if n % 2:
                headers["Content-Type"] = "text/plain"
            try:
                conn.request("POST", "/v1/logs", body, headers)
                conn.getresponse().read()
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", target.otlp_port, timeout=5)
            n += 1
        conn.close()

    return _looping(post)


ATTACKS: list[tuple[str, Attack]] = [
    ("none (baseline)", lambda _t: lambda: None),
    ("slowloris x40", slowloris),
    ("idle keep-alives x32", idle_keepalives),
    ("half-open x20 (+100 on /metrics)", half_open),
    ("oversized + chunked bodies", oversized_bodies),
    ("cross-origin no-content-type posts", cross_origin_posts),
]


def _claude_export(request_id: str, cost: float) -> bytes:
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    kv = rl.resource.attributes.add()
    kv.key, kv.value.string_value = "service.name", "claude-code"
    rec = rl.scope_logs.add().log_records.add()
    rec.time_unix_nano = time.time_ns()
    rec.event_name = "claude_code.api_request"
    for key, value in (
        ("session.id", "web"),
        ("model", "claude-sonnet-4-5"),
        ("cost_usd", str(cost)),
        ("input_tokens", "1"),
        ("output_tokens", "1"),
        ("request_id", request_id),
    ):
        a = rec.attributes.add()
        a.key, a.value.string_value = key, value
    return req.SerializeToString()


# --- the honest client -----------------------------------------------------------------------


class _Timed:
    """The SDK's own OTLP/HTTP exporter, timed: each export's result and latency."""

    def __init__(self, inner: OTLPLogExporter) -> None:
        self.inner = inner
        self.results: list[tuple[bool, float]] = []

    def export(self, batch: Sequence[Any]) -> Any:
        started = time.perf_counter()
        result = self.inner.export(batch)
        # LogExportResult or LogRecordExportResult, by SDK version: SUCCESS in both
        ok = getattr(result, "name", "") == "SUCCESS"
        self.results.append((ok, time.perf_counter() - started))
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


class HonestClient:
    def __init__(self, port: int) -> None:
        self.exporter = _Timed(OTLPLogExporter(endpoint=f"http://127.0.0.1:{port}/v1/logs"))
        self.provider = LoggerProvider(resource=Resource.create({"service.name": "claude-code"}))
        self.provider.add_log_record_processor(SimpleLogRecordProcessor(self.exporter))  # type: ignore[arg-type]
        self.logger = self.provider.get_logger("claude-code")
        self.sent = 0

    def send(self, seconds: float) -> list[tuple[bool, float]]:
        """One event per export at ``RATE``/s for ``seconds``; the exports' results."""
        start_index = len(self.exporter.results)
        t0 = time.perf_counter()
        for i in range(int(RATE * seconds)):
            due = t0 + i / RATE
            while (now := time.perf_counter()) < due:
                time.sleep(max(0.0, min(due - now, 0.0005)))
            self.logger.emit(
                timestamp=time.time_ns(),
                body="claude_code.api_request",
                attributes={
                    "event.name": "claude_code.api_request",
                    "session.id": "honest",
                    "model": "claude-sonnet-4-5",
                    "cost_usd": str(COST),
                    "input_tokens": "100",
                    "output_tokens": "20",
                    "request_id": f"honest-{self.sent}",
                },
                event_name="claude_code.api_request",
            )
            self.sent += 1
        return self.exporter.results[start_index:]

    def close(self) -> None:
        self.provider.shutdown()


# --- the rig ---------------------------------------------------------------------------------


class Rig:
    def __init__(self, folder: Path) -> None:
        from burntray.app import AppContext

        self.history = HistoryStore(folder / "history.sqlite3")
        self.source = OtelSource("127.0.0.1:0", build_price_table({}), self.history)
        settings = Settings(window="1h", poll_interval_s=5.0)
        self.monitor = Monitor(settings, lambda _s: self.source, history=None)
        self.board = FiguresBoard(time.time_ns())
        ctx = AppContext.load(strict=False)
        self.monitor.enrichers.append(FiguresPublisher(ctx, settings, self.board))
        self.figures = FiguresServer("127.0.0.1", 0, self.board)
        self.figures.start()
        self.monitor.start()
        deadline = time.monotonic() + 10
        while self.source.receiver is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.source.receiver is not None, self.source.status
        self.target = Target(self.source.receiver.port, self.figures.port)

    def counted(self, expected: int, deadline_s: float = 10.0) -> tuple[int, float]:
        """Requests and cost in the history once it holds ``expected`` (or the deadline)."""
        end = time.monotonic() + deadline_s
        while True:
            self.monitor.refresh()
            totals = self.source.snapshot(3600 * S).totals
            if totals.reqs >= expected or time.monotonic() > end:
                return totals.reqs, totals.cost_usd
            time.sleep(0.05)

    def scraper(self) -> tuple[Stop, list[bool]]:
        """Scrape /metrics every 100 ms on a new connection; True for each answered one."""
        results: list[bool] = []

        def scrape(stopped: threading.Event) -> None:
            while not stopped.wait(0.1):
                try:
                    conn = http.client.HTTPConnection(
                        "127.0.0.1", self.target.metrics_port, timeout=2
                    )
                    conn.request("GET", "/metrics")
                    results.append(conn.getresponse().status == 200)
                    conn.close()
                except (OSError, http.client.HTTPException):
                    results.append(False)

        return _looping(scrape), results

    def close(self) -> None:
        self.monitor.stop(5)
        self.figures.close()
        self.history.close()


def run() -> list[tuple[str, str]]:
    logging.getLogger("opentelemetry").setLevel(logging.CRITICAL)  # refusals are expected
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        rig = Rig(Path(tmp))
        client = HonestClient(rig.target.otlp_port)
        try:
            acked = 0
            for name, attack in ATTACKS:
                stop = attack(rig.target)
                stop_scrapes, scrapes = rig.scraper()
                try:
                    time.sleep(0.3)  # the attack in place before the client starts
                    results = client.send(PHASE_S)
                    rss = _rss_mb()
                finally:
                    stop_scrapes()
                    stop()
                ok = sum(1 for good, _ in results if good)
                acked += ok
                share = ok / max(1, len(results))
                p99 = percentile([t for _, t in results], 0.99) * 1000
                reqs, cost = rig.counted(acked)
                exact = reqs == acked and abs(cost - acked * COST) < 1e-6 * max(1, acked)
                scraped = sum(scrapes)
                rows += [
                    (f"{name}: exports ok [>= 99 %]", f"{share:.1%}" + missed(share >= TARGET_OK)),
                    (
                        f"  p99 export latency [<= {TARGET_P99_MS:.0f} ms]",
                        f"{p99:.1f} ms" + missed(p99 <= TARGET_P99_MS),
                    ),
                    (
                        f"  RSS [<= {TARGET_RSS_MB:.0f} MB]",
                        f"{rss:.0f} MB" + missed(rss <= TARGET_RSS_MB),
                    ),
                    (
                        "  totals exact (requests, cost)",
                        f"{reqs:,} of {acked:,}, ${cost:.4f}" + missed(exact),
                    ),
                    (
                        "  /metrics scrapes answered [all]",
                        f"{scraped} of {len(scrapes)}" + missed(scraped == len(scrapes)),
                    ),
                ]
        finally:
            client.close()
            rig.close()
    return rows


if __name__ == "__main__":
    for figure, value in run():
        print(f"  {figure:<58} {value}")
