"""The ``codebuff`` source: Codebuff's own chat files (``chat-messages.json``), read in place;
the format and its rules are in ``.reader``."""

from __future__ import annotations

from pathlib import Path

from burntray.sources.agent_logs.agent_spec import (
    Places,
    agent_spec,
    count_files,
    probe_places,
    store_build,
)

WATCHED = ("chat-messages.json",)


def _projects(folder: Path) -> Path:
    """A configured Codebuff folder's ``projects`` (the folder itself when it is that)."""
    return folder if folder.name == "projects" else folder / "projects"


PLACES = Places("codebuff.dirs", "burntray.sources.codebuff.paths:codebuff_project_dirs", _projects)
READER = "burntray.sources.codebuff.reader:CodebuffReader"

SPEC = agent_spec(
    name="codebuff",
    label="Codebuff",
    places=PLACES,
    option_help="Codebuff data folders, comma-separated ('' = CODEBUFF_DATA_DIR or "
    "~/.config/manicode and its dev and staging channels)",
    covers="codebuff",
    summary="Codebuff's chat files (~/.config/manicode/projects): every reply's tokens, live",
    build=store_build("codebuff", "Codebuff", PLACES, READER, WATCHED),
    probe=probe_places(PLACES, "no Codebuff projects folder at "),
    doctor=count_files(PLACES, "chats", "chats", WATCHED),
)
