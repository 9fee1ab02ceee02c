"""Pricing: which price applies to a provider/model, and what a usage costs.

A model with no price is never silently $0: ``PriceTable.lookup`` returns ``None`` and callers
count such requests as unpriced. Local providers (ollama, ...) are priced at 0 on purpose.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Literal

from msgspec import Struct, field

from burntray.io.bounded_read import MiB, UnsafeFileError, read_regular_file
from burntray.model.price_table import (
    LOCAL_PROVIDERS,
    PRICES_AS_OF,
    PRICES_FILE,
    LazyRows,
    price_table_age,
)

# "table": the shipped price file; "litellm": the user's own LiteLLM file.
PriceOrigin = Literal["table", "override", "litellm", "local"]
_DATE_SUFFIX = re.compile(r"-(?:[0-9]{8}|[0-9]{4}-[0-9]{2}-[0-9]{2})$")
_DOTTED_VERSION = re.compile(r"(?<=[0-9])\.(?=[0-9])")


# Anthropic's long-context tier: the tokens of one field above this many use the ``*_above_200k``
# rate (LiteLLM's ``*_above_200k_tokens`` fields).
TIER_THRESHOLD_TOKENS = 200_000


class Price(Struct, frozen=True):
    """USD per million tokens.

    The optional fields after ``key`` are what coding-agent logs need to be priced exactly:
    the rates above 200k tokens (per field, None = no tier), the 1-hour cache-write rate (None =
    twice the input rate, Anthropic's rule) and the multiplier for "fast" requests.
    """

    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None
    origin: PriceOrigin = "table"
    key: str = ""
    input_above_200k: float | None = None
    output_above_200k: float | None = None
    cache_read_above_200k: float | None = None
    cache_write_above_200k: float | None = None
    cache_write_1h: float | None = None
    fast_multiplier: float = 1.0

    def cost(self, input_tokens: float, output_tokens: float) -> float:
        return (input_tokens * self.input + output_tokens * self.output) / 1_000_000

    def cost_tokens(
        self, input_tokens: float, output_tokens: float, cache_read: float, cache_write: float
    ) -> float:
        """Cost of real token counts; ``input_tokens`` is uncached input.

        Cache reads and writes use their own rates where the table has them; without one, a cache
        read costs the input rate and a cache write the input rate too (what the provider bills
        when it states no discount), so a missing rate never makes tokens free.
        """
        read_rate = self.cache_read if self.cache_read is not None else self.input
        write_rate = self.cache_write if self.cache_write is not None else self.input
        return (
            input_tokens * self.input
            + output_tokens * self.output
            + cache_read * read_rate
            + cache_write * write_rate
        ) / 1_000_000

    def tiered_cost(
        self,
        input_tokens: int,
        output_tokens: int,
        cache_read_tokens: int,
        cache_write_5m_tokens: int,
        cache_write_1h_tokens: int = 0,
        *,
        fast: bool = False,
    ) -> float:
        """USD for one request, each field priced on its own with the 200k tier.

        Missing cache rates follow Anthropic's rule (and ccusage's): a cache write costs 1.25x
        input, a cache read 0.1x input, a 1-hour cache write 2x input (2x the tiered input rate
        above 200k).
        """
        cache_write = self.cache_write if self.cache_write is not None else self.input * 1.25
        cache_read = self.cache_read if self.cache_read is not None else self.input * 0.1
        write_1h = self.cache_write_1h if self.cache_write_1h is not None else self.input * 2
        write_1h_above = None if self.input_above_200k is None else self.input_above_200k * 2
        total = (
            _tiered(input_tokens, self.input, self.input_above_200k)
            + _tiered(output_tokens, self.output, self.output_above_200k)
            + _tiered(cache_write_5m_tokens, cache_write, self.cache_write_above_200k)
            + _tiered(cache_write_1h_tokens, write_1h, write_1h_above)
            + _tiered(cache_read_tokens, cache_read, self.cache_read_above_200k)
        )
        return total * (self.fast_multiplier if fast else 1.0) / 1_000_000


def _tiered(tokens: int, base: float, above: float | None) -> float:
    """Per-million-token cost of ``tokens`` where those past the threshold use ``above``."""
    if above is not None and tokens > TIER_THRESHOLD_TOKENS:
        return TIER_THRESHOLD_TOKENS * base + (tokens - TIER_THRESHOLD_TOKENS) * above
    return tokens * base


def normalise_model(model: str) -> str:
    """Reduce a model id to a table key.

    ``anthropic/claude-sonnet-4.5`` -> ``claude-sonnet-4-5``; ``gpt-4.1-mini-2025-04-14`` ->
    ``gpt-4.1-mini``; ``mistral-large-latest`` -> ``mistral-large``; ``x:free`` keeps its tag
    out of the name (the caller decides what ``:free`` means).
    """
    name = model.strip().lower()
    name = name.rsplit("/", 1)[-1]
    name = name.split(":", 1)[0].split("@", 1)[0]
    name = _DATE_SUFFIX.sub("", name)
    name = name.removesuffix("-latest")
    if name.startswith("claude-"):
        name = _DOTTED_VERSION.sub("-", name)
        name = re.sub(r"-v[0-9]+$", "", name)  # Bedrock-style "-v1"
    return name


class PriceTable(Struct, frozen=True):
    """The shipped prices plus the user's overrides; immutable so snapshots can share it."""

    prices: Mapping[str, Price]
    overrides: Mapping[str, Price] = field(default_factory=dict)
    as_of: str = PRICES_AS_OF
    added_sources: tuple[str, ...] = ()  # a LiteLLM file and config overrides, when in force
    problem: str = ""  # why a configured price file is not in use ("" when none is wrong)
    litellm_file_in_force: bool = False

    @property
    def sources(self) -> tuple[str, ...]:
        """Where the prices come from, for people: the bundled table (the shipped price file,
        when it could be read), then ``added_sources``."""
        # The lazy shipped table answers from the file's presence: JSON output lists the sources
        # on every run, and parsing the file for that would cost a command that prices nothing.
        if self.prices is BUILT_IN_PRICES:
            has_shipped = _shipped_bytes_cached() != b""
        else:
            has_shipped = bool(self.prices)
        shipped = ("bundled table",) if has_shipped else ()
        return (*shipped, *self.added_sources)

    def age_warning(self, now_ns: int) -> str:
        """Why the prices may be out of date at ``now_ns`` ("" when they are not): the shipped
        file's age, unless the user's own LiteLLM file is in force - they have refreshed them."""
        return "" if self.litellm_file_in_force else price_table_age(now_ns, self.as_of)

    def lookup(self, provider: str, model: str) -> Price | None:
        provider_l = provider.strip().lower()
        raw = model.strip().lower()
        for key in (f"{provider_l}/{raw}", raw, f"{provider_l}/{normalise_model(raw)}"):
            if key in self.overrides:
                return self.overrides[key]
        key = normalise_model(raw)
        if key in self.overrides:
            return self.overrides[key]
        if provider_l in LOCAL_PROVIDERS:
            return Price(0.0, 0.0, 0.0, 0.0, origin="local", key=provider_l)
        if raw.endswith(":free"):
            return Price(0.0, 0.0, 0.0, 0.0, origin="table", key=raw)
        prices = _built_in() if self.prices is BUILT_IN_PRICES else self.prices  # a plain dict
        if key in prices:
            return prices[key]
        # Longest table key that the name extends at a dash: "gpt-4o-mini-search" -> "gpt-4o-mini".
        best = ""
        for candidate in prices:
            if key.startswith(candidate + "-") and len(candidate) > len(best):
                best = candidate
        return prices[best] if best else None


class _BuiltInPrices(Mapping[str, Price]):
    """The shipped price file's rows, read at the first lookup: a command whose sources price
    nothing (``burntray status`` on an empty cache, every few seconds from tmux) neither
    imports ``json`` nor parses the file. One dict per process."""

    __slots__ = ()

    def __getitem__(self, key: str) -> Price:
        return _built_in()[key]

    def __contains__(self, key: object) -> bool:
        return key in _built_in()

    def __iter__(self) -> Iterator[str]:
        return iter(_built_in())

    def __len__(self) -> int:
        return len(_built_in())

    def __repr__(self) -> str:
        return f"<shipped prices {PRICES_AS_OF}>"


def _built_in() -> Mapping[str, Price]:
    return shipped_prices()


BUILT_IN_PRICES: Mapping[str, Price] = _BuiltInPrices()


@functools.cache
def shipped_prices() -> Mapping[str, Price]:
    """The shipped price file's prices (empty if a broken install lost the file). Read once per
    process: the file is part of the installation and a command builds the table twice."""
    import json  # noqa: PLC0415 - see _BuiltInPrices

    try:
        raw = json.loads(_shipped_bytes_cached())
    except (ValueError, ModuleNotFoundError):
        return {}
    if not isinstance(raw, dict):
        return {}
    # each Price made when first asked for: a warm `status` prices a few of the file's rows
    return LazyRows(raw, _price_index(raw), functools.partial(_price_of, origin="table"))


@functools.cache
def _shipped_bytes_cached() -> bytes:
    """The shipped price file's bytes, read once per process (b"" when a broken install lost
    it)."""
    try:
        return _shipped_bytes()
    except (OSError, ModuleNotFoundError):
        return b""


def _shipped_bytes() -> bytes:
    """The price file beside the package's modules (a plain install, the frozen build, an
    editable checkout), read directly: ``importlib.resources`` costs ~5 ms of imports, on every
    ``burntray status`` that tmux runs. Any other layout (a zip import) goes through it."""
    try:
        return (Path(__file__).parent.parent / "data" / PRICES_FILE).read_bytes()
    except OSError:
        from importlib import resources  # noqa: PLC0415 - only for an unusual layout

        return resources.files("burntray.data").joinpath(PRICES_FILE).read_bytes()


class PriceFileError(ValueError):
    """A price override file that cannot be used; the message names the file and the entry."""


# LiteLLM's full file is ~1.5 MB; parsing JSON takes several times its size in memory, so the
# cap is far below bounded_read's general one.
MAX_PRICE_FILE_BYTES = 64 * MiB


def load_litellm_prices(path: Path) -> dict[str, Price]:
    """Read a LiteLLM ``model_prices_and_context_window.json``-style file.

    Entries give USD per token (``input_cost_per_token``, ``output_cost_per_token``,
    ``cache_read_input_token_cost``, ``cache_creation_input_token_cost``). Entries without both
    input and output prices (images, embeddings, ``sample_spec``) are skipped; a file with no
    such entry at all is not a price file. The path comes from the user's config and may name
    anything: it is read as a regular file only, under a size cap (a FIFO or ``/dev/zero``
    there must neither hang nor fill memory).
    """
    try:
        data = read_regular_file(path, MAX_PRICE_FILE_BYTES)
    except UnsafeFileError as exc:
        raise PriceFileError(f"{path}: {exc.reason}") from None
    import json  # noqa: PLC0415 - only for a configured price file

    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise PriceFileError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise PriceFileError(f"{path}: expected a JSON object of model -> prices")
    prices = parse_litellm_prices(raw)
    if not prices:
        raise PriceFileError(
            f"{path}: no usable prices: expected LiteLLM entries with input_cost_per_token "
            "and output_cost_per_token"
        )
    return prices


def parse_litellm_prices(
    raw: Mapping[str, object], origin: PriceOrigin = "litellm"
) -> dict[str, Price]:
    """Prices from a decoded LiteLLM-format object (see ``load_litellm_prices``), each marked
    with ``origin`` (the shipped file passes its own: no second copy of every price).

    Besides the four base rates it reads the ``*_above_200k_tokens`` rates, the 1-hour cache
    write (``cache_creation_input_token_cost_above_1hr``) and ``provider_specific_entry.fast``.
    """
    return dict(LazyRows(raw, _price_index(raw), functools.partial(_price_of, origin=origin)))


def _price_index(raw: Mapping[str, object]) -> dict[str, str]:
    """Each price key of a LiteLLM-format object, and the name of the entry it prices: the name
    in lower case, ``<provider>/<name>``, and the name without its date or dotted version
    (``normalise_model``); an entry without both an input and an output price is not one."""
    index: dict[str, str] = {}
    for name, entry in raw.items():
        if not isinstance(entry, dict):
            continue
        if not _is_price(entry.get("input_cost_per_token")) or not _is_price(
            entry.get("output_cost_per_token")
        ):
            continue
        lowered = str(name).strip().lower()
        index[lowered] = name
        provider = entry.get("litellm_provider")
        if isinstance(provider, str) and "/" not in lowered:
            index.setdefault(f"{provider.lower()}/{lowered}", name)
        index.setdefault(normalise_model(lowered), name)
    return index


def _price_of(name: str, entry: Mapping[str, object], origin: PriceOrigin) -> Price:
    inp, out = entry["input_cost_per_token"], entry["output_cost_per_token"]
    cread = entry.get("cache_read_input_token_cost")
    cwrite = entry.get("cache_creation_input_token_cost")
    specific = entry.get("provider_specific_entry")
    fast = specific.get("fast") if isinstance(specific, dict) else None
    return Price(
        _per_million(inp),
        _per_million(out),
        _per_million(cread) if _is_price(cread) else None,
        _per_million(cwrite) if _is_price(cwrite) else None,
        origin=origin,
        key=str(name),
        input_above_200k=_optional_rate(entry, "input_cost_per_token_above_200k_tokens"),
        output_above_200k=_optional_rate(entry, "output_cost_per_token_above_200k_tokens"),
        cache_read_above_200k=_optional_rate(
            entry, "cache_read_input_token_cost_above_200k_tokens"
        ),
        cache_write_above_200k=_optional_rate(
            entry, "cache_creation_input_token_cost_above_200k_tokens"
        ),
        cache_write_1h=_optional_rate(entry, "cache_creation_input_token_cost_above_1hr"),
        fast_multiplier=float(fast) if isinstance(fast, int | float) and fast > 0 else 1.0,
    )


def _optional_rate(entry: Mapping[str, object], field_name: str) -> float | None:
    value = entry.get(field_name)
    return _per_million(value) if _is_price(value) else None


def _per_million(per_token: object) -> float:
    assert isinstance(per_token, int | float)
    return float(per_token) * 1e6


def _is_price(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def build_price_table(
    model_overrides: Mapping[str, Mapping[str, float]] | None = None,
    litellm_file: Path | None = None,
) -> PriceTable:
    """The table in force: config overrides beat a LiteLLM file, which beats the shipped file.

    A LiteLLM file that cannot be used stops nothing: its prices are left out, the rest is in
    force, and ``problem`` says why (callers name it: the log, ``doctor``, the status command).
    """
    overrides: dict[str, Price] = {}
    sources: list[str] = []
    problem = ""
    if litellm_file is not None:
        try:
            overrides.update(load_litellm_prices(litellm_file))
            sources.append(f"LiteLLM file {litellm_file}")
        except PriceFileError as exc:
            problem = f"pricing.litellm_file: {exc}; using the built-in prices instead"
    for name, row in (model_overrides or {}).items():
        overrides[name.strip().lower()] = Price(
            float(row["input"]),
            float(row["output"]),
            float(row["cache_read"]) if "cache_read" in row else None,
            float(row["cache_write"]) if "cache_write" in row else None,
            origin="override",
            key=name,
        )
    if model_overrides:
        sources.append("config overrides")
    in_force = litellm_file is not None and not problem
    return PriceTable(BUILT_IN_PRICES, overrides, PRICES_AS_OF, tuple(sources), problem, in_force)
