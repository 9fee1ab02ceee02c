"""Kilo's message store: ``kilo.db`` in each data folder, OpenCode's schema (Kilo CLI is a fork
of OpenCode), read by the OpenCode reader with Kilo's rules: assistant messages only, the
provider optional, ``time.created`` in seconds or ms, no legacy JSON files, and a message's key
its database and row id (as ccusage keys it)."""

from __future__ import annotations

from pathlib import Path

from burntray.sources.opencode.reader import OpenCodeReader

DB_NAME = "kilo.db"


class KiloReader(OpenCodeReader):
    what = "Kilo database"
    tool = "Kilo"
    kilo = True
    legacy = ()

    def database(self, folder: Path) -> Path | None:
        path = folder / DB_NAME
        return path if path.is_file() else None
