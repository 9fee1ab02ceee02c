"""The demo: synthetic traffic through hexai's own write protocol, in a private folder."""

from __future__ import annotations

import threading
from pathlib import Path

from burntray.app import AppContext
from burntray.demo import DEMO_MODELS, DemoWriter, Traffic, demo_context
from burntray.sources.hexai.source import HexaiSource, parse_stats


def test_backfill_writes_mixed_realistic_traffic(tmp_path: Path) -> None:
    cache = tmp_path / "hexai"
    writer = DemoWriter(cache, seed=7)
    writer.backfill()
    stats = parse_stats((cache / "stats.json").read_bytes())
    assert stats.event_count == writer.written
    assert 60 <= writer.written <= 1000  # 20 min of a trickle plus at least one burst
    ctx = AppContext.load()
    source = HexaiSource(cache, ctx.prices())
    source.poll()
    snap = source.snapshot(3600 * 10**9)
    assert snap.status.state == "ok"
    assert {row.provider for row in snap.by_model} >= {"openai", "anthropic"}
    assert snap.totals.cost_usd > 0
    assert 0 < snap.totals.unpriced_reqs < snap.totals.reqs  # shows what "unpriced" means


def test_demo_models_are_priced_except_one() -> None:
    prices = AppContext.load().prices()
    unpriced = [m.model for m in DEMO_MODELS if prices.lookup(m.provider, m.model) is None]
    assert unpriced == ["acme/team-finetune-v2"]


def test_bursts_raise_the_rate() -> None:
    writer = DemoWriter(Path("unused"), Traffic(burst_every_s=(60.0, 60.0)), seed=3)
    gaps = [writer._gaps(0.0)]  # the first call starts a burst at t=0
    gaps += [writer._gaps(float(i)) for i in range(1, 15)]
    assert max(gaps[1:15]) <= 2.0  # inside a burst: 0.4-2 s apart


def test_demo_never_touches_the_users_caches(isolated_env: Path, hexai_dir: Path) -> None:
    ctx = AppContext.load()
    demo = demo_context(ctx)
    demo_hexai = Path(demo.settings.hexai_dir)
    assert demo_hexai.is_relative_to(ctx.paths.cache_dir / "demo")
    assert demo.paths.history_db.is_relative_to(ctx.paths.cache_dir / "demo")
    assert demo.paths.config_file != ctx.paths.config_file
    assert demo.settings.source == "hexai"
    writer = DemoWriter(demo_hexai, Traffic(mean_gap_s=0.05, backfill_s=30), seed=1)
    writer.backfill()
    writer.start()
    try:
        done = threading.Event()
        for _ in range(200):
            if writer.written >= 5:
                done.set()
                break
            writer.stop_event.wait(0.05)
        assert done.is_set()
    finally:
        writer.stop()
    assert list(hexai_dir.iterdir()) == []  # the user's hexai cache: untouched
    assert not ctx.paths.history_db.exists()
    assert not ctx.paths.config_file.exists()
