"""The ``droid`` source: Factory Droid's session settings (their running token totals), read
in place; the format and its rules are in ``.reader``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from burntray.sources.agent_logs.agent_spec import (
    Places,
    agent_spec,
    count_files,
    probe_places,
)

if TYPE_CHECKING:
    from burntray.sources.base import Source, SourceContext

WATCHED = (".settings.json",)
PLACES = Places("droid.dirs", "burntray.sources.droid.paths:droid_session_dirs")
READER = "burntray.sources.droid.reader:DroidReader"
SOURCE = "burntray.sources.droid.source:DroidSource"


def _build(ctx: SourceContext) -> Source:
    from burntray.sources.droid.reader import DroidReader  # noqa: PLC0415
    from burntray.sources.droid.source import DroidSource  # noqa: PLC0415

    folders = PLACES(ctx)
    reader = DroidReader(folders, ctx.prices)  # file times are the wall clock's, not ctx's
    history = ctx.records_history()
    return DroidSource("droid", "Factory Droid", reader, folders, history, ctx.clock_ns,
                       watch_suffixes=WATCHED)  # fmt: skip


SPEC = agent_spec(
    name="droid",
    label="Factory Droid",
    places=PLACES,
    option_help="Droid sessions folders, comma-separated ('' = DROID_SESSIONS_DIR or "
    "~/.factory/sessions)",
    covers="factory-droid",
    summary="Factory Droid's session settings (~/.factory/sessions): what each session adds, live",
    build=_build,
    probe=probe_places(PLACES, "no Droid sessions folder at "),
    doctor=count_files(PLACES, "sessions", "sessions", WATCHED),
)
