"""The OTLP receiver and ledger against the official OpenTelemetry SDK exporters, sending what
Claude Code, Codex and Gemini CLI send: burntray's totals equal what was sent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from burntray.model.pricing import build_price_table
from burntray.model.usage import UsageRecord
from burntray.sources.otel.ledger import OtelLedger
from tests.otel_senders import Sender, claude_request, codex_request, gemini_request, receiving

FAR_FUTURE = 2**62


@pytest.fixture
def ledger() -> OtelLedger:
    return OtelLedger(build_price_table({}), grace_ns=0)


@pytest.fixture
def base(ledger: OtelLedger) -> Iterator[str]:
    with receiving(ledger.on_export) as receiver:
        yield f"http://127.0.0.1:{receiver.port}"


def totals(records: list[UsageRecord]) -> dict[str, float]:
    return {
        "reqs": len(records),
        "input": sum(r.input_tokens for r in records),
        "output": sum(r.output_tokens for r in records),
        "cache_read": sum(r.cache_read_tokens for r in records),
        "cache_write": sum(r.cache_write_tokens for r in records),
        "cost": round(sum(r.cost_usd or 0.0 for r in records), 9),
    }


CLAUDE_REQS = [
    # (session, request id, model, in, out, cache read, cache write, cost)
    ("s1", "req_1", "claude-sonnet-4-5-20250929", 1200, 300, 5000, 800, 0.0213),
    ("s1", "req_2", "claude-sonnet-4-5-20250929", 40, 900, 6000, 0, 0.0155),
    ("s2", "req_3", "claude-haiku-4-5", 10, 20, 0, 0, 0.0001),
]


def send_claude(sender: Sender, **flags: bool) -> None:
    for s, rid, model, i, o, cr, cw, cost in CLAUDE_REQS:
        claude_request(
            sender,
            session=s,
            request_id=rid,
            model=model,
            inp=i,
            out=o,
            cache_read=cr,
            cache_write=cw,
            cost=cost,
            **flags,
        )


CLAUDE_TOTALS = {
    "input": 1250,
    "output": 1220,
    "cache_read": 11000,
    "cache_write": 800,
    "cost": round(0.0213 + 0.0155 + 0.0001, 9),
}


@pytest.mark.parametrize("protocol", ["protobuf", "json"])
def test_claude_events_are_counted_per_request_with_its_own_cost(
    ledger: OtelLedger, base: str, protocol: str
) -> None:
    with Sender("claude-code", base, protocol) as sender:  # type: ignore[arg-type]
        send_claude(sender, metric=False)
    records = ledger.take(FAR_FUTURE)
    assert totals(records) == {"reqs": 3, **CLAUDE_TOTALS}
    assert {r.key for r in records} == {
        "claude-code:req:req_1",
        "claude-code:req:req_2",
        "claude-code:req:req_3",
    }
    assert all(r.cost_from_upstream and r.provider == "anthropic" for r in records)
    assert {r.session for r in records} == {"s1", "s2"}


@pytest.mark.parametrize("protocol", ["protobuf", "json"])
@pytest.mark.parametrize("temporality", ["delta", "cumulative"])
def test_claude_metrics_alone_give_the_same_tokens_and_cost(
    ledger: OtelLedger, base: str, protocol: str, temporality: str
) -> None:
    with Sender("claude-code", base, protocol, temporality) as sender:  # type: ignore[arg-type]
        send_claude(sender, event=False)
        sender.flush_metrics()
        # a second export interval: delta sends only what is new, cumulative the running sum
        claude_request(
            sender,
            session="s2",
            request_id="req_4",
            model="claude-haiku-4-5",
            inp=5,
            out=5,
            cache_read=0,
            cache_write=0,
            cost=0.00005,
            event=False,
        )
        sender.flush_metrics()
        sender.flush_metrics()  # nothing new: adds nothing in either temporality
    t = totals(ledger.take(FAR_FUTURE))
    assert {k: v for k, v in t.items() if k != "reqs"} == {
        **CLAUDE_TOTALS,
        "input": 1255,
        "output": 1225,
        "cost": round(CLAUDE_TOTALS["cost"] + 0.00005, 9),
    }


@pytest.mark.parametrize("temporality", ["delta", "cumulative"])
def test_the_same_request_as_event_and_metric_counts_once(
    ledger: OtelLedger, base: str, temporality: str
) -> None:
    with Sender("claude-code", base, "protobuf", temporality) as sender:  # type: ignore[arg-type]
        send_claude(sender)  # each request as its event and in the metrics
        sender.flush_metrics()
    records = ledger.take(FAR_FUTURE)
    assert totals(records) == {"reqs": 3, **CLAUDE_TOTALS}
    assert ledger.covered_points > 0  # the metric points were seen and recognised as covered


def test_a_sender_restart_counts_nothing_twice(ledger: OtelLedger, base: str) -> None:
    with Sender("claude-code", base, "protobuf", "cumulative") as first:
        send_claude(first, event=False)
        first.flush_metrics()
        first.flush_metrics()  # the same cumulative values again: nothing added
    with Sender("claude-code", base, "protobuf", "cumulative") as second:  # a new process
        claude_request(
            second,
            session="s1",
            request_id="r9",
            model="claude-sonnet-4-5-20250929",
            inp=100,
            out=10,
            cache_read=0,
            cache_write=0,
            cost=0.01,
            event=False,
        )
        second.flush_metrics()
    t = totals(ledger.take(FAR_FUTURE))
    assert t["input"] == CLAUDE_TOTALS["input"] + 100
    assert t["output"] == CLAUDE_TOTALS["output"] + 10
    assert t["cost"] == round(CLAUDE_TOTALS["cost"] + 0.01, 9)


def test_a_retried_delta_export_replaces_rather_than_adds(ledger: OtelLedger, base: str) -> None:
    """The keys of delta points are stable: the same export twice keeps one set of records."""
    from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.sdk.metrics import Counter, MeterProvider
    from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
    from opentelemetry.sdk.resources import Resource

    reader = InMemoryMetricReader(preferred_temporality={Counter: AggregationTemporality.DELTA})
    provider = MeterProvider(
        resource=Resource.create({"service.name": "claude-code"}), metric_readers=[reader]
    )
    provider.get_meter("claude-code").create_counter("claude_code.cost.usage").add(
        0.5, {"session.id": "s", "model": "claude-opus-4-1"}
    )
    data = reader.get_metrics_data()
    exporter = OTLPMetricExporter(endpoint=f"{base}/v1/metrics", timeout=5)
    try:
        exporter.export(data)
        exporter.export(data)  # a retry of the same export
    finally:
        exporter.shutdown()
        provider.shutdown()
    assert encode_metrics(data).resource_metrics  # the SDK's own encoder made the body
    records = ledger.take(FAR_FUTURE)
    by_key = {r.key: r for r in records}
    assert sum(r.cost_usd or 0 for r in by_key.values()) == pytest.approx(0.5)


@pytest.mark.parametrize("protocol", ["protobuf", "json"])
def test_codex_completed_responses_are_priced_by_burntray(
    ledger: OtelLedger, base: str, protocol: str
) -> None:
    with Sender("codex_cli_rs", base, protocol) as sender:  # type: ignore[arg-type]
        codex_request(sender, conversation="c1", model="gpt-5", inp=10_000, cached=4_000, out=500)
        codex_request(sender, conversation="c1", model="gpt-5", inp=2_000, cached=0, out=100)
    records = ledger.take(FAR_FUTURE)
    assert totals(records)["reqs"] == 2  # only response.completed counts
    assert totals(records)["input"] == 6_000 + 2_000  # uncached input
    assert totals(records)["cache_read"] == 4_000
    assert totals(records)["output"] == 600
    price = build_price_table({}).lookup("openai", "gpt-5")
    assert price is not None
    expected = price.cost_tokens(6_000, 500, 4_000, 0) + price.cost_tokens(2_000, 100, 0, 0)
    assert sum(r.cost_usd or 0 for r in records) == pytest.approx(expected)
    assert not any(r.cost_from_upstream for r in records)
    assert ledger.seen.get("codex.sse_event") == 6


def test_gemini_event_metric_and_genai_histogram_count_each_request_once(
    ledger: OtelLedger, base: str
) -> None:
    with Sender("gemini-cli", base, "protobuf", "cumulative") as sender:
        gemini_request(
            sender,
            session="g1",
            model="gemini-2.5-pro",
            inp=3000,
            cached=1000,
            out=200,
            thoughts=50,
        )
        gemini_request(
            sender, session="g1", model="gemini-2.5-pro", inp=1000, cached=0, out=20, thoughts=0
        )
        sender.flush_metrics()
    t = totals(ledger.take(FAR_FUTURE))
    assert (t["reqs"], t["input"], t["cache_read"], t["output"]) == (2, 3000, 1000, 270)


def test_gemini_metrics_alone_split_cache_out_of_input(ledger: OtelLedger, base: str) -> None:
    with Sender("gemini-cli", base, "protobuf", "delta") as sender:
        gemini_request(
            sender,
            session="g2",
            model="gemini-2.5-flash",
            inp=3000,
            cached=1000,
            out=200,
            thoughts=50,
            event=False,
        )
        sender.flush_metrics()
    t = totals(ledger.take(FAR_FUTURE))
    # the GenAI histogram repeats the tool's own metric: used only when nothing else came
    assert (t["input"], t["cache_read"], t["output"]) == (2000, 1000, 250)


def test_genai_histogram_alone_counts_requests_and_tokens(ledger: OtelLedger, base: str) -> None:
    with Sender("some-agent", base, "json", "delta") as sender:
        for _ in range(3):
            gemini_request(
                sender,
                session="",
                model="gemini-2.5-flash",
                inp=100,
                cached=0,
                out=10,
                thoughts=0,
                event=False,
                metric=False,
            )
        sender.flush_metrics()
    records = ledger.take(FAR_FUTURE)
    t = totals(records)
    assert (t["reqs"], t["input"], t["output"]) == (3, 300, 30)
    assert {r.provider for r in records} == {"google"}


def test_metric_points_wait_out_the_grace_for_late_events(base: str) -> None:
    """A metric point is held back; if its session's events arrive meanwhile, it is dropped."""
    ledger = OtelLedger(build_price_table({}), grace_ns=3600 * 10**9)
    with (
        receiving(ledger.on_export) as receiver,
        Sender("claude-code", f"http://127.0.0.1:{receiver.port}", "protobuf") as sender,
    ):
        send_claude(sender, event=False)
        sender.flush_metrics()
        assert ledger.take(0) == []  # held
        send_claude(sender, metric=False)  # the events come late
    t = totals(ledger.take(FAR_FUTURE))
    assert t == {"reqs": 3, **CLAUDE_TOTALS}


def test_unknown_names_are_tallied_as_ignored(ledger: OtelLedger, base: str) -> None:
    with Sender("claude-code", base) as sender:
        sender.event("claude_code.user_prompt", {"prompt_length": "12"})
        sender.counter("claude_code.lines_of_code.count").add(3, {"type": "added"})
        sender.flush_metrics()
    assert ledger.take(FAR_FUTURE) == []
    assert ledger.ignored == {"claude_code.user_prompt": 1, "claude_code.lines_of_code.count": 1}
