"""The ``kimi`` source: Kimi CLI's own wire logs, tailed as they are appended (the shared log
machinery is ``burntray.sources.agent_logs``; the format is in ``.logs``)."""

from __future__ import annotations

from burntray.sources.agent_logs.agent_spec import (
    Places,
    agent_spec,
    log_build,
    log_doctor,
    probe_places,
)

READER = "burntray.sources.kimi.logs:KimiLogReader"
PLACES = Places("kimi.dirs", "burntray.sources.kimi.paths:kimi_data_dirs")


SPEC = agent_spec(
    name="kimi",
    label="Kimi CLI",
    places=PLACES,
    option_help="Kimi data folders, comma-separated ('' = KIMI_DATA_DIR or ~/.kimi)",
    covers="kimi-cli",
    summary="Kimi CLI's wire logs (sessions/*/*/wire.jsonl): every step's tokens, live",
    build=log_build("kimi", "Kimi CLI", PLACES, READER),
    probe=probe_places(PLACES, "no Kimi sessions folder in ", "sessions"),
    doctor=log_doctor("kimi", PLACES, ("sessions",)),
)
