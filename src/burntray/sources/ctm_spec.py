"""ctm's legacy cost store in the source registry (the reading lives in ``ctm``)."""

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
    """The configured database, else ctm's ``~/.config/ctm/ctm.db``."""
    from burntray.paths import ctm_db  # noqa: PLC0415

    configured = str(ctx.option("ctm.db")).strip()
    return Path(configured).expanduser() if configured else ctm_db(ctx.env)


def _build(ctx: SourceContext) -> Source:
    from burntray.sources.ctm import CtmSource  # noqa: PLC0415 - the registry stays cheap

    return CtmSource(db_path(ctx), ctx.clock_ns)


def _probe(ctx: SourceContext) -> tuple[bool, str]:
    try:
        path = db_path(ctx)
    except RuntimeError as exc:
        return False, str(exc)
    if path.exists():  # something there: a directory or a bad file is a problem to show
        return True, str(path)
    return False, f"no cost database at {path}"


def _doctor(ctx: SourceContext) -> list[str]:
    from burntray.sources.ctm import PRICING_DETAIL, CtmSource  # noqa: PLC0415

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


def _chart_minutes(
    history: HistoryStore | None,
    source: Source,
    start_ns: int,
    end_ns: int,
    prices: PriceTable,
) -> tuple[list[tuple[int, int, float, int]] | None, str, str]:
    series = getattr(source, "minute_series", None)
    if series is None:
        return None, "", "not a ctm source"
    minutes = series(start_ns, end_ns)
    if minutes is None:
        return None, "", f"ctm database unreadable: {source.status.detail}"
    note = "" if minutes else "no ctm updates in this window"
    return minutes, "ctm's cost store (read in place; ctm's own cost, Sonnet 4.5 rates)", note


SPEC = SourceSpec(
    name="ctm",
    label="ctm cost store",
    build=_build,
    probe=_probe,
    config_fields=(source_field("ctm.db", text, "ctm's ctm.db ('' = ~/.config/ctm/ctm.db)", ""),),
    # ctm records Claude Code's statusline totals: a source reading Claude Code's own logs
    # (cburn, detail 1) is more detailed, so `all` counts that one when both are present
    covers=frozenset({"claude-code"}),
    detail=0,
    doctor=_doctor,
    chart_minutes=_chart_minutes,
    summary="ctm's legacy cost store (ctm.db): Claude Code session totals, ctm's own cost",
)
