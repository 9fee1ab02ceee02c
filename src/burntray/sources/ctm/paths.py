"""ctm's legacy cost store, found as ctm finds it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from burntray.paths import user_home


def ctm_db(env: Mapping[str, str] | None = None) -> Path:
    """ctm's legacy cost store: ``<home>/.config/ctm/ctm.db`` (``config.Dir()``, no XDG and no
    OS branch)."""
    return user_home(env) / ".config" / "ctm" / "ctm.db"
