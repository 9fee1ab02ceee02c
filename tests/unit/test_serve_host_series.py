"""A hub's /metrics: the window per machine as ``burntray_host_window_*{host,user}`` gauges,
from the hub source's per-host sums; other sources export no host series."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from burntray.model.snapshot import Snapshot, SourceStatus, Totals
from burntray.serve.figures import BurntrayCollector, Figures, FiguresBoard


def _scrape(figures: Figures) -> dict[str, dict[tuple[str, str], float]]:
    board = FiguresBoard(0)
    board.put(figures)
    registry = CollectorRegistry()
    registry.register(BurntrayCollector(board))
    out: dict[str, dict[tuple[str, str], float]] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for s in family.samples:
            if s.name.startswith("burntray_host_"):
                out.setdefault(s.name, {})[(s.labels["host"], s.labels["user"])] = s.value
    return out


def _snap(source: str) -> Snapshot:
    return Snapshot(source=source, window_ns=3600 * 10**9, as_of_ns=10**18,
                    status=SourceStatus("ok"), totals=Totals(reqs=5))  # fmt: skip


def test_a_hub_exports_its_window_per_host() -> None:
    hosts = (("laptop", "ana", 3, 300, 1.5), ("box", "", 2, 20, 0.25))
    got = _scrape(Figures(_snap("hub"), hosts=hosts))
    assert got["burntray_host_window_requests"] == {("laptop", "ana"): 3, ("box", ""): 2}
    assert got["burntray_host_window_tokens"] == {("laptop", "ana"): 300, ("box", ""): 20}
    assert got["burntray_host_window_cost_usd"] == {("laptop", "ana"): 1.5, ("box", ""): 0.25}


def test_a_source_without_hosts_exports_no_host_series() -> None:
    assert _scrape(Figures(_snap("claude"))) == {}
