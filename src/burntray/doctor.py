"""``burntray doctor``: where everything is and how each source is doing, in plain words."""

from __future__ import annotations

import sys
from collections.abc import Callable

from burntray import __version__
from burntray.app import AppContext

# Each section: title -> function(ctx) -> lines. Sources and tray backends register theirs.
DoctorSection = Callable[[AppContext], list[str]]
SECTIONS: dict[str, DoctorSection] = {}


def section(title: str) -> Callable[[DoctorSection], DoctorSection]:
    def register(fn: DoctorSection) -> DoctorSection:
        SECTIONS[title] = fn
        return fn

    return register


@section("burntray")
def _burntray(ctx: AppContext) -> list[str]:
    paths = ctx.paths
    config_state = "valid" if paths.config_file.exists() else "not created yet (defaults)"
    if ctx.config_error:
        config_state = "INVALID, running on defaults:\n      " + ctx.config_error.replace(
            "\n", "\n      "
        )
    return [
        f"version      {__version__} (Python {sys.version.split()[0]})",
        f"config       {paths.config_file}: {config_state}",
        f"data dir     {paths.data_dir}",
        f"cache dir    {paths.cache_dir}",
        f"log file     {paths.log_file}",
        f"window       {ctx.settings.window}, source {ctx.settings.source}",
    ]


@section("history")
def _history(ctx: AppContext) -> list[str]:
    db = ctx.paths.history_db
    if not db.exists():
        return [f"{db}: not created yet"]
    history = ctx.history()
    if history is None:
        return [f"{db}: UNUSABLE: {ctx.history_error}"]
    rows = history.count_hexai_events()
    return [f"{db}: {rows} hexai events, kept {ctx.settings.history_retention_days} days"]


@section("hexai cache")
def _hexai(ctx: AppContext) -> list[str]:
    from burntray.model.timefmt import format_rfc3339_ns  # noqa: PLC0415
    from burntray.sources.hexai import HexaiSource  # noqa: PLC0415

    source_ctx = ctx.source_context(with_history=False)
    source = HexaiSource(source_ctx.hexai_dir(), source_ctx.prices)
    source.poll()
    status = source.status
    lines = [f"dir          {source.cache_dir}", f"status       {status.state}: {status.detail}"]
    if status.state == "ok":
        stats = source.stats
        lines.append(f"window       {stats.effective_window_s} s (the last writer's)")
        lines.append(f"updated      {format_rfc3339_ns(stats.updated_ns)}")
    return lines


@section("start at login")
def _start_at_login(ctx: AppContext) -> list[str]:
    from burntray import autostart  # noqa: PLC0415

    ok, how = autostart.supported()
    if not ok:
        return [how]
    state = "on" if autostart.is_enabled() else "off"
    return [f"{state}: {how}", f"command      {autostart.registered_command()}"]


def run_doctor(ctx: AppContext) -> int:
    problems = bool(ctx.config_error)
    for title, fn in SECTIONS.items():
        print(f"[{title}]")
        try:
            lines = fn(ctx)
        except Exception as exc:  # doctor reports; it never crashes on what it inspects
            lines, problems = [f"check failed: {exc!r}"], True
        for line in lines:
            print(f"  {line}")
    ctx.close()
    return 1 if problems else 0


@section("alerts")
def _alerts(ctx: AppContext) -> list[str]:
    from burntray.runtime.alerting import doctor_lines  # noqa: PLC0415

    return doctor_lines(ctx)


@section("cburn daemon")
def _cburn(ctx: AppContext) -> list[str]:
    from burntray.model.format import usd  # noqa: PLC0415
    from burntray.model.timefmt import format_rfc3339_ns  # noqa: PLC0415
    from burntray.sources.cburn_discovery import probe  # noqa: PLC0415

    found = ctx.source_context(with_history=False).cburn_discovery()
    lines = [f"url          {found.url} (from {found.origin})"]
    lines += [f"skipped      {why}" for why in found.skipped]
    if found.error:
        return [*lines, f"status       error: {found.error}"]
    reachable, why = probe(found.url)
    if not reachable:
        return [*lines, f"status       offline: {why}"]
    from burntray.sources.cburn import CburnSource  # noqa: PLC0415

    source = CburnSource(found)
    try:
        source.poll()
        status, period = source.status, source.snapshot(ctx.settings.window_ns).daemon
    finally:
        source.close()
    lines.append(f"status       {status.state}: {status.detail}")
    if period is not None:
        last_poll = format_rfc3339_ns(period.last_poll_at_ns) if period.last_poll_at_ns else "never"
        lines.append(
            f"period       last {period.days} days, daemon polls every "
            f"{period.poll_interval_sec} s, last poll {last_poll}"
        )
        lines.append(
            f"figures      {period.sessions} sessions, {period.api_calls} API calls, "
            f"{period.tokens} tokens, {usd(period.estimated_cost_usd)} est."
        )
        if period.last_error:
            lines.append(f"last error   {period.last_error}")
    return lines


# Sections registered by other modules (imported last: they use ``section`` above).
from burntray.ui import backend as _tray_backend  # noqa: E402, F401 - registers [tray]


@section("prices")
def _prices(ctx: AppContext) -> list[str]:
    from burntray.model.price_table import PRICES_AS_OF, price_table_age  # noqa: PLC0415

    age = price_table_age(ctx.clock_ns())
    return [f"bundled      checked {PRICES_AS_OF}" + (f"; OLD: {age}" if age else "")]
