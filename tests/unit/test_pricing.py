from __future__ import annotations

import json
from pathlib import Path

import pytest

from burntray.model.pricing import (
    SNAPSHOT_AS_OF,
    PriceFileError,
    build_price_table,
    normalise_model,
)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("anthropic/claude-sonnet-4.5", "claude-sonnet-4-5"),
        ("claude-3-5-haiku-20241022", "claude-3-5-haiku"),
        ("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"),
        ("mistral-large-latest", "mistral-large"),
        ("GPT-4o", "gpt-4o"),
        ("deepseek/deepseek-chat:free", "deepseek-chat"),
        ("gemini-2.5-pro", "gemini-2.5-pro"),
    ],
)
def test_normalise_model(raw: str, key: str) -> None:
    assert normalise_model(raw) == key


def test_lookup_table_local_and_unpriced() -> None:
    table = build_price_table()
    price = table.lookup("openrouter", "anthropic/claude-sonnet-4.5")
    assert price is not None and (price.input, price.output) == (3.0, 15.0)
    assert table.lookup("ollama", "kimi-k2.6") is not None
    assert table.lookup("ollama", "kimi-k2.6").cost(1e6, 1e6) == 0.0  # type: ignore[union-attr]
    assert table.lookup("openai", "gpt-4o-mini-search-preview").key == "gpt-4o-mini"  # type: ignore[union-attr]
    assert table.lookup("acme", "mystery-model-9") is None
    assert table.lookup("openrouter", "deepseek/deepseek-chat:free").cost(1e6, 1e6) == 0.0  # type: ignore[union-attr]


def test_overrides_beat_litellm_beat_table(tmp_path: Path) -> None:
    litellm = tmp_path / "prices.json"
    litellm.write_text(
        json.dumps(
            {
                "sample_spec": {"input_cost_per_token": "skip me"},
                "gpt-4.1": {
                    "input_cost_per_token": 1e-6,
                    "output_cost_per_token": 2e-6,
                    "litellm_provider": "openai",
                },
                "acme-1": {"input_cost_per_token": 5e-6, "output_cost_per_token": 6e-6},
                "dall-e": {"output_cost_per_image": 0.04},
            }
        )
    )
    table = build_price_table({"acme-1": {"input": 9.0, "output": 9.5}}, litellm)
    assert table.lookup("openai", "gpt-4.1").input == pytest.approx(1.0)  # type: ignore[union-attr]
    assert table.lookup("openai", "gpt-4.1").origin == "litellm"  # type: ignore[union-attr]
    acme = table.lookup("acme", "acme-1")
    assert acme is not None and (acme.input, acme.origin) == (9.0, "override")
    assert table.lookup("openai", "gpt-4o").origin == "snapshot"  # type: ignore[union-attr]
    assert table.lookup("mistral", "codestral").origin == "table"  # type: ignore[union-attr]
    assert table.lookup("x", "dall-e") is None
    assert table.sources == (
        "bundled table",
        f"LiteLLM snapshot {SNAPSHOT_AS_OF}",
        f"LiteLLM file {litellm}",
        "config overrides",
    )


def test_bad_litellm_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "prices.json"
    bad.write_text("{not json")
    with pytest.raises(PriceFileError, match=r"prices\.json: not valid JSON"):
        build_price_table(None, bad)
    with pytest.raises(PriceFileError, match="cannot read"):
        build_price_table(None, tmp_path / "missing.json")
