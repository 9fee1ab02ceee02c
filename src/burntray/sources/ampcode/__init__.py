"""The ``ampcode`` source: Amp's own thread files (``threads/*.json``), read in place; the
format and its rules are in ``.reader``. (Named after ampcode.com: burntray's own code may not
carry a source's name, and "amp" is inside too many words.)"""

from __future__ import annotations

from burntray.sources.agent_logs.agent_spec import (
    Places,
    agent_spec,
    count_files,
    probe_places,
    store_build,
)

WATCHED = (".json",)
PLACES = Places("ampcode.dirs", "burntray.sources.ampcode.paths:amp_data_dirs")
READER = "burntray.sources.ampcode.reader:AmpReader"


SPEC = agent_spec(
    name="ampcode",
    label="Amp",
    places=PLACES,
    option_help="Amp data folders, comma-separated ('' = AMP_DATA_DIR, else $XDG_DATA_HOME/amp or "
    "~/.local/share/amp)",
    covers="amp",
    summary="Amp's thread files (threads/*.json): every reply's tokens, live",
    build=store_build("ampcode", "Amp", PLACES, READER, WATCHED),
    probe=probe_places(PLACES, "no Amp threads folder in ", "threads"),
    doctor=count_files(PLACES, "threads", "files", WATCHED, "threads"),
)
