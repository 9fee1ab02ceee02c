"""The cburn daemon in the source registry (the client lives in ``cburn``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from burntray.config_keys import source_field, url
from burntray.sources import team_counters
from burntray.sources.cburn.history import TABLES
from burntray.sources.spec import SourceSpec

if TYPE_CHECKING:
    from burntray.runtime.team_wire import RollupExport
    from burntray.sources.base import Source, SourceContext
    from burntray.sources.cburn.discovery import Discovery
    from burntray.store.history import HistoryStore


def find_daemon(ctx: SourceContext) -> Discovery:
    """Where the cburn daemon is: config, env, cburn's state file, then the default."""
    from pathlib import Path  # noqa: PLC0415

    from burntray.sources.cburn.discovery import discover  # noqa: PLC0415
    from burntray.sources.cburn.paths import cburn_cache_dir  # noqa: PLC0415

    try:
        cache: Path | None = cburn_cache_dir(ctx.env)
    except RuntimeError:
        cache = None
    return discover(str(ctx.option("cburn.url")), ctx.env, cache)


def _build(ctx: SourceContext) -> Source:
    from burntray.sources.cburn.source import CburnSource  # noqa: PLC0415 - httpx only when used

    return CburnSource(
        find_daemon(ctx),
        ctx.history,
        ctx.clock_ns,
        retention_days=ctx.settings.history_retention_days,
        # [team] hub: its minutes are written for the hub (cburn.team); the sender sends them
        # while the followed source counts cburn (``all`` leaves it out beside Claude Code's logs)
        team=bool(ctx.option("team.hub")),
    )


def _team_rollups(history: HistoryStore) -> RollupExport:
    from burntray.sources.cburn.team import rollups  # noqa: PLC0415 - only when reporting

    return rollups(history)


def _probe(ctx: SourceContext) -> tuple[bool, str]:
    # A plain socket, no httpx: this runs on every `burntray status` with source auto or all.
    from burntray.sources.cburn.discovery import probe  # noqa: PLC0415

    found = find_daemon(ctx)
    if found.error:
        return False, found.error
    return probe(found.url)


def _doctor(ctx: SourceContext) -> list[str]:
    from burntray.model.format import usd  # noqa: PLC0415
    from burntray.model.timefmt import format_rfc3339_ns  # noqa: PLC0415
    from burntray.sources.cburn.discovery import probe  # noqa: PLC0415

    found = find_daemon(ctx)
    lines = [f"url          {found.url} (from {found.origin})"]
    lines += [f"skipped      {why}" for why in found.skipped]
    if found.error:
        return [*lines, f"status       error: {found.error}"]
    reachable, why = probe(found.url)
    if not reachable:
        return [*lines, f"status       offline: {why}"]
    from burntray.sources.cburn.period import daemon_of  # noqa: PLC0415
    from burntray.sources.cburn.source import CburnSource  # noqa: PLC0415

    source = CburnSource(found)
    try:
        source.poll()
        status, period = source.status, daemon_of(source.snapshot(ctx.settings.window_ns))
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


def _chart_minutes(history, source, start_ns, end_ns, prices):  # type: ignore[no-untyped-def]
    from burntray.sources.cburn.chart import chart_minutes  # noqa: PLC0415

    if history is None:
        return None, "", "charts of the cburn daemon need burntray's history"
    return chart_minutes(history, start_ns, end_ns)


SPEC = SourceSpec(
    name="cburn",
    label="cburn daemon",
    build=_build,
    probe=_probe,
    config_fields=(source_field("cburn.url", url, "cburn daemon URL ('' = discover)", ""),),
    # cburn summarises Claude Code's logs: a source reading those logs directly is more detailed
    covers=frozenset({"claude-code"}),
    detail=1,
    auto_rank=10,  # a reachable daemon first
    doctor=_doctor,
    history_tables=(*TABLES, *team_counters.TABLES),
    chart_minutes=_chart_minutes,
    summary="cburn's daemon (live SSE): Claude Code API calls, tokens and cburn's own cost",
    team_rollups=_team_rollups,  # each minute's increases of its running totals
)
