"""The ``qwen`` source: Qwen Code's own chat logs, tailed as they are appended (the shared log
machinery is ``burntray.sources.agent_logs``; the format is in ``.logs``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from burntray.config_keys import source_field, text
from burntray.sources.agent_logs.spec import DETAIL, dirs_option, doctor_lines, probe_in
from burntray.sources.spec import SourceSpec

if TYPE_CHECKING:
    from burntray.sources.base import Source, SourceContext

LABEL = "Qwen Code"


def qwen_dirs(ctx: SourceContext) -> list[Path]:
    """Qwen Code data folders: ``qwen.dirs`` when set, else the default rule."""
    from burntray.sources.qwen.paths import qwen_data_dirs  # noqa: PLC0415

    return dirs_option(ctx.option("qwen.dirs")) or qwen_data_dirs(ctx.env)


def _build(ctx: SourceContext) -> Source:
    from burntray.sources.qwen.logs import QwenLogReader  # noqa: PLC0415
    from burntray.sources.qwen.source import QwenSource  # noqa: PLC0415

    dirs = qwen_dirs(ctx)
    reader = QwenLogReader(dirs, ctx.prices)
    return QwenSource(reader, dirs, ctx.records_history(), ctx.clock_ns)


def _probe(ctx: SourceContext) -> tuple[bool, str]:
    try:
        return probe_in(qwen_dirs(ctx), ("projects",), "Qwen Code projects folder")
    except RuntimeError as exc:
        return False, str(exc)


def _doctor(ctx: SourceContext) -> list[str]:
    return doctor_lines(ctx, "qwen", qwen_dirs(ctx), ("projects",))


SPEC = SourceSpec(
    name="qwen",
    label=LABEL,
    build=_build,
    probe=_probe,
    config_fields=(
        source_field(
            "qwen.dirs",
            text,
            "Qwen Code data folders, comma-separated ('' = QWEN_DATA_DIR or ~/.qwen)",
            "",
        ),
    ),
    covers=frozenset({"qwen-code"}),
    detail=DETAIL,
    auto_rank=None,
    doctor=_doctor,
    summary="Qwen Code's chat logs (projects/*/chats/*.jsonl): every reply's tokens, live",
)
