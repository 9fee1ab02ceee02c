"""Per-request usage records with real token counts (placeholder until the lead's model lands:
the same ``UsageRecord`` as the source contract; main's version of this file wins on merge)."""

from __future__ import annotations

from typing import NamedTuple


class UsageRecord(NamedTuple):
    ts_ns: int  # epoch ns, UTC
    provider: str  # "" when unknown
    model: str  # "" when unknown
    input_tokens: int  # uncached input
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float | None  # final cost of this request; None = unpriced
    key: str  # unique per request within its source: ingest is idempotent on it
    session: str = ""
    project: str = ""
    cost_from_upstream: bool = False

    @property
    def tokens(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_read_tokens
            + self.cache_write_tokens
        )
