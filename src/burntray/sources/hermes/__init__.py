"""The ``hermes`` source: Hermes Agent's state database (its sessions' running totals and
cost), read in place; the format and its rules are in ``.reader``."""

from __future__ import annotations

from pathlib import Path

from burntray.sources.agent_logs.agent_spec import (
    Places,
    agent_spec,
    list_databases,
    probe_places,
    store_build,
)

WATCHED = (".db", ".db-wal", ".db-journal")


def _state_db(home: Path) -> Path:
    return home / "state.db"


PLACES = Places("hermes.dirs", "burntray.sources.hermes.paths:hermes_state_dbs", _state_db)
READER = "burntray.sources.hermes.reader:HermesReader"

SPEC = agent_spec(
    name="hermes",
    label="Hermes Agent",
    places=PLACES,
    option_help="Hermes homes, comma-separated ('' = HERMES_HOME or ~/.hermes)",
    covers="hermes",
    summary="Hermes Agent's state database (~/.hermes/state.db): what each session adds, live",
    build=store_build(
        "hermes", "Hermes Agent", PLACES, READER, WATCHED, databases=True, parts=True
    ),
    probe=probe_places(PLACES, "no Hermes state.db at ", files=True),
    doctor=list_databases(PLACES, own_cost="Hermes"),
)
