"""The ``kimi`` source: Kimi CLI's own wire logs, tailed as they are appended (the shared log
machinery is ``burntray.sources.agent_logs``; the format is in ``.logs``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from burntray.config_keys import source_field, text
from burntray.sources.agent_logs.spec import DETAIL, dirs_option, doctor_lines, probe_in
from burntray.sources.spec import SourceSpec

if TYPE_CHECKING:
    from burntray.sources.base import Source, SourceContext


def kimi_dirs(ctx: SourceContext) -> list[Path]:
    """Kimi data folders: ``kimi.dirs`` when set, else the default rule."""
    from burntray.sources.kimi.paths import kimi_data_dirs  # noqa: PLC0415

    return dirs_option(ctx.option("kimi.dirs")) or kimi_data_dirs(ctx.env)


def _build(ctx: SourceContext) -> Source:
    from burntray.sources.kimi.logs import KimiLogReader  # noqa: PLC0415
    from burntray.sources.kimi.source import KimiSource  # noqa: PLC0415

    dirs = kimi_dirs(ctx)
    return KimiSource(KimiLogReader(dirs, ctx.prices), dirs, ctx.records_history(), ctx.clock_ns)


def _probe(ctx: SourceContext) -> tuple[bool, str]:
    try:
        return probe_in(kimi_dirs(ctx), ("sessions",), "Kimi sessions folder")
    except RuntimeError as exc:
        return False, str(exc)


def _doctor(ctx: SourceContext) -> list[str]:
    return doctor_lines(ctx, "kimi", kimi_dirs(ctx), ("sessions",))


SPEC = SourceSpec(
    name="kimi",
    label="Kimi CLI",
    build=_build,
    probe=_probe,
    config_fields=(
        source_field(
            "kimi.dirs",
            text,
            "Kimi data folders, comma-separated ('' = KIMI_DATA_DIR or ~/.kimi)",
            "",
        ),
    ),
    covers=frozenset({"kimi-cli"}),
    detail=DETAIL,
    auto_rank=None,
    doctor=_doctor,
    summary="Kimi CLI's wire logs (sessions/*/*/wire.jsonl): every step's tokens, live",
)
