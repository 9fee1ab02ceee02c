"""roder's analytics database in the source registry (the reading lives in ``roder``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from burntray.config import source_field, text
from burntray.sources.registry import SourceSpec

if TYPE_CHECKING:
    from burntray.model.pricing import PriceTable
    from burntray.sources.base import Source, SourceContext
    from burntray.store.history import HistoryStore


def db_path(ctx: SourceContext) -> Path:
    """The configured database, else roder's own rule (env, ``config.toml``, ``~/.roder``)."""
    from burntray.paths import roder_usage_db  # noqa: PLC0415

    configured = str(ctx.option("roder.db")).strip()
    return Path(configured).expanduser() if configured else roder_usage_db(ctx.env)


def _build(ctx: SourceContext) -> Source:
    from burntray.sources.roder import RoderSource  # noqa: PLC0415 - the registry stays cheap

    return RoderSource(db_path(ctx), ctx.prices, ctx.clock_ns)


def _probe(ctx: SourceContext) -> tuple[bool, str]:
    try:
        path = db_path(ctx)
    except RuntimeError as exc:
        return False, str(exc)
    if path.exists():  # something there: a directory or a bad file is a problem to show
        return True, str(path)
    return False, f"no analytics database at {path}"


def _doctor(ctx: SourceContext) -> list[str]:
    from burntray.sources.roder import RoderSource  # noqa: PLC0415

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


def _chart_minutes(
    history: HistoryStore | None,
    source: Source,
    start_ns: int,
    end_ns: int,
    prices: PriceTable,
) -> tuple[list[tuple[int, int, float, int]] | None, str, str]:
    series = getattr(source, "minute_series", None)
    if series is None:
        return None, "", "not a roder source"
    minutes = series(start_ns, end_ns)
    if minutes is None:
        return None, "", f"roder database unreadable: {source.status.detail}"
    note = "" if minutes else "no roder turns in this window"
    return minutes, "roder's analytics database (read in place)", note


SPEC = SourceSpec(
    name="roder",
    label="roder analytics",
    build=_build,
    probe=_probe,
    config_fields=(
        source_field("roder.db", text, "roder usage.sqlite3 ('' = roder's own rule)", ""),
    ),
    covers=frozenset({"roder"}),
    doctor=_doctor,
    chart_minutes=_chart_minutes,
    summary="roder's analytics database (usage.sqlite3): turns and real tokens per model",
)
