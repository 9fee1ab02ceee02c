"""The ``gemini`` source: Gemini CLI's own chat records, read in place; the format and its
rules are in ``.reader``. It covers the same requests Gemini CLI pushes over OTLP (``otel``):
``all`` counts them once, from here."""

from __future__ import annotations

from burntray.sources.agent_logs.agent_spec import (
    Places,
    agent_spec,
    count_files,
    probe_places,
    store_build,
)

WATCHED = (".json", ".jsonl")
PLACES = Places("gemini.dirs", "burntray.sources.gemini.paths:gemini_data_dirs")
READER = "burntray.sources.gemini.reader:GeminiReader"

SPEC = agent_spec(
    name="gemini",
    label="Gemini CLI",
    places=PLACES,
    option_help="Gemini CLI data folders, comma-separated ('' = GEMINI_DATA_DIR, else "
    "$GEMINI_CLI_HOME/.gemini/tmp or ~/.gemini/tmp)",
    # the OTLP receiver (detail 5) hears the same requests when Gemini CLI's telemetry is on
    covers="gemini-cli",
    summary="Gemini CLI's chat records (~/.gemini/tmp/**/chats): every reply's tokens, live",
    build=store_build("gemini", "Gemini CLI", PLACES, READER, WATCHED),
    probe=probe_places(PLACES, "no Gemini CLI chats folder at "),
    doctor=count_files(PLACES, "chats", "files", WATCHED, unreadable=True),
)
