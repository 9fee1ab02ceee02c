"""The Prometheus collector over published figures, the figures endpoint, and the Grafana
dashboard's queries (they may only name metrics burntray exports)."""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from burntray.model.snapshot import Snapshot, SourceStatus, Totals, UsageRow
from burntray.serve.figures import Figures, FiguresBoard
from burntray.serve.http import FiguresServer, health

S = 10**9
DASHBOARD = Path(__file__).resolve().parents[2] / "packaging" / "grafana" / "burntray.json"


def snapshot(rows: tuple[UsageRow, ...], **kw: object) -> Snapshot:
    return Snapshot(
        source="otel",
        window_ns=3600 * S,
        as_of_ns=kw.pop("as_of_ns", 10**18),  # type: ignore[arg-type]
        status=kw.pop("status", SourceStatus("ok")),  # type: ignore[arg-type]
        totals=Totals(reqs=7, rpm=7 / 60, tokens=5000, cost_usd=1.5),
        by_model=rows,
        **kw,  # type: ignore[arg-type]
    )


ROWS = (
    UsageRow("anthropic", "claude-sonnet-4-5", 5, 0, 0, 4600, 1.25, 0, "", 100, 500, 4000, 0),
    UsageRow("openai", "gpt-5", 2, 0, 0, 400, 0.25, 1, "", 300, 100, 0, 0),
)


@pytest.fixture
def server() -> Iterator[tuple[FiguresServer, FiguresBoard]]:
    board = FiguresBoard(started_ns=0)
    srv = FiguresServer("127.0.0.1", 0, board)
    srv.start()
    try:
        yield srv, board
    finally:
        srv.close()


def get(srv: FiguresServer, path: str, accept: str = "") -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    try:
        conn.request("GET", path, headers={"Accept": accept} if accept else {})
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type") or "", resp.read()
    finally:
        conn.close()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_are_the_published_figures(
    server: tuple[FiguresServer, FiguresBoard], monkeypatch: pytest.MonkeyPatch
) -> None:
    srv, board = server
    snap = snapshot(ROWS, alert_level="spike")
    board.put(Figures(snap, snapshot(ROWS), {}))
    code, ctype, body = get(srv, "/metrics")
    assert code == 200 and ctype.startswith("text/plain")
    got = samples(body.decode())
    claude = (("model", "claude-sonnet-4-5"), ("provider", "anthropic"), ("source", "otel"))
    assert got[("burntray_requests_total", claude)] == 5
    assert got[("burntray_cost_usd_total", claude)] == 1.25
    assert got[("burntray_tokens_total", tuple(sorted((*claude, ("type", "cache_read")))))] == 4000
    gpt = (("model", "gpt-5"), ("provider", "openai"), ("source", "otel"))
    assert got[("burntray_unpriced_requests_total", gpt)] == 1
    src = (("source", "otel"),)
    assert got[("burntray_window_requests", src)] == 7
    assert got[("burntray_window_cost_usd_per_hour", src)] == 1.5
    assert got[("burntray_alert_level", src)] == 2
    assert got[("burntray_source_up", src)] == 1
    # never a session or user id among the labels
    assert all(name not in {"session", "user"} for (_, labels) in got for name, _ in labels)


def test_openmetrics_when_the_scraper_asks(server: tuple[FiguresServer, FiguresBoard]) -> None:
    srv, board = server
    board.put(Figures(snapshot(ROWS), snapshot(ROWS), {}))
    code, ctype, body = get(srv, "/metrics", "application/openmetrics-text; version=1.0.0")
    assert code == 200 and ctype.startswith("application/openmetrics-text")
    assert body.rstrip().endswith(b"# EOF")


def test_byte_counting_sources_export_estimated_tokens(
    server: tuple[FiguresServer, FiguresBoard],
) -> None:
    srv, board = server
    row = UsageRow("ollama", "qwen3", 3, 900, 300, 300, 0.0, 0)
    board.put(Figures(snapshot((row,)), snapshot((row,)), {}))
    got = samples(get(srv, "/metrics")[2].decode())
    key = (("model", "qwen3"), ("provider", "ollama"), ("source", "otel"), ("type", "estimated"))
    assert got[("burntray_tokens_total", key)] == 300


def test_healthz_and_status(server: tuple[FiguresServer, FiguresBoard]) -> None:
    srv, board = server
    code, _, body = get(srv, "/healthz")
    assert (code, body) == (503, b"starting: no figures yet\n")
    assert get(srv, "/v1/status")[0] == 503
    import time

    board.put(Figures(snapshot(ROWS, as_of_ns=time.time_ns()), None, {"totals": {"reqs": 7}}))
    assert get(srv, "/healthz")[:1] == (200,)
    code, ctype, body = get(srv, "/v1/status")
    assert (code, ctype, json.loads(body)) == (200, "application/json", {"totals": {"reqs": 7}})
    assert get(srv, "/nope")[0] == 404


def test_status_is_encoded_once_per_published_figures(
    server: tuple[FiguresServer, FiguresBoard],
) -> None:
    """Every poll between two ticks gets the body encoded for the first one (issue 22: a
    watcher polling every few ms must not encode the document each time); a new tick's
    figures are what the next poll shows."""
    srv, board = server
    doc: dict[str, object] = {"totals": {"reqs": 7}}
    board.put(Figures(snapshot(ROWS), None, doc))
    first = get(srv, "/v1/status")[2]
    doc["totals"] = {"reqs": 8}  # published documents are never changed: this one shows it
    assert get(srv, "/v1/status")[2] == first
    board.put(Figures(snapshot(ROWS), None, {"totals": {"reqs": 9}}))
    assert json.loads(get(srv, "/v1/status")[2]) == {"totals": {"reqs": 9}}


def test_health_says_when_the_monitor_is_stuck() -> None:
    board = FiguresBoard(0)
    board.put(Figures(snapshot(ROWS, as_of_ns=1000 * S), None, {}))
    ok, why = health(board, now_s=1000 + 300)
    assert not ok and why.startswith("stale: the monitor last published 300 s ago")
    board.put(
        Figures(snapshot(ROWS, as_of_ns=1000 * S, status=SourceStatus("error", "bad")), None, {})
    )
    ok, why = health(board, now_s=1001)
    assert ok and "error: bad" in why  # the process is fine; the source's state is in metrics


def test_the_grafana_dashboard_queries_only_exported_metrics(
    server: tuple[FiguresServer, FiguresBoard],
) -> None:
    srv, board = server
    board.put(Figures(snapshot(ROWS), snapshot(ROWS), {}))
    exported = {name for name, _ in samples(get(srv, "/metrics")[2].decode())}
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    exprs.append(dashboard["templating"]["list"][1]["definition"])
    used = {m for e in exprs for m in re.findall(r"\bburntray_[a-z_]+", e)}
    assert used, "the dashboard queries nothing"
    assert used <= exported, used - exported
    assert {"burntray_cost_usd_total", "burntray_requests_total", "burntray_alert_level"} <= used


def test_otlp_push_sends_the_same_figures_to_a_collector() -> None:
    """The optional push, with the real SDK, received by burntray's own OTLP receiver."""
    from burntray.serve.otlp_push import OtlpPush
    from burntray.sources.otel.mapping import attrs
    from burntray.sources.otel.receiver import OtlpReceiver

    got: list[object] = []
    receiver = OtlpReceiver("127.0.0.1", 0, lambda path, msg, ts: got.append(msg))
    receiver.start()
    board = FiguresBoard(0)
    board.put(Figures(snapshot(ROWS, alert_level="elevated"), snapshot(ROWS), {}))
    push = OtlpPush(board, f"http://127.0.0.1:{receiver.port}", interval_s=3600)
    try:
        assert push.endpoint.endswith("/v1/metrics")
        assert push.flush()
    finally:
        push.close()
        receiver.close()
    values: dict[tuple[str, tuple[tuple[str, object], ...]], float] = {}
    for msg in got:
        for rm in msg.resource_metrics:  # type: ignore[attr-defined]
            assert attrs(rm.resource.attributes)["service.name"] == "burntray"
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    points = (
                        m.sum.data_points if m.WhichOneof("data") == "sum" else m.gauge.data_points
                    )
                    for dp in points:
                        value = dp.as_double if dp.WhichOneof("value") == "as_double" else dp.as_int
                        values[(m.name, tuple(sorted(attrs(dp.attributes).items())))] = value
    claude = (("model", "claude-sonnet-4-5"), ("provider", "anthropic"), ("source", "otel"))
    assert values[("burntray.requests", claude)] == 5
    assert values[("burntray.cost", claude)] == 1.25
    assert values[("burntray.tokens", tuple(sorted((*claude, ("type", "output")))))] == 500
    assert values[("burntray.alert.level", (("source", "otel"),))] == 1
    assert values[("burntray.window.requests", (("source", "otel"),))] == 7
