"""The ``kilo`` source: Kilo CLI's message store (``kilo.db``), read in place with the OpenCode
reader (Kilo is a fork of OpenCode); its rules are in ``.reader``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from burntray.sources.agent_logs.agent_spec import (
    Places,
    agent_spec,
    prices_line,
    probe_places,
    store_build,
)

if TYPE_CHECKING:
    from burntray.sources.base import SourceContext

WATCHED = (".db", ".db-wal", ".db-journal")
PLACES = Places("kilo.dirs", "burntray.sources.kilo.paths:kilo_data_dirs")
READER = "burntray.sources.kilo.reader:KiloReader"


def _database(folder: Path) -> Path:
    return folder / "kilo.db"


def _doctor(ctx: SourceContext) -> list[str]:
    return [*(f"database     {_database(d)}" for d in PLACES(ctx)), prices_line(own_cost="Kilo")]


SPEC = agent_spec(
    name="kilo",
    label="Kilo",
    places=PLACES,
    option_help="Kilo data folders, comma-separated ('' = KILO_DATA_DIR, else "
    "$XDG_DATA_HOME/kilo or ~/.local/share/kilo)",
    covers="kilo",
    summary="Kilo CLI's message store (kilo.db): every message's tokens and cost, live",
    build=store_build("kilo", "Kilo", PLACES, READER, WATCHED),
    probe=probe_places(PLACES, "no kilo.db in ", _database, files=True),
    doctor=_doctor,
)
