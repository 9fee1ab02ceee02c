"""Fixtures the end-to-end tests share."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agent_logs_support import ccusage_binary
from tests.processes import require_tool


@pytest.fixture(scope="session")
def ccusage() -> Path:
    """The real ccusage (the parity peer), installed under .venv/ by npm on first use."""
    require_tool("npm")  # skips without npm (fails in CI, where .ci/run installs it)
    binary = ccusage_binary()
    assert binary is not None
    return binary
