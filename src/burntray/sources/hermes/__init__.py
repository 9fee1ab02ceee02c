"""The ``hermes`` source: Hermes Agent's state database (its sessions' running totals and
cost), read in place; the format and its rules are in ``.reader``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from burntray.config_keys import source_field, text
from burntray.sources.agent_logs.spec import DETAIL, dirs_option
from burntray.sources.spec import SourceSpec

if TYPE_CHECKING:
    from burntray.sources.base import Source, SourceContext

LABEL = "Hermes Agent"
WATCHED = (".db", ".db-wal", ".db-journal")


def hermes_dbs(ctx: SourceContext) -> list[Path]:
    """Hermes state databases: ``state.db`` in each ``hermes.dirs`` when set, else the rule."""
    from burntray.sources.hermes.paths import hermes_state_dbs  # noqa: PLC0415

    configured = dirs_option(ctx.option("hermes.dirs"))
    return [d / "state.db" for d in configured] if configured else hermes_state_dbs(ctx.env)


def _build(ctx: SourceContext) -> Source:
    from burntray.sources.agent_logs.stores import StoreSource  # noqa: PLC0415
    from burntray.sources.hermes.reader import HermesReader  # noqa: PLC0415

    dbs = hermes_dbs(ctx)
    reader = HermesReader(dbs, ctx.prices, ctx.clock_ns)
    folders = list(dict.fromkeys(db.parent for db in dbs))
    return StoreSource(
        "hermes",
        LABEL,
        reader,
        folders,
        ctx.records_history(),
        ctx.clock_ns,
        watch_suffixes=WATCHED,
    )


def _probe(ctx: SourceContext) -> tuple[bool, str]:
    try:
        dbs = hermes_dbs(ctx)
    except RuntimeError as exc:  # no home to resolve the default from
        return False, str(exc)
    found = [str(db) for db in dbs if db.exists()]
    if found:
        return True, ", ".join(found)
    return False, "no Hermes state.db at " + ", ".join(map(str, dbs))


def _doctor(ctx: SourceContext) -> list[str]:
    from burntray.model.price_table import PRICES_AS_OF  # noqa: PLC0415

    lines = [f"database     {db}{'' if db.exists() else ' (not there)'}" for db in hermes_dbs(ctx)]
    lines.append(f"prices       Hermes's own cost, else bundled table {PRICES_AS_OF}")
    return lines


SPEC = SourceSpec(
    name="hermes",
    label=LABEL,
    build=_build,
    probe=_probe,
    config_fields=(
        source_field(
            "hermes.dirs", text, "Hermes homes, comma-separated ('' = HERMES_HOME or ~/.hermes)", ""
        ),
    ),
    covers=frozenset({"hermes"}),
    detail=DETAIL,
    auto_rank=None,
    doctor=_doctor,
    summary="Hermes Agent's state database (~/.hermes/state.db): what each session adds, live",
)
