"""`burntray serve` end to end: real tools' telemetry in (the official OTel SDK over OTLP/HTTP),
a real Prometheus server (Debian's `prometheus`) scraping `/metrics`, and PromQL over its HTTP API
agreeing with `burntray status` on the same data."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cburn_daemon import free_port
from tests.otel_senders import Sender, claude_request, codex_request
from tests.processes import require_tool, stop_process, wait_for

pytestmark = pytest.mark.slow


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


@contextlib.contextmanager
def running(
    cmd: list[str], log_path: Path, ready_url: str, what: str, *, timeout_s: float, stop_s: float
) -> Iterator[subprocess.Popen[bytes]]:
    """``cmd`` as a process (output to ``log_path``) until ``ready_url`` answers 200; stopped
    (``stop_s`` to end) when the ``with`` ends."""
    log = log_path.open("w")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: http_get(ready_url)[0] == 200 or proc.poll() is not None, timeout_s, what)
        assert proc.poll() is None, log_path.read_text()
        yield proc
    finally:
        stop_process(proc, stop_s)
        log.close()


@pytest.fixture
def serve(isolated_env: Path) -> Iterator[tuple[int, int]]:
    otlp, metrics = free_port(), free_port()
    log = isolated_env / "serve.log"
    with running(
        [
            sys.executable,
            "-m",
            "burntray",
            "serve",
            "--source",
            "otel",
            "--otlp",
            f"127.0.0.1:{otlp}",
            "--metrics",
            f"127.0.0.1:{metrics}",
        ],
        log,
        f"http://127.0.0.1:{metrics}/healthz",
        "burntray serve's /healthz",
        timeout_s=20,
        stop_s=5,
    ) as proc:
        yield otlp, metrics
    assert proc.returncode == 0, log.read_text()


@pytest.fixture
def prometheus(tmp_path: Path, serve: tuple[int, int]) -> Iterator[int]:
    binary = require_tool("prometheus")
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: burntray\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{serve[1]}']\n"
    )
    with running(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=1h",
        ],
        tmp_path / "prometheus.log",
        f"http://127.0.0.1:{port}/-/ready",
        "prometheus ready",
        timeout_s=30,
        stop_s=10,
    ):
        yield port


def promql(port: int, query: str) -> float | None:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    status, body = http_get(url)
    if status != 200:
        return None
    result = json.loads(body)["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def burntray_status() -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "burntray", "status", "--source", "otel", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout))


def test_prometheus_scrapes_what_burntray_status_reports(
    serve: tuple[int, int], prometheus: int
) -> None:
    otlp, metrics = serve
    with (
        Sender("claude-code", f"http://127.0.0.1:{otlp}", "protobuf") as claude,
        Sender("codex_cli_rs", f"http://127.0.0.1:{otlp}", "json") as codex,
    ):
        for i, cost in enumerate((0.25, 0.5, 1.25)):
            claude_request(
                claude,
                session="s1",
                request_id=f"r{i}",
                model="claude-sonnet-4-5",
                inp=100 * (i + 1),
                out=10,
                cache_read=1000,
                cache_write=0,
                cost=cost,
                metric=False,
            )
        codex_request(codex, conversation="c", model="gpt-5", inp=5000, cached=1000, out=300)
        codex_request(codex, conversation="c", model="gpt-5", inp=100, cached=0, out=30)

    wait_for(
        lambda: promql(prometheus, "sum(burntray_requests_total)") == 5.0,
        30,
        "Prometheus to scrape 5 requests",
        step_s=0.5,
    )
    status = burntray_status()
    totals = status["totals"]
    assert totals["reqs"] == 5

    def agree() -> bool:
        cost = promql(prometheus, "sum(burntray_cost_usd_total)")
        window_cost = promql(prometheus, 'burntray_window_cost_usd{source="otel"}')
        window_reqs = promql(prometheus, 'burntray_window_requests{source="otel"}')
        return (
            cost is not None
            and abs(cost - totals["cost_usd"]) < 1e-6
            and window_cost is not None
            and abs(window_cost - totals["cost_usd"]) < 1e-6
            and window_reqs == totals["reqs"]
        )

    wait_for(agree, 20, "PromQL to equal burntray status", step_s=0.5)
    assert totals["cost_usd"] > 2.0  # Claude's own 2.00 plus burntray's price for gpt-5
    by_model = {row["model"]: row for row in status["by_model"]}
    assert (
        promql(prometheus, 'sum(burntray_requests_total{model="gpt-5", provider="openai"})')
        == by_model["gpt-5"]["reqs"]
    )
    tokens = promql(prometheus, 'sum(burntray_tokens_total{type="cache_read"})')
    assert tokens == 3 * 1000 + 1000
    assert promql(prometheus, 'burntray_source_up{source="otel"}') == 1.0
    # the status document is served as well, the same shape as `status --format json`
    code, body = http_get(f"http://127.0.0.1:{metrics}/v1/status")
    doc = json.loads(body)
    assert code == 200
    assert doc["totals"]["reqs"] == 5
    assert doc["alerts"]["level"] == status["alerts"]["level"]
