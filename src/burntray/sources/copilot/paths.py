"""Where GitHub Copilot CLI's OpenTelemetry file exporter writes, as ccusage looks for it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from burntray.paths import env_dir, user_home


def copilot_otel_dir(env: Mapping[str, str] | None = None) -> Path:
    """``~/.copilot/otel`` (Copilot CLI's home is ``$COPILOT_HOME``, else ``~/.copilot``)."""
    env = os.environ if env is None else env
    home = env_dir(env, "COPILOT_HOME")
    return (home if home is not None else user_home(env) / ".copilot") / "otel"


def copilot_exporter_file(env: Mapping[str, str] | None = None) -> Path | None:
    """The file ``$COPILOT_OTEL_FILE_EXPORTER_PATH`` names (None when unset)."""
    env = os.environ if env is None else env
    return env_dir(env, "COPILOT_OTEL_FILE_EXPORTER_PATH")
