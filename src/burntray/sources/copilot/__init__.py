"""The ``copilot`` source: GitHub Copilot CLI's usage, from the file its OpenTelemetry exporter
writes; the format and its rules are in ``.reader``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from burntray.config_keys import source_field, text
from burntray.sources.agent_logs.spec import DETAIL
from burntray.sources.spec import SourceSpec

if TYPE_CHECKING:
    from burntray.sources.base import Source, SourceContext

LABEL = "GitHub Copilot CLI"


def copilot_places(ctx: SourceContext) -> tuple[Path, Path | None]:
    """(the otel folder, the exporter's file or None): ``copilot.dir`` when set, else Copilot
    CLI's own rule and ``COPILOT_OTEL_FILE_EXPORTER_PATH``."""
    from burntray.sources.copilot.paths import copilot_exporter_file, copilot_otel_dir  # noqa: PLC0415

    configured = str(ctx.option("copilot.dir")).strip()
    folder = Path(configured).expanduser() if configured else copilot_otel_dir(ctx.env)
    return folder, copilot_exporter_file(ctx.env)


def _build(ctx: SourceContext) -> Source:
    from burntray.sources.agent_logs.stores import StoreSource  # noqa: PLC0415
    from burntray.sources.copilot.reader import CopilotReader  # noqa: PLC0415

    folder, single = copilot_places(ctx)
    reader = CopilotReader(folder, single, ctx.prices, ctx.clock_ns)
    folders = [folder] if single is None else [folder, single]
    return StoreSource("copilot", LABEL, reader, folders, ctx.records_history(), ctx.clock_ns)


def _probe(ctx: SourceContext) -> tuple[bool, str]:
    try:
        folder, single = copilot_places(ctx)
    except RuntimeError as exc:  # no home to resolve the default from
        return False, str(exc)
    found = [str(p) for p in (folder, single) if p is not None and p.exists()]
    if found:
        return True, ", ".join(found)
    return False, f"no Copilot CLI telemetry at {folder} (COPILOT_OTEL_FILE_EXPORTER_PATH unset)"


def _doctor(ctx: SourceContext) -> list[str]:
    from burntray.model.price_table import PRICES_AS_OF  # noqa: PLC0415

    folder, single = copilot_places(ctx)
    lines = [f"telemetry    {folder}" + ("" if folder.is_dir() else " (not there)")]
    if single is not None:
        lines.append(f"exporter     {single}" + ("" if single.is_file() else " (not there)"))
    lines.append(f"prices       bundled table {PRICES_AS_OF} ([pricing] overrides it)")
    return lines


SPEC = SourceSpec(
    name="copilot",
    label=LABEL,
    build=_build,
    probe=_probe,
    config_fields=(
        source_field(
            "copilot.dir",
            text,
            "Copilot CLI telemetry folder ('' = $COPILOT_HOME/otel or ~/.copilot/otel)",
            "",
        ),
    ),
    covers=frozenset({"copilot-cli"}),
    detail=DETAIL,
    auto_rank=None,
    doctor=_doctor,
    summary="GitHub Copilot CLI's OpenTelemetry file (~/.copilot/otel/*.jsonl): every model "
    "call's tokens, live",
)
