"""The application context: paths, settings, prices, the history and the sources, resolved once.

Every command starts here, so the CLI, the tray and ``serve`` see the same numbers. The
long-running parts (monitor, alerts, notifier, /metrics, signals) are built on top of it by
``burntray.runtime.session``, once for all three long-running uses.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec import Struct, field

from burntray.config import Settings, load_config
from burntray.config_cache import CACHE_NAME as CONFIG_CACHE
from burntray.errors import ConfigError
from burntray.lazylog import get_logger
from burntray.model.pricing import PriceTable, build_price_table
from burntray.paths import AppPaths, app_paths
from burntray.sources.base import Source, SourceContext
from burntray.sources.build import build_source

if TYPE_CHECKING:  # sqlite3 and the store load only when the history is opened
    from burntray.store.history import HistoryStore

log = get_logger(__name__)


class AppContext(Struct):
    """Everything a command needs, resolved from the environment."""

    paths: AppPaths
    settings: Settings
    config_error: str = ""  # set when config.toml is not TOML at all and defaults are in use
    # keys of config.toml left out (unknown, or a bad value: that key's default is used); the
    # rest of the file is in effect
    config_problems: tuple[str, ...] = ()
    demo: bool = False  # `burntray demo`: synthetic data, labelled DEMO wherever it shows
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    clock_ns: Callable[[], int] = time.time_ns
    _history: HistoryStore | None = None
    history_error: str = ""
    price_error: str = ""  # set by ``prices()`` when the price file cannot be used
    # Whose own tables opening the history brings up to date: None, every source's (what stays
    # running prunes them all); a one-shot command reading one source names it, and the other
    # sources' specs are not loaded for their tables (a source requires its own before use).
    history_sources: tuple[str, ...] | None = None

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, strict: bool = True) -> AppContext:
        """Resolve paths and settings. A bad key is left out and named in ``config_problems``
        (the rest of the file is used). A file that cannot be read as TOML: ``strict`` raises
        ``ConfigError``; otherwise defaults are used and ``config_error`` says why (the tray
        shows it)."""
        env = dict(os.environ if env is None else env)
        paths = app_paths(env)
        problems: tuple[str, ...] = ()
        try:
            settings, problems = load_config(paths.config_file, paths.cache_dir / CONFIG_CACHE)
            error = ""
        except ConfigError as exc:
            if strict:
                raise
            settings, error = Settings(), str(exc)
        return cls(
            paths=paths,
            settings=settings,
            config_error=error,
            config_problems=problems,
            env=env,
        )

    def prices(self, settings: Settings | None = None) -> PriceTable:
        """The price table in force. A price file that cannot be used is a configuration
        problem, not a reason to stop: the table without it is returned, the problem is logged
        (the log setup writes an identical line once, then at most every 10 min) and kept in
        ``price_error`` for ``doctor`` and the exit code of the one-shot commands."""
        settings = settings or self.settings
        price_file = Path(settings.price_file).expanduser() if settings.price_file else None
        table = build_price_table(settings.price_overrides, price_file)
        self.price_error = table.problem
        if table.problem:
            log.warning("%s", table.problem)
        return table

    def history(self) -> HistoryStore | None:
        """The history store, opened on first use; None (with ``history_error``) if unusable."""
        if self._history is None and not self.history_error:
            from burntray.store.history import HistoryError, HistoryStore  # noqa: PLC0415

            try:
                from burntray.sources.registry import REGISTRY  # noqa: PLC0415

                tables = REGISTRY.history_tables(self.history_sources)
                self._history = HistoryStore(self.paths.history_db, tables)
            except HistoryError as exc:
                self.history_error = str(exc)
                log.error("%s", exc)
        return self._history

    def source_context(
        self, settings: Settings | None = None, with_history: bool = True
    ) -> SourceContext:
        settings = settings or self.settings
        return SourceContext(
            settings=settings,
            paths=self.paths,
            prices=self.prices(settings),
            history=self.history() if with_history else None,
            env=self.env,
            clock_ns=self.clock_ns,
            history_opener=self.history,
        )

    def build_source(self, settings: Settings | None = None, with_history: bool = True) -> Source:
        settings = settings or self.settings
        return build_source(settings.source, self.source_context(settings, with_history))

    def close(self) -> None:
        if self._history is not None:
            self._history.close()
            self._history = None
