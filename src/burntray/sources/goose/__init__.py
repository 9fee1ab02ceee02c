"""The ``goose`` source: Goose's session database (its sessions' running token totals), read in
place; the format and its rules are in ``.reader``."""

from __future__ import annotations

from burntray.sources.agent_logs.agent_spec import (
    Places,
    agent_spec,
    list_databases,
    probe_places,
    store_build,
)

WATCHED = (".db", ".db-wal", ".db-journal")
PLACES = Places("goose.db", "burntray.sources.goose.paths:goose_databases")
READER = "burntray.sources.goose.reader:GooseReader"

SPEC = agent_spec(
    name="goose",
    label="Goose",
    places=PLACES,
    option_help="Goose sessions.db files, comma-separated ('' = GOOSE_PATH_ROOT, else "
    "$XDG_DATA_HOME/goose/sessions/sessions.db and where macOS builds keep it)",
    covers="goose",
    summary="Goose's session database (sessions.db): what each session adds, live",
    build=store_build("goose", "Goose", PLACES, READER, WATCHED, databases=True, parts=True),
    probe=probe_places(PLACES, "no Goose sessions.db at ", files=True),
    doctor=list_databases(PLACES),
)
