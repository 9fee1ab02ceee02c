"""The hexai shared stats cache in the source registry (the reading lives in ``hexai``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from burntray.config_keys import source_field, text
from burntray.sources.hexai.history import TABLES, TEAM_OWED
from burntray.sources.spec import ClearAction, DemoFeed, SourceSpec

if TYPE_CHECKING:
    from burntray.runtime.team_wire import RollupExport
    from burntray.sources.base import Source, SourceContext
    from burntray.store.history import HistoryStore


def cache_dir(ctx: SourceContext) -> Path:
    """hexai's cache dir: the configured one, else hexai's own rule."""
    from burntray.sources.hexai.paths import hexai_cache_dir  # noqa: PLC0415

    configured = str(ctx.option("hexai.dir")).strip()
    return Path(configured).expanduser() if configured else hexai_cache_dir(ctx.env)


def _build(ctx: SourceContext) -> Source:
    from burntray.sources.hexai.source import HexaiSource  # noqa: PLC0415 - the registry stays cheap

    return HexaiSource(cache_dir(ctx), ctx.prices, ctx.history, ctx.clock_ns)


def _probe(ctx: SourceContext) -> tuple[bool, str]:
    folder = cache_dir(ctx)
    if (folder / "stats.json").is_file():
        return True, f"{folder / 'stats.json'}"
    if folder.is_dir():
        return True, f"no stats.json yet in {folder}"
    return False, f"no cache dir at {folder}"


def _doctor(ctx: SourceContext) -> list[str]:
    from burntray.model.timefmt import format_rfc3339_ns  # noqa: PLC0415
    from burntray.sources.hexai.source import HexaiSource  # noqa: PLC0415

    source = HexaiSource(cache_dir(ctx), ctx.prices)
    source.poll()
    status = source.status
    lines = [f"dir          {source.cache_dir}", f"status       {status.state}: {status.detail}"]
    if status.state == "ok":
        stats = source.stats
        lines.append(f"window       {stats.effective_window_s} s (the last writer's)")
        lines.append(f"updated      {format_rfc3339_ns(stats.updated_ns)}")
    return lines


def _describe_clear(ctx: SourceContext) -> str:
    """What clearing would empty, counted first (read safely: a FIFO in its place does not
    hang the question); raises ``ClearError`` when it cannot be read or counted."""
    from burntray.sources.hexai.clear import count_stats  # noqa: PLC0415

    stats_path = cache_dir(ctx) / "stats.json"
    count = count_stats(stats_path)
    return f"{'missing' if count is None else f'{count} events'} in {stats_path}"


def _clear(ctx: SourceContext) -> str:
    from burntray.sources.hexai.clear import clear_stats  # noqa: PLC0415

    folder = cache_dir(ctx)
    removed = clear_stats(folder, ctx.clock_ns)
    return f"cleared {removed} events from {folder / 'stats.json'}"


def _demo_write(
    folder: Path, provider: str, model: str, *, sent: int, recv: int, at_ns: int
) -> None:
    from burntray.sources.hexai.writer import hexai_update  # noqa: PLC0415 - only in the demo

    hexai_update(folder, provider, model, sent, recv, clock_ns=lambda: at_ns)


def _history_summary(history: HistoryStore) -> str:
    from burntray.sources.hexai.history import count_events  # noqa: PLC0415

    return f"{count_events(history)} hexai events"


def _chart_minutes(history, source, start_ns, end_ns, prices):  # type: ignore[no-untyped-def]
    from burntray.sources.hexai.chart import chart_minutes  # noqa: PLC0415
    from burntray.sources.hexai.source import HasLiveStats  # noqa: PLC0415

    live = source.live_stats if isinstance(source, HasLiveStats) else None
    return chart_minutes(history, live, start_ns, end_ns, prices)


def _team_rollups(history: HistoryStore) -> RollupExport:
    from burntray.sources.hexai.team import HexaiRollups  # noqa: PLC0415 - only when reporting

    return HexaiRollups(history)


SPEC = SourceSpec(
    name="hexai",
    label="hexai cache",
    build=_build,
    probe=_probe,
    config_fields=(source_field("hexai.dir", text, "hexai cache dir ('' = hexai's own rule)", ""),),
    covers=frozenset({"hexai"}),
    auto_rank=0,  # auto's fallback
    doctor=_doctor,
    clear=ClearAction(label="hexai stats", flag="hexai", describe=_describe_clear, run=_clear),
    history_tables=(*TABLES, TEAM_OWED),
    chart_minutes=_chart_minutes,
    summary="hexai's shared stats cache (stats.json): requests and bytes, 1 h by default",
    demo_writer=DemoFeed(option="hexai.dir", write=_demo_write),
    history_summary=_history_summary,
    team_rollups=_team_rollups,
)
