"""The ``zcode`` source: ZCode's own usage database (``cli/db/db.sqlite``), read in place; the
format and its rules are in ``.reader``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from burntray.sources.agent_logs.agent_spec import (
    Places,
    agent_spec,
    prices_line,
    probe_places,
    store_build,
)

if TYPE_CHECKING:
    from burntray.sources.base import SourceContext

WATCHED = (".sqlite", ".sqlite-wal", ".sqlite-journal")
PLACES = Places("zcode.dirs", "burntray.sources.zcode.paths:zcode_homes")
READER = "burntray.sources.zcode.reader:ZCodeReader"


def _database(home: Path) -> Path:
    return home / "cli" / "db" / "db.sqlite"


def _doctor(ctx: SourceContext) -> list[str]:
    return [*(f"database     {_database(d)}" for d in PLACES(ctx)), prices_line()]


SPEC = agent_spec(
    name="zcode",
    label="ZCode",
    places=PLACES,
    option_help="ZCode home folders, comma-separated ('' = ZCODE_HOME or ~/.zcode)",
    covers="zcode",
    summary="ZCode's usage database (cli/db/db.sqlite): every model call's tokens, live",
    build=store_build("zcode", "ZCode", PLACES, READER, WATCHED),
    probe=probe_places(PLACES, "no ZCode cli/db/db.sqlite in ", _database, files=True),
    doctor=_doctor,
)
