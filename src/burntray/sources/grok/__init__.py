"""The ``grok`` source: Grok Build CLI's own session update logs, tailed as they are appended
(the shared log machinery is ``burntray.sources.agent_logs``; the format is in ``.logs``)."""

from __future__ import annotations

from burntray.sources.agent_logs.agent_spec import (
    Places,
    agent_spec,
    log_build,
    log_doctor,
    probe_places,
)

READER = "burntray.sources.grok.logs:GrokLogReader"
PLACES = Places("grok.dirs", "burntray.sources.grok.paths:grok_homes")


SPEC = agent_spec(
    name="grok",
    label="Grok Build",
    places=PLACES,
    option_help="Grok Build home folders, comma-separated ('' = GROK_HOME or ~/.grok)",
    covers="grok-build",
    summary="Grok Build's session logs (sessions/*/*/updates.jsonl): every turn's tokens, live",
    build=log_build("grok", "Grok Build", PLACES, READER),
    probe=probe_places(PLACES, "no Grok Build sessions folder in ", "sessions"),
    doctor=log_doctor("grok", PLACES, ("sessions",)),
)
