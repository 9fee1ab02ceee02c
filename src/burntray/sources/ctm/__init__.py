"""ctm's legacy cost store in the source registry (the reading lives in ``ctm``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from burntray.config_keys import source_field, text
from burntray.sources import team_counters
from burntray.sources.spec import SourceSpec, minute_series_chart, path_probe

if TYPE_CHECKING:
    from burntray.runtime.team_wire import RollupExport
    from burntray.sources.base import Source, SourceContext
    from burntray.store.history import HistoryStore


def db_path(ctx: SourceContext) -> Path:
    """The configured database, else ctm's ``~/.config/ctm/ctm.db``."""
    from burntray.sources.ctm.paths import ctm_db  # noqa: PLC0415

    configured = str(ctx.option("ctm.db")).strip()
    return Path(configured).expanduser() if configured else ctm_db(ctx.env)


def _build(ctx: SourceContext) -> Source:
    from burntray.sources.ctm.source import CtmSource  # noqa: PLC0415 - the registry stays cheap

    # [team] hub: its minutes are written for the hub into the history (ctm.team); the sender
    # sends them while the followed source counts ctm
    team = ctx.records_history() if ctx.option("team.hub") else None
    return CtmSource(
        db_path(ctx),
        ctx.clock_ns,
        team=team,
        retention_days=ctx.settings.history_retention_days,
    )


def _team_rollups(history: HistoryStore) -> RollupExport:
    from burntray.sources.ctm.team import rollups  # noqa: PLC0415 - only when reporting

    return rollups(history)


def _doctor(ctx: SourceContext) -> list[str]:
    from burntray.sources.ctm.source import PRICING_DETAIL, CtmSource  # noqa: PLC0415

    try:
        path = db_path(ctx)
    except RuntimeError as exc:
        return [f"status       error: {exc}"]
    source = CtmSource(path, ctx.clock_ns)
    source.poll()
    lines = [
        f"database     {path}",
        f"status       {source.status.state}: {source.status.detail}",
        f"pricing      {PRICING_DETAIL}",
    ]
    return lines


SPEC = SourceSpec(
    name="ctm",
    label="ctm cost store",
    build=_build,
    probe=path_probe(db_path, "cost database"),
    config_fields=(source_field("ctm.db", text, "ctm's ctm.db ('' = ~/.config/ctm/ctm.db)", ""),),
    # ctm records Claude Code's statusline totals: a source reading Claude Code's own logs
    # (cburn, detail 1) is more detailed, so `all` counts that one when both are present
    covers=frozenset({"claude-code"}),
    detail=0,
    doctor=_doctor,
    chart_minutes=minute_series_chart(
        "ctm", "updates", "ctm's cost store (read in place; ctm's own cost, Sonnet 4.5 rates)"
    ),
    summary="ctm's legacy cost store (ctm.db): Claude Code session totals, ctm's own cost",
    history_tables=team_counters.TABLES,  # its minutes for a team's hub
    team_rollups=_team_rollups,  # each minute's increases of its sessions' running totals
)
