"""The bundled price table: USD per million tokens, by model.

One dated table in one place (declare, don't scatter). Keys are normalised model names (see
``pricing.normalise_model``). Each row: input, output, cache read, cache write (5 min). Rows are
public list prices as published by each vendor; ``PRICES_AS_OF`` says when they were checked.
Users correct or extend them with ``[pricing.models]`` in config.toml or a LiteLLM price file.
"""

from __future__ import annotations

PRICES_AS_OF = "2025-11-01"
STALE_AFTER_DAYS = 183  # about 6 months: vendors change list prices more often than that


def price_table_age(now_ns: int, as_of: str = PRICES_AS_OF) -> str:
    """A warning when the bundled table was checked more than 6 months before ``now_ns``, else
    "". ``doctor`` and the report show it: costs may be off by what changed since."""
    import datetime as _dt  # noqa: PLC0415 - only here: every `burntray status` loads the table

    try:
        checked = _dt.date.fromisoformat(as_of)
    except ValueError:
        return ""
    today = _dt.datetime.fromtimestamp(now_ns / 1e9, _dt.UTC).date()
    days = (today - checked).days
    if days <= STALE_AFTER_DAYS:
        return ""
    return (
        f"the bundled price table was checked {as_of}, {days // 30} months ago: prices may "
        "have changed since; correct them with [pricing.models] in config.toml or a LiteLLM "
        "price file"
    )


# model key: (input, output, cache_read, cache_write)  - USD per 1M tokens
PRICES: dict[str, tuple[float, float, float | None, float | None]] = {
    # OpenAI
    "gpt-5": (1.25, 10.00, 0.125, None),
    "gpt-5-codex": (1.25, 10.00, 0.125, None),
    "gpt-5-mini": (0.25, 2.00, 0.025, None),
    "gpt-5-nano": (0.05, 0.40, 0.005, None),
    "gpt-5-pro": (15.00, 120.00, None, None),
    "gpt-5.1": (1.25, 10.00, 0.125, None),
    "gpt-5.1-codex": (1.25, 10.00, 0.125, None),
    "gpt-4.1": (2.00, 8.00, 0.50, None),
    "gpt-4.1-mini": (0.40, 1.60, 0.10, None),
    "gpt-4.1-nano": (0.10, 0.40, 0.025, None),
    "gpt-4o": (2.50, 10.00, 1.25, None),
    "gpt-4o-mini": (0.15, 0.60, 0.075, None),
    "o1": (15.00, 60.00, 7.50, None),
    "o3": (2.00, 8.00, 0.50, None),
    "o3-pro": (20.00, 80.00, None, None),
    "o3-mini": (1.10, 4.40, 0.55, None),
    "o4-mini": (1.10, 4.40, 0.275, None),
    "codex-mini-latest": (1.50, 6.00, 0.375, None),
    # Anthropic
    "claude-opus-4-6": (5.00, 25.00, 0.50, 6.25),
    "claude-opus-4-5": (5.00, 25.00, 0.50, 6.25),
    "claude-opus-4-1": (15.00, 75.00, 1.50, 18.75),
    "claude-opus-4": (15.00, 75.00, 1.50, 18.75),
    "claude-sonnet-4-6": (3.00, 15.00, 0.30, 3.75),
    "claude-sonnet-4-5": (3.00, 15.00, 0.30, 3.75),
    "claude-sonnet-4": (3.00, 15.00, 0.30, 3.75),
    "claude-3-7-sonnet": (3.00, 15.00, 0.30, 3.75),
    "claude-3-5-sonnet": (3.00, 15.00, 0.30, 3.75),
    "claude-haiku-4-5": (1.00, 5.00, 0.10, 1.25),
    "claude-3-5-haiku": (0.80, 4.00, 0.08, 1.00),
    "claude-3-haiku": (0.25, 1.25, 0.03, 0.30),
    "claude-3-opus": (15.00, 75.00, 1.50, 18.75),
    # Google
    "gemini-3-pro-preview": (2.00, 12.00, 0.20, None),
    "gemini-2.5-pro": (1.25, 10.00, 0.125, None),
    "gemini-2.5-flash": (0.30, 2.50, 0.03, None),
    "gemini-2.5-flash-lite": (0.10, 0.40, 0.01, None),
    "gemini-2.0-flash": (0.10, 0.40, 0.025, None),
    "gemini-2.0-flash-lite": (0.075, 0.30, None, None),
    # DeepSeek
    "deepseek-chat": (0.28, 0.42, 0.028, None),
    "deepseek-reasoner": (0.28, 0.42, 0.028, None),
    "deepseek-v3.2": (0.28, 0.42, 0.028, None),
    # Mistral
    "mistral-large": (2.00, 6.00, None, None),
    "mistral-medium": (0.40, 2.00, None, None),
    "mistral-small": (0.10, 0.30, None, None),
    "codestral": (0.30, 0.90, None, None),
    "devstral-medium": (0.40, 2.00, None, None),
    "devstral-small": (0.10, 0.30, None, None),
    # xAI
    "grok-4": (3.00, 15.00, 0.75, None),
    "grok-4-fast": (0.20, 0.50, 0.05, None),
    "grok-code-fast-1": (0.20, 1.50, 0.02, None),
    "grok-3": (3.00, 15.00, 0.75, None),
    "grok-3-mini": (0.30, 0.50, 0.075, None),
    # Moonshot
    "kimi-k2": (0.60, 2.50, 0.15, None),
}

# Providers that run models on the user's own machine: their requests cost nothing.
LOCAL_PROVIDERS = frozenset({"ollama", "lmstudio", "lm-studio", "llamacpp", "llama.cpp", "local"})
