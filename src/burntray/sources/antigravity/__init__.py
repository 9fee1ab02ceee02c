"""The ``antigravity`` source: Antigravity's own conversation databases
(``conversations/*.db``), read in place; the format and its rules are in ``.reader``."""

from __future__ import annotations

from burntray.sources.agent_logs.agent_spec import (
    Places,
    agent_spec,
    count_files,
    probe_places,
    store_build,
)

WATCHED = (".db", ".db-wal", ".db-journal")
PLACES = Places("antigravity.dirs", "burntray.sources.antigravity.paths:antigravity_dirs")
READER = "burntray.sources.antigravity.reader:AntigravityReader"


SPEC = agent_spec(
    name="antigravity",
    label="Antigravity",
    places=PLACES,
    option_help="Antigravity data folders, comma-separated ('' = ANTIGRAVITY_DATA_DIR, else "
    "~/.gemini/antigravity{,-cli,-ide,-backup} and ~/.config/antigravity)",
    covers="antigravity",
    summary="Antigravity's conversation databases (conversations/*.db): every response's "
    "tokens, live",
    build=store_build("antigravity", "Antigravity", PLACES, READER, WATCHED),
    probe=probe_places(PLACES, "no Antigravity conversations folder in ", "conversations"),
    doctor=count_files(PLACES, "conversations", "databases", (".db",), "conversations"),
)
