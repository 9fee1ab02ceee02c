"""The receiver's bound on model names (``otel.max_models``): names past it are counted as model
"other" with exact totals, in events and metric points alike; places are freed by disuse, kept
across a restart, and senders' own tool names (GenAI ``service.name``) are bounded too."""

from __future__ import annotations

import json
import logging
import tomllib

import pytest

from burntray.config import ConfigError, Settings, settings_from_toml
from burntray.model.pricing import build_price_table
from burntray.sources.otel.ledger import OtelLedger
from burntray.sources.otel.mapping import DELTA, Decoded, MetricPoint, UsageEvent
from burntray.sources.otel.names import IDLE_NS, MAX_TOOLS, OTHER_TOOL, NameBound

S = 10**9
NOW = 1_800_000_000 * S
PRICES = build_price_table({})


def event(i: int, model: str, tool: str = "claude-code", cost: float | None = 0.01) -> UsageEvent:
    provider = {"claude-code": "anthropic", "codex": "openai"}.get(tool, "acme")
    return UsageEvent(tool, provider, model, "s", NOW, 10, 5, 0, 0, cost, f"{tool}:req:{i}")


def test_models_past_the_bound_count_as_other_with_exact_totals(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ledger = OtelLedger(PRICES, grace_ns=0, max_models=10)
    with caplog.at_level(logging.WARNING, "burntray.sources.otel.names"):
        ledger.add(Decoded(events=[event(i, f"model-{i}") for i in range(500)]), NOW)
    assert [r.getMessage() for r in caplog.records] == [  # said once, not 490 times
        "otel: claude-code sent over 10 model names; requests of further ones are counted as "
        'model "other" (totals stay exact; otel.max_models raises the bound)'
    ]
    records = ledger.take(NOW)
    assert len(records) == 500
    assert sum(r.cost_usd or 0 for r in records) == pytest.approx(5.0)
    assert len({r.model for r in records}) == 11  # ten kept, and "other"
    assert sum(r.model == "other" for r in records) == 490
    assert {r.provider for r in records if r.model == "other"} == {"anthropic"}
    assert ledger.names.folded == {"claude-code": 490}
    assert ledger.names.folded_since_start() == {"claude-code": 490}
    # a kept name stays kept, and each tool has its own places
    ledger.add(Decoded(events=[event(900, "model-3"), event(901, "gpt-x", tool="codex")]), NOW)
    assert [r.model for r in ledger.take(NOW)] == ["model-3", "gpt-x"]


def test_a_folded_model_is_priced_under_its_own_name() -> None:
    prices = build_price_table({"pricey": {"input": 1000.0, "output": 2000.0}})
    price = prices.lookup("acme", "pricey")
    assert price is not None
    ledger = OtelLedger(prices, grace_ns=0, max_models=1)
    ledger.add(
        Decoded(events=[event(1, "cheap", "genai:x", None), event(2, "pricey", "genai:x", None)]),
        NOW,
    )
    _cheap, second = ledger.take(NOW)
    assert (second.provider, second.model) == ("other", "other")  # "acme" is not a known one
    assert second.cost_usd == pytest.approx(price.cost_tokens(10, 5, 0, 0))
    assert second.cost_usd > 0


def test_metric_points_are_folded_after_pricing_too() -> None:
    ledger = OtelLedger(PRICES, grace_ns=0, max_models=3)

    def point(i: int) -> MetricPoint:
        return MetricPoint(
            "claude-code", "anthropic", f"m{i}", "s", "cost", f"series-{i}", DELTA, NOW - S,
            NOW, 0.5,
        )  # fmt: skip

    points = [point(i) for i in range(20)]
    ledger.add(Decoded(points=points), NOW)
    records = ledger.take(NOW + S)
    assert sum(r.cost_usd or 0 for r in records) == pytest.approx(10.0)
    assert sorted({r.model for r in records}) == ["m0", "m1", "m2", "other"]
    assert ledger.names.folded == {"claude-code": 17}


def test_an_unused_name_gives_its_place_up() -> None:
    bound = NameBound(limit=2)
    assert bound.fold("codex", "openai", "a", NOW) == ("openai", "a")
    assert bound.fold("codex", "openai", "b", NOW + S) == ("openai", "b")
    assert bound.fold("codex", "openai", "c", NOW + 2 * S) == ("openai", "other")
    # "a" unused for IDLE_NS: "c" takes its place; "b" was used since and stays
    assert bound.fold("codex", "openai", "b", NOW + IDLE_NS) == ("openai", "b")
    assert bound.fold("codex", "openai", "c", NOW + IDLE_NS + S) == ("openai", "c")
    assert bound.fold("codex", "openai", "a", NOW + IDLE_NS + S) == ("openai", "other")


def test_places_and_folds_survive_a_restart() -> None:
    first = OtelLedger(PRICES, grace_ns=0, max_models=5)
    first.add(Decoded(events=[event(i, f"m{i}") for i in range(8)]), NOW)
    first.take(NOW)
    state = first.save_state()
    second = OtelLedger(PRICES, grace_ns=0, max_models=5)
    second.load_state(state)
    second.add(Decoded(events=[event(100, "m1"), event(101, "brand-new")]), NOW)
    assert [r.model for r in second.take(NOW)] == ["m1", "other"]
    assert second.names.folded == {"claude-code": 4}  # 3 before the restart, 1 after
    assert second.names.folded_since_start() == {"claude-code": 1}
    # a bound lowered since keeps the most recently used names
    third = OtelLedger(PRICES, grace_ns=0, max_models=2)
    third.load_state(state)
    assert third.names.models("claude-code") == 2


def test_a_malformed_saved_state_is_skipped() -> None:
    ledger = OtelLedger(PRICES, grace_ns=0, max_models=5)
    bad = {"names": {"places": {"codex": [["openai", "a", "x"], 7, ["openai", "b", 1]]}}}
    ledger.load_state(json.dumps(bad))
    assert ledger.names.models("codex") == 1
    ledger.load_state(json.dumps({"names": ["not", "a", "dict"]}))


def test_genai_senders_named_by_service_are_bounded() -> None:
    bound = NameBound(limit=1)
    for i in range(500):
        bound.fold(f"genai:svc-{i}", "acme", f"m{i}", NOW)
    tools = bound.state()["places"]
    assert len(tools) == MAX_TOOLS
    assert OTHER_TOOL in tools
    # the tools burntray knows always keep places of their own
    assert bound.fold("claude-code", "anthropic", "claude-x", NOW) == ("anthropic", "claude-x")
    assert bound.folded[OTHER_TOOL] > 0


@pytest.mark.parametrize("value", [0, -1, 10_001, "100", 2.5, True])
def test_otel_max_models_must_be_a_sane_whole_number(value: object) -> None:
    with pytest.raises(ConfigError, match=r"otel\.max_models"):
        settings_from_toml(tomllib.loads(f"[otel]\nmax_models = {json.dumps(value)}\n"))


def test_otel_max_models_is_read_from_config() -> None:
    settings = settings_from_toml({"otel": {"max_models": 7}})
    assert settings.option("otel.max_models") == 7
    assert Settings().option("otel.max_models") == 100
