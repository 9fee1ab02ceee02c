"""The cburn daemon's own figures for its ``--days`` period: what the cburn source adds to a
Snapshot beyond the window (``Snapshot.upstream``), the status JSON's ``daemon`` object and the
report's section about it."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

from msgspec import Struct

from burntray.model.format import human_count, usd
from burntray.model.snapshot import Snapshot
from burntray.model.timefmt import format_rfc3339_ns


def _utc(ns: int | None) -> str | None:
    return None if ns is None else format_rfc3339_ns(ns, _dt.UTC)


class DaemonPeriod(Struct, frozen=True):
    """A cburn daemon's own figures for its ``--days`` period (not our window)."""

    days: int
    sessions: int
    prompts: int
    api_calls: int
    tokens: int
    estimated_cost_usd: float
    cache_hit_rate: float
    cost_per_day_usd: float
    tokens_per_day: int
    sessions_per_day: float
    poll_interval_sec: int
    at_ns: int | None = None
    started_at_ns: int | None = None
    last_poll_at_ns: int | None = None
    last_error: str = ""
    data_dir: str = ""

    @property
    def json_key(self) -> str:
        return "daemon"

    @property
    def title(self) -> str:
        return "cburn daemon's own period (its --days, not this window)"

    def to_json(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "sessions": self.sessions,
            "prompts": self.prompts,
            "api_calls": self.api_calls,
            "tokens": self.tokens,
            "estimated_cost_usd": self.estimated_cost_usd,
            "cache_hit_rate": self.cache_hit_rate,
            "cost_per_day_usd": self.cost_per_day_usd,
            "tokens_per_day": self.tokens_per_day,
            "sessions_per_day": self.sessions_per_day,
            "poll_interval_sec": self.poll_interval_sec,
            "at": _utc(self.at_ns),
            "started_at": _utc(self.started_at_ns),
            "last_poll_at": _utc(self.last_poll_at_ns),
            "last_error": self.last_error or None,
            "data_dir": self.data_dir or None,
        }

    def report_rows(self, when: Callable[[int | None], str]) -> list[tuple[str, str]]:
        return [
            ("Days", str(self.days)),
            ("Sessions", f"{self.sessions:,} ({self.sessions_per_day:.1f}/active day)"),
            ("Prompts", f"{self.prompts:,}"),
            ("API calls", f"{self.api_calls:,}"),
            ("Tokens", f"{human_count(self.tokens)} ({human_count(self.tokens_per_day)}/day)"),
            (
                "Estimated cost",
                f"{usd(self.estimated_cost_usd)} ({usd(self.cost_per_day_usd)}/active day)",
            ),
            ("Cache hit rate", f"{self.cache_hit_rate * 100:.1f} %"),
            ("Poll interval", f"{self.poll_interval_sec} s"),
            ("Daemon started", when(self.started_at_ns)),
            ("Last poll", when(self.last_poll_at_ns)),
            ("Last error", self.last_error or "none"),
            ("Data dir", self.data_dir or "–"),
        ]


def daemon_of(snapshot: Snapshot) -> DaemonPeriod | None:
    """The daemon's period a cburn Snapshot carries (None: none, or not a cburn Snapshot)."""
    period = snapshot.upstream
    return period if isinstance(period, DaemonPeriod) else None
