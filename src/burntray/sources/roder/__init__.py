"""roder's analytics database in the source registry (the reading lives in ``roder``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from burntray.config_keys import source_field, text
from burntray.sources.spec import SourceSpec, minute_series_chart, path_probe

if TYPE_CHECKING:
    from burntray.sources.base import Source, SourceContext


def db_path(ctx: SourceContext) -> Path:
    """The configured database, else roder's own rule (env, ``config.toml``, ``~/.roder``)."""
    from burntray.paths import roder_usage_db  # noqa: PLC0415

    configured = str(ctx.option("roder.db")).strip()
    return Path(configured).expanduser() if configured else roder_usage_db(ctx.env)


def _build(ctx: SourceContext) -> Source:
    from burntray.sources.roder.source import RoderSource  # noqa: PLC0415 - the registry stays cheap

    return RoderSource(db_path(ctx), ctx.prices, ctx.clock_ns)


def _doctor(ctx: SourceContext) -> list[str]:
    from burntray.sources.roder.source import RoderSource  # noqa: PLC0415

    try:
        path = db_path(ctx)
    except RuntimeError as exc:
        return [f"status       error: {exc}"]
    source = RoderSource(path, ctx.prices, ctx.clock_ns)
    snap = source.snapshot(ctx.settings.window_ns)
    lines = [f"database     {path}", f"status       {snap.status.state}: {snap.status.detail}"]
    if source.schema_version is not None:
        lines.append(f"schema       version {source.schema_version}")
    if snap.status.state == "ok":
        lines.append(f"window       {snap.totals.reqs} turns, {snap.totals.tokens} tokens")
    return lines


SPEC = SourceSpec(
    name="roder",
    label="roder analytics",
    build=_build,
    probe=path_probe(db_path, "analytics database"),
    config_fields=(
        source_field("roder.db", text, "roder usage.sqlite3 ('' = roder's own rule)", ""),
    ),
    covers=frozenset({"roder"}),
    doctor=_doctor,
    chart_minutes=minute_series_chart(
        "roder", "turns", "roder's analytics database (read in place)"
    ),
    summary="roder's analytics database (usage.sqlite3): turns and real tokens per model",
)
