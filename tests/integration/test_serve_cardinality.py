"""5,000 distinct model names from the official OpenTelemetry SDK, in 8 exports, to a real
``burntray serve --otlp``: /metrics stays small (a bounded set of series) with exact totals and
the folded requests counted, and the history keeps the same bound (``otel.max_models``)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from prometheus_client import CollectorRegistry, generate_latest

from burntray.app import AppContext
from burntray.serve.figures import BurntrayCollector, FiguresBoard
from burntray.serve.run import FiguresPublisher, source_folds
from burntray.sources.build import build_source
from tests.cburn_daemon import free_port
from tests.otel_senders import Sender, claude_request
from tests.processes import burntray, stop_process, wait_for

MODELS = 5_000
EXPORTS = 8
KEPT = 100  # otel.max_models' default
COST = 0.01
HOUR = 3600 * 10**9
SERIES = re.compile(r"^(burntray_\w+)\{([^}]*)\} (\S+)$")


def http_get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


@pytest.fixture
def serve(isolated_env: Path) -> Iterator[tuple[int, int, subprocess.Popen[bytes]]]:
    otlp, metrics = free_port(), free_port()
    log = (isolated_env / "serve.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "burntray", "serve", "--source", "otel",
            "--otlp", f"127.0.0.1:{otlp}", "--metrics", f"127.0.0.1:{metrics}",
        ],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        ready = f"http://127.0.0.1:{metrics}/healthz"
        wait_for(lambda: http_get(ready)[0] == 200 or proc.poll() is not None, 20, "/healthz")
        assert proc.poll() is None, (isolated_env / "serve.log").read_text()
        yield otlp, metrics, proc
    finally:
        stop_process(proc, 5)
        log.close()
    assert proc.returncode == 0, (isolated_env / "serve.log").read_text()


def send_distinct_models(otlp: int) -> None:
    """5,000 Claude Code request events, each with its own model name, in 8 SDK exports."""
    per = MODELS // EXPORTS
    for export in range(EXPORTS):
        provider = LoggerProvider(resource=Resource.create({"service.name": "claude-code"}))
        exporter = OTLPLogExporter(endpoint=f"http://127.0.0.1:{otlp}/v1/logs", timeout=10)
        provider.add_log_record_processor(
            BatchLogRecordProcessor(
                exporter,
                max_export_batch_size=per,
                max_queue_size=per,
                schedule_delay_millis=3_600_000,  # one export, when flushed
            )
        )
        logger = provider.get_logger("claude-code")
        for i in range(export * per, (export + 1) * per):
            logger.emit(
                timestamp=time.time_ns(),
                body="claude_code.api_request",
                event_name="claude_code.api_request",
                attributes={
                    "event.name": "claude_code.api_request",
                    "session.id": f"session-{i % 7}",
                    "model": f"made-up-model-{i}",
                    "cost_usd": str(COST),
                    "input_tokens": "10",
                    "output_tokens": "5",
                    "cache_read_tokens": "0",
                    "cache_creation_tokens": "0",
                    "request_id": f"req-{i}",
                },
            )
        assert provider.force_flush(20_000)
        provider.shutdown()


def scrape(metrics: int) -> tuple[bytes, dict[str, list[tuple[dict[str, str], float]]]]:
    status, body = http_get(f"http://127.0.0.1:{metrics}/metrics")
    assert status == 200
    series: dict[str, list[tuple[dict[str, str], float]]] = {}
    for line in body.decode().splitlines():
        match = SERIES.match(line)
        if match:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2)))
            series.setdefault(match.group(1), []).append((labels, float(match.group(3))))
    return body, series


def test_5000_model_names_keep_metrics_and_the_history_bounded_with_exact_totals(
    serve: tuple[int, int, subprocess.Popen[bytes]],
) -> None:
    otlp, metrics, proc = serve
    send_distinct_models(otlp)

    def counted() -> tuple[bytes, dict[str, list[tuple[dict[str, str], float]]]] | None:
        body, series = scrape(metrics)
        total = sum(v for _, v in series.get("burntray_requests_total", []))
        return (body, series) if total >= MODELS else None

    body, series = wait_for(counted, 30, "all 5,000 requests on /metrics", step_s=0.2)
    requests = series["burntray_requests_total"]
    assert len(requests) == KEPT + 1  # the names kept, and model="other"
    assert len(body) < 200_000
    assert sum(v for _, v in requests) == MODELS
    assert sum(v for _, v in series["burntray_cost_usd_total"]) == pytest.approx(MODELS * COST)
    (other,) = [v for labels, v in requests if labels["model"] == "other"]
    assert other == MODELS - KEPT
    (folded,) = series["burntray_folded_requests_total"]
    assert folded == ({"source": "otel", "tool": "claude-code"}, float(MODELS - KEPT))

    status, doc = http_get(f"http://127.0.0.1:{metrics}/v1/status")
    assert status == 200
    live = json.loads(doc)
    assert live["totals"]["reqs"] == MODELS
    assert len(live["by_model"]) == KEPT + 1

    # another process reads the history serve wrote: the same bound, the same totals
    result = burntray("status", "--source", "otel", "--window", "1h", "--format", "json")
    stored = json.loads(result.stdout)
    assert stored["totals"]["reqs"] == MODELS
    assert stored["totals"]["cost_usd"] == pytest.approx(MODELS * COST)
    assert len(stored["by_model"]) == KEPT + 1
    stop_process(proc, 5)  # what lags in the saved state is written on the way out
    assert proc.returncode == 0
    doctor = burntray("doctor")
    assert f'claude-code ({MODELS - KEPT:,} requests) counted as model "other"' in doctor.stdout
    assert "otel.max_models" in doctor.stdout


def test_all_publishes_the_receivers_folded_requests(isolated_env: Path) -> None:
    """In ``all``, /metrics counts the folds of its OTLP member: what the source says it folded
    reaches the collector through the publisher."""
    ctx = AppContext.load()
    port = free_port()
    options = {"otel.listen": f"127.0.0.1:{port}", "otel.enabled": True, "otel.max_models": 2}
    settings = ctx.settings.replace(options=options)
    combined = build_source("all", ctx.source_context(settings))
    board = FiguresBoard(started_ns=0)
    try:
        combined.start(lambda: None)
        with Sender("claude-code", f"http://127.0.0.1:{port}") as sender:
            for i in range(5):
                claude_request(
                    sender, session="s", request_id=f"r{i}", model=f"m{i}", inp=1, out=1,
                    cache_read=0, cache_write=0, cost=0.5, metric=False,
                )  # fmt: skip

        def counted() -> bool:
            combined.poll()
            return combined.snapshot(HOUR).totals.reqs == 5

        wait_for(counted, 10, "5 requests")
        assert source_folds(combined) == {("otel", "claude-code"): 3}
        publisher = FiguresPublisher(ctx, settings, board)
        publisher(combined.snapshot(HOUR), combined)
    finally:
        combined.close()
        ctx.close()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BurntrayCollector(board))
    text = generate_latest(registry).decode()
    assert 'burntray_folded_requests_total{source="otel",tool="claude-code"} 3.0' in text
