"""The ``codex`` source: Codex's own logs, read directly (the reading is shared with the
other agent logs in ``burntray.sources.agent_logs``; the format is in ``.logs``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from burntray.config_keys import source_field, text
from burntray.sources.agent_logs.spec import DETAIL, dirs_option, doctor_lines, probe_in
from burntray.sources.spec import SourceSpec

if TYPE_CHECKING:
    from burntray.sources.base import Source, SourceContext


def codex_dirs(ctx: SourceContext) -> list[Path]:
    """Codex homes: ``codex.dirs`` when set, else Codex's own rule."""
    from burntray.sources.codex.paths import codex_homes  # noqa: PLC0415

    return dirs_option(ctx.option("codex.dirs")) or codex_homes(ctx.env)


def _build_codex(ctx: SourceContext) -> Source:
    from burntray.sources.codex.source import codex_source  # noqa: PLC0415

    return codex_source(codex_dirs(ctx), ctx.prices, ctx.records_history(), ctx.clock_ns)


def _probe_codex(ctx: SourceContext) -> tuple[bool, str]:
    try:
        return probe_in(codex_dirs(ctx), ("sessions", "archived_sessions"), "Codex sessions")
    except RuntimeError as exc:
        return False, str(exc)


def _doctor_codex(ctx: SourceContext) -> list[str]:
    return doctor_lines(ctx, "codex", codex_dirs(ctx), ("sessions", "archived_sessions"))


SPEC = SourceSpec(
    name="codex",
    label="Codex logs",
    build=_build_codex,
    probe=_probe_codex,
    config_fields=(
        source_field(
            "codex.dirs", text, "Codex homes, comma-separated ('' = CODEX_HOME or ~/.codex)", ""
        ),
    ),
    covers=frozenset({"codex"}),
    detail=DETAIL,
    auto_rank=None,
    doctor=_doctor_codex,
    summary="Codex CLI's session logs (sessions/**/*.jsonl): every turn's tokens and cost, live",
)
