"""One price file: every built-in price is a row of the shipped LiteLLM-format file.

``HAND_PRICED`` was generated, before the hand-written table was deleted, by looking up each of
its 52 model keys in the table then in force (the hand rows with the LiteLLM snapshot over them):
(key, input, output, cache read, cache write, the four above-200k rates, 1-hour cache write,
fast multiplier), USD per million tokens. The one file must charge every one of them the same.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

import burntray
from burntray.model.price_table import PRICES_FILE
from burntray.model.pricing import (
    BUILT_IN_PRICES,
    _shipped_bytes,
    build_price_table,
    parse_litellm_prices,
)

PACKAGE = Path(burntray.__file__).parent

# No above-200k rates, no 1-hour cache-write rate, no fast multiplier.
NO_TIERS = (None, None, None, None, None, 1.0)
# model -> what the old tables charged: (model, price key, input, output, cache read, cache write,
# input/output/cache read/cache write above 200k, 1-hour cache write, fast multiplier)
HAND_PRICED: list[tuple[str | float | None, ...]] = [
    ("gpt-5", "gpt-5", 1.25, 10.0, 0.125, None, *NO_TIERS),
    ("gpt-5-codex", "gpt-5-codex", 1.25, 10.0, 0.125, None, *NO_TIERS),
    ("gpt-5-mini", "gpt-5-mini", 0.25, 2.0, 0.024999999999999998, None, *NO_TIERS),
    ("gpt-5-nano", "gpt-5-nano", 0.049999999999999996, 0.39999999999999997, 0.005, None, *NO_TIERS),
    ("gpt-5-pro", "gpt-5-pro", 15.0, 120.0, None, None, *NO_TIERS),
    ("gpt-5.1", "gpt-5.1", 1.25, 10.0, 0.125, None, *NO_TIERS),
    ("gpt-5.1-codex", "gpt-5.1-codex", 1.25, 10.0, 0.125, None, *NO_TIERS),
    ("gpt-4.1", "gpt-4.1", 2.0, 8.0, 0.5, None, *NO_TIERS),
    (
        "gpt-4.1-mini",
        "gpt-4.1-mini",
        0.39999999999999997,
        1.5999999999999999,
        0.09999999999999999,
        None,
        *NO_TIERS,
    ),
    (
        "gpt-4.1-nano",
        "gpt-4.1-nano",
        0.09999999999999999,
        0.39999999999999997,
        0.024999999999999998,
        None,
        *NO_TIERS,
    ),
    ("gpt-4o", "gpt-4o", 2.5, 10.0, 1.25, None, *NO_TIERS),
    ("gpt-4o-mini", "gpt-4o-mini", 0.15, 0.6, 0.075, None, *NO_TIERS),
    ("o1", "o1", 15.0, 60.0, 7.5, None, *NO_TIERS),
    ("o3", "o3", 2.0, 8.0, 0.5, None, *NO_TIERS),
    ("o3-pro", "o3-pro", 20.0, 80.0, None, None, *NO_TIERS),
    ("o3-mini", "o3-mini", 1.1, 4.4, 0.55, None, *NO_TIERS),
    ("o4-mini", "o4-mini", 1.1, 4.4, 0.275, None, *NO_TIERS),
    # a dead hand row: its key normalised to "codex-mini", so it never matched; now it does
    ("codex-mini-latest", "codex-mini-latest", 1.5, 6.0, 0.375, None, *NO_TIERS),
    ("claude-opus-4-6", "claude-opus-4-6", 5.0, 25.0, 0.5, 6.25, None, None, None, None, 10.0, 1.0),
    ("claude-opus-4-5", "claude-opus-4-5", 5.0, 25.0, 0.5, 6.25, None, None, None, None, 10.0, 1.0),
    (
        "claude-opus-4-1",
        "claude-opus-4-1",
        15.0,
        75.0,
        1.5,
        18.75,
        None,
        None,
        None,
        None,
        30.0,
        1.0,
    ),
    (
        "claude-opus-4",
        "claude-opus-4-20250514",
        15.0,
        75.0,
        1.5,
        18.75,
        None,
        None,
        None,
        None,
        30.0,
        1.0,
    ),
    (
        "claude-sonnet-4-6",
        "claude-sonnet-4-6",
        3.0,
        15.0,
        0.3,
        3.75,
        None,
        None,
        None,
        None,
        6.0,
        1.0,
    ),
    ("claude-sonnet-4-5", "claude-sonnet-4-5", 3.0, 15.0, 0.3, 3.75, 6.0, 22.5, 0.6, 7.5, 6.0, 1.0),
    (
        "claude-sonnet-4",
        "claude-sonnet-4-20250514",
        3.0,
        15.0,
        0.3,
        3.75,
        6.0,
        22.5,
        0.6,
        7.5,
        6.0,
        1.0,
    ),
    (
        "claude-3-7-sonnet",
        "claude-3-7-sonnet-20250219",
        3.0,
        15.0,
        0.3,
        3.75,
        None,
        None,
        None,
        None,
        6.0,
        1.0,
    ),
    (
        "claude-3-5-sonnet",
        "claude-3-5-sonnet-20241022",
        3.0,
        15.0,
        0.3,
        3.75,
        None,
        None,
        None,
        None,
        6.0,
        1.0,
    ),
    (
        "claude-haiku-4-5",
        "claude-haiku-4-5",
        1.0,
        5.0,
        0.09999999999999999,
        1.25,
        None,
        None,
        None,
        None,
        2.0,
        1.0,
    ),
    (
        "claude-3-5-haiku",
        "claude-3-5-haiku-20241022",
        0.7999999999999999,
        4.0,
        0.08,
        1.0,
        None,
        None,
        None,
        None,
        1.5999999999999999,
        1.0,
    ),
    (
        "claude-3-haiku",
        "claude-3-haiku-20240307",
        0.25,
        1.25,
        0.024999999999999998,
        0.3125,
        None,
        None,
        None,
        None,
        0.5,
        1.0,
    ),
    (
        "claude-3-opus",
        "claude-3-opus-20240229",
        15.0,
        75.0,
        1.5,
        18.75,
        None,
        None,
        None,
        None,
        30.0,
        1.0,
    ),
    ("gemini-3-pro-preview", "gemini-3-pro-preview", 2.0, 12.0, 0.2, None, *NO_TIERS),
    ("gemini-2.5-pro", "gemini-2.5-pro", 1.25, 10.0, 0.125, None, *NO_TIERS),
    ("gemini-2.5-flash", "gemini-2.5-flash", 0.3, 2.5, 0.03, None, *NO_TIERS),
    ("gemini-2.5-flash-lite", "gemini-2.5-flash-lite", 0.1, 0.4, 0.01, None, *NO_TIERS),
    ("gemini-2.0-flash", "gemini-2.0-flash", 0.1, 0.4, 0.025, None, *NO_TIERS),
    ("gemini-2.0-flash-lite", "gemini-2.0-flash-lite", 0.075, 0.3, None, None, *NO_TIERS),
    ("deepseek-chat", "deepseek-chat", 0.28, 0.42, 0.028, None, *NO_TIERS),
    ("deepseek-reasoner", "deepseek-reasoner", 0.28, 0.42, 0.028, None, *NO_TIERS),
    ("deepseek-v3.2", "deepseek-v3.2", 0.28, 0.42, 0.028, None, *NO_TIERS),
    ("mistral-large", "mistral-large", 2.0, 6.0, None, None, *NO_TIERS),
    ("mistral-medium", "mistral-medium", 0.4, 2.0, None, None, *NO_TIERS),
    ("mistral-small", "mistral-small", 0.1, 0.3, None, None, *NO_TIERS),
    ("codestral", "codestral", 0.3, 0.9, None, None, *NO_TIERS),
    ("devstral-medium", "devstral-medium", 0.4, 2.0, None, None, *NO_TIERS),
    ("devstral-small", "devstral-small", 0.1, 0.3, None, None, *NO_TIERS),
    ("grok-4", "grok-4", 3.0, 15.0, 0.75, None, *NO_TIERS),
    ("grok-4-fast", "grok-4-fast", 0.2, 0.5, 0.05, None, *NO_TIERS),
    ("grok-code-fast-1", "grok-code-fast-1", 0.2, 1.5, 0.02, None, *NO_TIERS),
    ("grok-3", "grok-3", 3.0, 15.0, 0.75, None, *NO_TIERS),
    ("grok-3-mini", "grok-3-mini", 0.3, 0.5, 0.075, None, *NO_TIERS),
    ("kimi-k2", "kimi-k2", 0.6, 2.5, 0.15, None, *NO_TIERS),
]


@pytest.mark.parametrize("row", HAND_PRICED, ids=[str(row[0]) for row in HAND_PRICED])
def test_every_previously_hand_priced_model_costs_the_same(row: tuple[object, ...]) -> None:
    model, charged = str(row[0]), row[1:]
    price = build_price_table().lookup("hexai-provider", model)
    assert price is not None
    assert price.origin == "table"
    rates = (
        price.key, price.input, price.output, price.cache_read, price.cache_write,
        price.input_above_200k, price.output_above_200k, price.cache_read_above_200k,
        price.cache_write_above_200k, price.cache_write_1h, price.fast_multiplier,
    )  # fmt: skip
    assert rates == charged  # exactly: not one cent moves


def test_the_built_in_prices_are_the_shipped_file_and_nothing_else() -> None:
    """One source of rows: every key the built-in table knows is parsed from the one dated file,
    and that file is the only price file in the package data."""
    assert sorted(p.name for p in (PACKAGE / "data").glob("prices-*.json")) == [PRICES_FILE]
    from_file = parse_litellm_prices(json.loads(_shipped_bytes()), origin="table")
    assert dict(BUILT_IN_PRICES) == from_file


_MODEL_NAME = re.compile(
    r"^(gpt|o[0-9]|codex|claude|gemini|deepseek|mistral|codestral|devstral|grok|kimi)"
)


def _is_number(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, int | float)


def _price_row(node: ast.expr | None) -> bool:
    """A literal that reads as a price: a number, or a tuple/list/dict of numbers (or None)."""
    if node is None or _is_number(node):
        return node is not None
    if isinstance(node, ast.Tuple | ast.List):
        return any(_is_number(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return any(_is_number(v) for v in node.values)
    if isinstance(node, ast.Call):  # Price(1.0, 2.0, ...)
        return any(_is_number(a) for a in node.args)
    return False


def test_no_module_defines_literal_per_model_price_rows() -> None:
    """A second, hand-written price table would shadow or be shadowed by the file: no module of
    the package may hold a literal mapping of model names to prices."""
    found = []
    for module in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Dict):
                continue
            rows = [
                key.value
                for key, value in zip(node.keys, node.values, strict=True)
                if isinstance(key, ast.Constant)
                and isinstance(key.value, str)
                and _MODEL_NAME.match(key.value)
                and _price_row(value)
            ]
            if len(rows) >= 2:
                found.append(f"{module.relative_to(PACKAGE)}:{node.lineno}: {rows[:3]}")
    assert found == []
