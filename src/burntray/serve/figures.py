"""burntray's figures in Prometheus form, read at scrape time from what the monitor published.

The monitor thread owns the source and the history; it publishes, on every tick, a ``Figures``
value (frozen): the window's Snapshot, the same source's usage since ``burntray serve`` started,
and the ``status --format json`` document. A scrape only reads the newest ``Figures`` (never the
source or the database), so scrapes are cheap and cannot race the monitor.

Names follow Prometheus conventions: the ``burntray_`` prefix, base units (USD, seconds),
``_total`` on counters, and low-cardinality labels only (``source``, ``provider``, ``model``,
``type``; never a session or user id). Counters count usage since the process started (a
restart is a counter reset, which ``increase()``/``rate()`` handle); usage that arrives stamped
before the start (a backlog) shows in the window gauges, not in the counters.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from burntray.model.snapshot import Snapshot

ALERT_LEVELS = {"normal": 0, "elevated": 1, "spike": 2}
TOKEN_TYPES = ("input", "output", "cache_read", "cache_write")
NS = 1_000_000_000


@dataclass(frozen=True)
class Figures:
    window: Snapshot
    since_start: Snapshot | None = None
    status_doc: dict[str, Any] = field(default_factory=dict)


class FiguresBoard:
    """The newest ``Figures``; written by the monitor thread, read by HTTP threads."""

    def __init__(self, started_ns: int) -> None:
        self.started_ns = started_ns
        self._lock = threading.Lock()
        self._figures: Figures | None = None

    def put(self, figures: Figures) -> None:
        with self._lock:
            self._figures = figures

    def get(self) -> Figures | None:
        with self._lock:
            return self._figures


def _row_tokens(row: Any) -> Iterator[tuple[str, int]]:
    known = [getattr(row, f"{t}_tokens", None) for t in TOKEN_TYPES]
    if any(v is not None for v in known):
        for kind, value in zip(TOKEN_TYPES, known, strict=True):
            yield kind, int(value or 0)
    else:  # a byte-counting source: its tokens are an estimate of the total only
        yield "estimated", int(row.tokens)


class BurntrayCollector(Collector):
    """A custom ``prometheus_client`` collector over a ``FiguresBoard``."""

    def __init__(self, board: FiguresBoard) -> None:
        self.board = board

    def describe(self) -> list[Metric]:
        return []  # no describe-time read: the series depend on what arrived

    def collect(self) -> Iterator[Metric]:
        figures = self.board.get()
        if figures is None:
            return
        yield from self._counters(figures)
        yield from self._gauges(figures.window)

    def _counters(self, figures: Figures) -> Iterator[Metric]:
        labels = ["source", "provider", "model"]
        reqs = CounterMetricFamily(
            "burntray_requests", "LLM requests seen since burntray serve started", labels=labels
        )
        unpriced = CounterMetricFamily(
            "burntray_unpriced_requests",
            "Requests with no known price (not in burntray_cost_usd_total)",
            labels=labels,
        )
        tokens = CounterMetricFamily(
            "burntray_tokens",
            "Tokens since burntray serve started, by type (input is uncached input)",
            labels=[*labels, "type"],
        )
        cost = CounterMetricFamily(
            "burntray_cost_usd", "Spend in USD since burntray serve started", labels=labels
        )
        snap = figures.since_start
        if snap is not None:
            for row in snap.by_model:
                key = [snap.source, row.provider or "unknown", row.model or "unknown"]
                reqs.add_metric(key, row.reqs)
                unpriced.add_metric(key, row.unpriced_reqs)
                cost.add_metric(key, row.cost_usd or 0.0)
                for kind, value in _row_tokens(row):
                    tokens.add_metric([*key, kind], value)
        yield from (reqs, tokens, cost, unpriced)

    def _gauges(self, snap: Snapshot) -> Iterator[Metric]:
        src = [snap.source]
        t = snap.totals
        hours = snap.window_ns / (3600 * NS)

        def gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
            g = GaugeMetricFamily(name, doc, labels=["source"])
            g.add_metric(src, value)
            return g

        yield gauge("burntray_window_seconds", "Length of the current window", snap.window_ns / NS)
        yield gauge("burntray_window_requests", "Requests in the current window", t.reqs)
        yield gauge("burntray_window_rpm", "Requests per minute over the current window", t.rpm)
        yield gauge("burntray_window_tokens", "Tokens in the current window", t.tokens)
        yield gauge("burntray_window_cost_usd", "Spend in the current window (USD)", t.cost_usd)
        yield gauge(
            "burntray_window_cost_usd_per_hour",
            "Spend rate over the current window (USD per hour)",
            t.cost_usd / hours if hours > 0 else 0.0,
        )
        yield gauge(
            "burntray_alert_level",
            "Spend alert level: 0 normal, 1 elevated, 2 spike",
            ALERT_LEVELS.get(snap.alert_level, 0),
        )
        up = GaugeMetricFamily(
            "burntray_source_up", "1 when the source reads fine, else 0", labels=["source"]
        )
        up.add_metric(src, 1.0 if snap.status.healthy else 0.0)
        for part in getattr(snap, "by_source", ()):
            if part.source != snap.source:
                up.add_metric([part.source], 1.0 if part.status.healthy else 0.0)
        yield up
        yield gauge(
            "burntray_last_update_timestamp_seconds",
            "When the figures were last computed (Unix time)",
            snap.as_of_ns / NS,
        )
