"""The shipped price file: which one, its date, and when it is too old to pass without a word.

Every built-in price is a row of one LiteLLM-format file shipped as package data
(``burntray/data/prices-<date>.json``, USD per token, read by ``pricing``). Its date is in its
name and here, so a command that prices nothing (``burntray status`` from tmux, every few
seconds) knows it without reading the file. Users correct or extend the rows with
``[pricing.models]`` in config.toml or their own LiteLLM price file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

_Row = TypeVar("_Row")

PRICES_AS_OF = "2026-11-29"
PRICES_FILE = f"prices-{PRICES_AS_OF}.json"
# About 4 months: vendors add models and change list prices more often than that.
STALE_AFTER_DAYS = 120


def price_table_age(now_ns: int, as_of: str = PRICES_AS_OF) -> str:
    """A warning when the shipped price file is dated more than ``STALE_AFTER_DAYS`` before
    ``now_ns``, else "". ``doctor`` and the report show it: costs may be off by what changed
    since, and the warning says how to bring the prices up to date."""
    import datetime as _dt  # noqa: PLC0415 - only here: every `burntray status` loads the table

    try:
        dated = _dt.date.fromisoformat(as_of)
    except ValueError:
        return ""
    today = _dt.datetime.fromtimestamp(now_ns / 1e9, _dt.UTC).date()
    days = (today - dated).days
    if days <= STALE_AFTER_DAYS:
        return ""
    return (
        f"the shipped price file is dated {as_of}, {days} days ago: prices may have changed "
        "since; refresh them with a current LiteLLM price file (litellm_file under [pricing] "
        "in config.toml, e.g. LiteLLM's model_prices_and_context_window.json), [pricing.models] "
        "rows, or a newer burntray"
    )


# Providers that run models on the user's own machine: their requests cost nothing.
LOCAL_PROVIDERS = frozenset({"ollama", "lmstudio", "lm-studio", "llamacpp", "llama.cpp", "local"})


class LazyRows(Mapping[str, _Row]):
    """A price file's rows by key, each made by ``make(name, entry)`` when first asked for and
    then kept (the keys of one entry share it). ``index`` maps each key to its entry's name in
    ``entries``. Making all of the shipped file's rows was most of the cost of reading it, and
    a warm ``status`` prices a few models."""

    __slots__ = ("_entries", "_index", "_made", "_make")

    def __init__(
        self,
        entries: Mapping[str, Any],
        index: dict[str, str],
        make: Callable[[str, Mapping[str, Any]], _Row],
    ) -> None:
        self._entries, self._index, self._make = entries, index, make
        self._made: dict[str, _Row] = {}

    def __getitem__(self, key: str) -> _Row:
        name = self._index[key]
        if name not in self._made:
            self._made[name] = self._make(name, self._entries[name])
        return self._made[name]

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)
