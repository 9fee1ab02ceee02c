"""The ``droid`` source: Factory Droid's session settings (their running token totals), read
in place; the format and its rules are in ``.reader``."""

from __future__ import annotations

from burntray.sources.agent_logs.agent_spec import (
    Places,
    agent_spec,
    count_files,
    probe_places,
    store_build,
)

WATCHED = (".settings.json",)
PLACES = Places("droid.dirs", "burntray.sources.droid.paths:droid_session_dirs")
READER = "burntray.sources.droid.reader:DroidReader"

SPEC = agent_spec(
    name="droid",
    label="Factory Droid",
    places=PLACES,
    option_help="Droid sessions folders, comma-separated ('' = DROID_SESSIONS_DIR or "
    "~/.factory/sessions)",
    covers="factory-droid",
    summary="Factory Droid's session settings (~/.factory/sessions): what each session adds, live",
    build=store_build("droid", "Factory Droid", PLACES, READER, WATCHED),
    probe=probe_places(PLACES, "no Droid sessions folder at "),
    doctor=count_files(PLACES, "sessions", "sessions", WATCHED),
)
