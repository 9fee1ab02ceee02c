"""``burntray demo``: the tray on synthetic traffic, for newcomers and screenshots.

Everything lives in a private folder, ``<burntray cache dir>/demo``: the upstream store of the
source that can be fed a demo (its spec's ``demo_writer``, written by that upstream's exact
protocol), its own history and its own config.toml. The user's real stores, history and
settings are never read or written. The traffic is
made up but shaped like real use: a steady trickle of requests over a mix of providers and
models, and now and then a burst (an agent loop) that drives the rate up. Labelled DEMO in the
title, the menu, the terminal view, the report and every desktop notification, so nothing it
shows or sends can be taken for real spend.
"""

from __future__ import annotations

import random
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from msgspec import Struct

from burntray.app import AppContext
from burntray.config import Settings, load_config
from burntray.errors import ConfigError
from burntray.lazylog import get_logger
from burntray.model.timefmt import NS_PER_SECOND as NS_PER_S
from burntray.paths import AppPaths
from burntray.sources.registry import REGISTRY
from burntray.sources.spec import DemoFeed, SourceSpec

log = get_logger(__name__)


class DemoModel(Struct, frozen=True):
    provider: str
    model: str
    weight: float  # share of requests
    sent_kb: float  # typical prompt size (context included), kB
    recv_kb: float  # typical answer size, kB


DEMO_MODELS = (
    DemoModel("anthropic", "claude-sonnet-4-5", 0.34, 24.0, 3.0),
    DemoModel("openai", "gpt-5-mini", 0.26, 8.0, 1.6),
    DemoModel("openai", "gpt-4.1", 0.12, 14.0, 2.2),
    DemoModel("google", "gemini-2.5-flash", 0.14, 10.0, 1.4),
    DemoModel("anthropic", "claude-haiku-4-5", 0.07, 5.0, 0.8),
    DemoModel("ollama", "qwen2.5-coder:7b", 0.04, 4.0, 1.0),  # local: priced at $0
    DemoModel("openrouter", "acme/team-finetune-v2", 0.03, 6.0, 1.2),  # no price known: unpriced
)


class Traffic(Struct, frozen=True):
    mean_gap_s: float = 9.0  # between requests when nobody is in a hurry
    burst_every_s: tuple[float, float] = (120.0, 300.0)
    burst_len: tuple[int, int] = (15, 40)
    burst_gap_s: tuple[float, float] = (0.4, 2.0)
    backfill_s: float = 20 * 60  # history written at start so the first view is not empty


def demo_source() -> tuple[SourceSpec, DemoFeed]:
    """The first source in the list of built-in sources that can be fed a demo."""
    for spec in REGISTRY:
        if spec.demo_writer is not None:
            return spec, spec.demo_writer
    raise ConfigError("no source in this build can be fed the demo's synthetic traffic")


class DemoWriter:
    """A background thread appending synthetic events through a source's ``demo_writer``
    (``feed``; None: the one ``demo_source`` picks)."""

    def __init__(
        self,
        folder: Path,
        traffic: Traffic | None = None,
        seed: int | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
        feed: DemoFeed | None = None,
    ) -> None:
        self.folder = folder
        self.feed = feed if feed is not None else demo_source()[1]
        self.traffic = traffic if traffic is not None else Traffic()
        self.random = random.Random(seed)  # noqa: S311 - synthetic traffic, not security
        self.clock_ns = clock_ns
        self.stop_event = threading.Event()
        self.written = 0
        self._thread: threading.Thread | None = None
        self._next_burst_s = 0.0
        self._burst_left = 0

    def _event(self, at_ns: int) -> None:
        rnd = self.random
        model = rnd.choices(DEMO_MODELS, weights=[m.weight for m in DEMO_MODELS])[0]
        sent = int(rnd.lognormvariate(0, 0.6) * model.sent_kb * 1000)
        recv = int(rnd.lognormvariate(0, 0.7) * model.recv_kb * 1000)
        self.feed.write(self.folder, model.provider, model.model, sent=sent, recv=recv, at_ns=at_ns)
        self.written += 1

    def _gaps(self, start_s: float) -> float:
        """The next gap in seconds: bursts of quick requests, else a calm trickle."""
        rnd, t = self.random, self.traffic
        if self._burst_left > 0:
            self._burst_left -= 1
            return rnd.uniform(*t.burst_gap_s)
        if start_s >= self._next_burst_s:
            self._burst_left = rnd.randint(*t.burst_len)
            self._next_burst_s = start_s + rnd.uniform(*t.burst_every_s)
        return rnd.expovariate(1 / t.mean_gap_s)

    def backfill(self) -> None:
        """Write the last ``backfill_s`` of traffic at once, oldest first (as the upstream
        would have)."""
        now_s = self.clock_ns() / NS_PER_S
        t_s = now_s - self.traffic.backfill_s
        self._next_burst_s = t_s + self.random.uniform(*self.traffic.burst_every_s) / 2
        while True:
            t_s += self._gaps(t_s)
            if t_s >= now_s:
                break
            self._event(int(t_s * NS_PER_S))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="burntray-demo", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self.stop_event.is_set():
                gap = self._gaps(self.clock_ns() / NS_PER_S)
                if self.stop_event.wait(gap):
                    break
                self._event(self.clock_ns())
        except Exception:
            log.exception("the demo writer stopped")

    def stop(self, timeout: float = 2.0) -> None:
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout)


def demo_paths(paths: AppPaths) -> AppPaths:
    """The demo's own dirs, inside burntray's cache dir, its log too: the synthetic spikes it
    alerts on must never read as the user's in the real ``burntray.log``."""
    root = paths.cache_dir / "demo"
    return AppPaths(root / "config", root / "data", root / "cache", root / "log")


def demo_context(ctx: AppContext) -> AppContext:
    """A fresh demo: the synthetic upstream store and history emptied; the demo's own settings
    kept."""
    spec, feed = demo_source()
    paths = demo_paths(ctx.paths)
    root = paths.config_dir.parent
    upstream_dir = root / spec.name
    for stale in (upstream_dir, paths.data_dir):
        shutil.rmtree(stale, ignore_errors=True)
    problems: tuple[str, ...] = ()
    try:
        settings, problems = load_config(paths.config_file)
        error = ""
    except ConfigError as exc:
        settings, error = Settings(), str(exc)
    settings = settings.replace(source=spec.name, options={feed.option: str(upstream_dir)})
    return AppContext(
        paths=paths,
        settings=settings,
        config_error=error,
        config_problems=problems,
        env=ctx.env,
        clock_ns=ctx.clock_ns,
        demo=True,
    )


def run_demo(ctx: AppContext, terminal: bool = False, verbose: bool = False) -> int:
    from burntray.ui.launch import launch  # noqa: PLC0415

    demo = demo_context(ctx)
    _, feed = demo_source()
    folder = Path(str(demo.settings.option(feed.option)))
    writer = DemoWriter(folder, clock_ns=ctx.clock_ns, feed=feed)
    writer.backfill()
    writer.start()
    try:
        return launch(demo, terminal=terminal, verbose=verbose, demo=True)
    finally:
        writer.stop()
