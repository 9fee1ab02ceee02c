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

The counters only ever go up for the life of the process (``RunningTotals``): the usage since
start is recomputed from the history on every tick and can go down (a re-sent request with
lower values replaces the first, a request re-stamped earlier leaves the range, pruning), and
Prometheus would read any fall as a reset and count everything again. Only increases are added.
The sender chooses the model names, so a source exports at most ``MAX_MODELS`` provider/model
pairs (the first seen); the rest add to ``provider="other", model="other"``, and
``burntray_folded_models_total`` counts how many were folded (Prometheus' advice: keep label
values bounded).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any

from msgspec import Struct, field
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from burntray.lazylog import get_logger
from burntray.model.snapshot import Snapshot
from burntray.model.timefmt import NS_PER_SECOND as NS

log = get_logger(__name__)

ALERT_LEVELS = {"normal": 0, "elevated": 1, "spike": 2}
TOKEN_TYPES = ("input", "output", "cache_read", "cache_write")
MAX_MODELS = 200  # provider/model label pairs per source in the counters; more fold into "other"
OTHER = "other"

# One counter series: (source, provider, model); the folded bucket is (source, None, None).
_Key = tuple[str, str | None, str | None]


class Figures(Struct, frozen=True):
    window: Snapshot
    since_start: Snapshot | None = None
    status_doc: dict[str, Any] = field(default_factory=dict)
    # (source, tool) -> requests that source counted as model "other" since start (its own
    # bound on the names senders choose, e.g. otel.max_models)
    source_folds: dict[tuple[str, str], int] = field(default_factory=dict)
    # a team hub's window per machine: (host, user, reqs, tokens, cost USD)
    hosts: tuple[tuple[str, str, int, int, float], ...] = ()


class RunningTotals:
    """The ``*_total`` counters: running sums of the increases of the usage since start.

    ``update`` takes each published usage-since-start; per series, what rose since the last one
    is added and what fell is ignored (so a correction downwards never lowers a counter, and the
    usage after it counts from the lower figure). Not thread-safe: the board locks around it.
    """

    def __init__(self, max_models: int = MAX_MODELS) -> None:
        self.max_models = max_models
        self._last: dict[_Key, dict[str, float]] = {}
        self.totals: dict[_Key, dict[str, float]] = {}
        self._admitted: dict[str, set[tuple[str, str]]] = {}
        self.folded: dict[str, int] = {}  # source -> provider/model pairs folded (most seen)

    def update(self, snap: Snapshot) -> None:
        source = snap.source
        admitted = self._admitted.setdefault(source, set())
        other: dict[str, float] = {}
        folded = 0
        for row in snap.by_model:
            pair = (row.provider or "unknown", row.model or "unknown")
            raw = _raw(row)
            if pair in admitted or (len(admitted) < self.max_models and pair != (OTHER, OTHER)):
                admitted.add(pair)
                self._advance((source, *pair), raw)
            else:
                folded += 1
                for name, value in raw.items():
                    other[name] = other.get(name, 0.0) + value
        if other or (source, None, None) in self._last:
            self._advance((source, None, None), other)
        if folded and not self.folded.get(source):  # said once per source and run
            log.warning(
                "serve: source %s has over %d provider/model pairs; /metrics sums the rest as "
                'model="other" (burntray_folded_models_total counts them)',
                source,
                self.max_models,
            )
        self.folded[source] = max(self.folded.get(source, 0), folded)

    def _advance(self, key: _Key, raw: dict[str, float]) -> None:
        last = self._last.get(key, {})
        total = self.totals.setdefault(key, {})
        for name, value in raw.items():
            rise = value - last.get(name, 0.0)
            total[name] = total.get(name, 0.0) + (rise if rise > 0 else 0.0)
        self._last[key] = {**last, **raw}


def _raw(row: Any) -> dict[str, float]:
    raw = {"reqs": float(row.reqs), "unpriced": float(row.unpriced_reqs)}
    raw["cost"] = float(row.cost_usd or 0.0)
    for kind, value in _row_tokens(row):
        raw[f"tokens:{kind}"] = float(value)
    return raw


class FiguresBoard:
    """The newest ``Figures`` and the running counters; written by the monitor thread, read by
    HTTP threads."""

    def __init__(self, started_ns: int) -> None:
        self.started_ns = started_ns
        self._lock = threading.Lock()
        self._figures: Figures | None = None
        self._totals = RunningTotals()

    def put(self, figures: Figures) -> None:
        with self._lock:
            self._figures = figures
            if figures.since_start is not None:
                self._totals.update(figures.since_start)

    def get(self) -> Figures | None:
        with self._lock:
            return self._figures

    def counters(self) -> tuple[list[tuple[_Key, dict[str, float]]], dict[str, int]]:
        """A copy of the running counters per series, and the folded pairs per source."""
        with self._lock:
            rows = [(key, dict(values)) for key, values in self._totals.totals.items()]
            return rows, dict(self._totals.folded)


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
        yield from self._counters(*self.board.counters())
        if figures.source_folds:
            fold = CounterMetricFamily(
                "burntray_folded_requests",
                'Requests a source counted as model="other": their tool sent more model names '
                "than the source keeps (otel.max_models)",
                labels=["source", "tool"],
            )
            for (source, tool), n in sorted(figures.source_folds.items()):
                fold.add_metric([source, tool], n)
            yield fold
        yield from self._gauges(figures.window)
        if figures.hosts:
            yield from self._host_gauges(figures.window.source, figures.hosts)

    @staticmethod
    def _host_gauges(
        source: str, hosts: tuple[tuple[str, str, int, int, float], ...]
    ) -> Iterator[Metric]:
        """A hub's window per machine (hosts are bounded by the hub: ``MAX_HOSTS``)."""
        labels = ["source", "host", "user"]
        reqs = GaugeMetricFamily(
            "burntray_host_window_requests", "Requests in the window per host", labels=labels
        )
        tokens = GaugeMetricFamily(
            "burntray_host_window_tokens", "Tokens in the window per host", labels=labels
        )
        cost = GaugeMetricFamily(
            "burntray_host_window_cost_usd", "Spend in the window per host (USD)", labels=labels
        )
        for host, user, n, toks, usd in hosts:
            key = [source, host, user]
            reqs.add_metric(key, n)
            tokens.add_metric(key, toks)
            cost.add_metric(key, usd)
        yield from (reqs, tokens, cost)

    def _counters(
        self, rows: Iterable[tuple[_Key, dict[str, float]]], folded: dict[str, int]
    ) -> Iterator[Metric]:
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
        for (source, provider, model), values in rows:
            key = [source, provider or OTHER, model or OTHER]
            reqs.add_metric(key, values.get("reqs", 0.0))
            unpriced.add_metric(key, values.get("unpriced", 0.0))
            cost.add_metric(key, values.get("cost", 0.0))
            for name, value in values.items():
                if name.startswith("tokens:"):
                    tokens.add_metric([*key, name[7:]], value)
        yield from (reqs, tokens, cost, unpriced)
        if folded:
            fold = CounterMetricFamily(
                "burntray_folded_models",
                f"Provider/model pairs counted as model=other (over {MAX_MODELS} per source)",
                labels=["source"],
            )
            for source, n in folded.items():
                fold.add_metric([source], n)
            yield fold

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
        yield from _limit_gauges(snap)


def _limit_gauges(snap: Snapshot) -> Iterator[Metric]:
    """The plan windows the tools reported: one series per (tool, window), a few at most. A
    window nobody reported has no series (unknown is not 0); a reset time not known, none."""
    if not snap.limits:
        return
    labels = ["tool", "window"]
    used = GaugeMetricFamily(
        "burntray_limit_used_ratio",
        "Share of the plan window used, as the tool last reported it (1 = the limit)",
        labels=labels,
    )
    resets = GaugeMetricFamily(
        "burntray_limit_resets_at_seconds",
        "When the plan window resets (Unix time)",
        labels=labels,
    )
    for win in snap.limits:
        key = [win.tool, win.window]
        used.add_metric(key, win.used_percent / 100.0)
        if win.resets_at_ns is not None:
            resets.add_metric(key, win.resets_at_ns / NS)
    yield used
    yield resets
