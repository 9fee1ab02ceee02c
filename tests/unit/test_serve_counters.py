"""The ``*_total`` counters over a real scrape sequence: they never go down, and the model
label's values are bounded with an "other" bucket."""

from __future__ import annotations

import http.client
import itertools
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from burntray.model.snapshot import Snapshot, SourceStatus, Totals, UsageRow
from burntray.serve.figures import MAX_MODELS, Figures, FiguresBoard
from burntray.serve.http import FiguresServer

S = 10**9
CLAUDE = (("model", "claude-opus-4-1"), ("provider", "anthropic"), ("source", "otel"))


def since_start(*rows: UsageRow) -> Snapshot:
    return Snapshot(
        source="otel",
        window_ns=3600 * S,
        as_of_ns=10**18,
        status=SourceStatus("ok"),
        totals=Totals(),
        by_model=rows,
    )


def row(reqs: int, cost: float, model: str = "claude-opus-4-1", inp: int = 10) -> UsageRow:
    return UsageRow("anthropic", model, reqs, 0, 0, inp, cost, 0, "", inp, 0, 0, 0)


@pytest.fixture
def server() -> Iterator[tuple[FiguresServer, FiguresBoard]]:
    board = FiguresBoard(started_ns=0)
    srv = FiguresServer("127.0.0.1", 0, board)
    srv.start()
    try:
        yield srv, board
    finally:
        srv.close()


def scrape(srv: FiguresServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    try:
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
        assert resp.status == 200
        text = resp.read().decode()
    finally:
        conn.close()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def publish(board: FiguresBoard, *rows: UsageRow) -> None:
    snap = since_start(*rows)
    board.put(Figures(snap, snap, {}))


def test_counters_never_go_down_across_scrapes(server: tuple[FiguresServer, FiguresBoard]) -> None:
    srv, board = server
    seen: list[tuple[float, float, float]] = []
    # 2 requests, $5; a re-sent request with lower values ($0.01); one re-stamped an hour
    # earlier leaves the range (1 request); then new usage on top of the lower figures
    for rows in ((row(2, 5.0, inp=100),), (row(2, 0.01, inp=3),), (row(1, 0.01),), (row(3, 1.01),)):
        publish(board, *rows)
        got = scrape(srv)
        seen.append(
            (
                got[("burntray_requests_total", CLAUDE)],
                got[("burntray_cost_usd_total", CLAUDE)],
                got[("burntray_tokens_total", (*CLAUDE, ("type", "input")))],
            )
        )
    assert [s[0] for s in seen] == [2, 2, 2, 4]
    assert [s[1] for s in seen] == pytest.approx([5.0, 5.0, 5.0, 6.0])
    assert [s[2] for s in seen] == [100, 100, 107, 107]
    for earlier, later in itertools.pairwise(seen):
        assert all(b >= a for a, b in zip(earlier, later, strict=True))


def test_model_labels_are_capped_per_source_with_an_other_bucket(
    server: tuple[FiguresServer, FiguresBoard], caplog: pytest.LogCaptureFixture
) -> None:
    srv, board = server
    models = [row(1, 0.5, model=f"m{i}") for i in range(MAX_MODELS + 50)]
    with caplog.at_level(logging.WARNING, "burntray.serve.figures"):
        publish(board, *models)
        publish(board, *models)
    said = [r.getMessage() for r in caplog.records if "provider/model pairs" in r.getMessage()]
    assert said == [
        f"serve: source otel has over {MAX_MODELS} provider/model pairs; /metrics sums the rest "
        'as model="other" (burntray_folded_models_total counts them)'
    ]
    got = scrape(srv)
    requests = {labels: v for (name, labels), v in got.items() if name == "burntray_requests_total"}
    assert len(requests) == MAX_MODELS + 1
    other = (("model", "other"), ("provider", "other"), ("source", "otel"))
    assert requests[other] == 50
    assert got[("burntray_cost_usd_total", other)] == 25.0
    assert got[("burntray_folded_models_total", (("source", "otel"),))] == 50
    # a model admitted first stays itself; the folded ones keep adding to "other"
    models[0] = row(2, 1.0, model="m0")
    models[-1] = row(3, 1.5, model=f"m{MAX_MODELS + 49}")
    publish(board, *models)
    got = scrape(srv)
    m0 = (("model", "m0"), ("provider", "anthropic"), ("source", "otel"))
    assert got[("burntray_requests_total", m0)] == 2
    assert got[("burntray_requests_total", other)] == 52


def test_the_otlp_push_sends_the_same_running_totals() -> None:
    """The optional push (real SDK) to burntray's own receiver: a lower usage since start does
    not lower the pushed cumulative cost either."""
    from burntray.serve.otlp_push import OtlpPush
    from burntray.sources.otel.mapping import attrs
    from burntray.sources.otel.receiver import OtlpReceiver

    got: list[Any] = []
    receiver = OtlpReceiver("127.0.0.1", 0, lambda path, msg, ts: got.append(msg))
    receiver.start()
    board = FiguresBoard(0)
    push = OtlpPush(board, f"http://127.0.0.1:{receiver.port}", interval_s=3600)
    costs = []
    try:
        for cost in (5.0, 0.01):
            publish(board, row(2, cost))
            got.clear()
            assert push.flush()
            costs += [
                dp.as_double
                for msg in got
                for rm in msg.resource_metrics
                for sm in rm.scope_metrics
                for m in sm.metrics
                if m.name == "burntray.cost"
                for dp in m.sum.data_points
                if attrs(dp.attributes)["model"] == "claude-opus-4-1"
            ]
    finally:
        push.close()
        receiver.close()
    assert costs == [5.0, 5.0]
