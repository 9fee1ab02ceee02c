"""Test isolation: no test reads or writes the real user's config, cache, data or session bus."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

# Variables that would let a test reach the user's desktop, bus or real data.
_SCRUBBED = (
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "DBUS_SESSION_BUS_ADDRESS",
    "BURNTRAY_CBURN_URL",
    "TMUX",
    "XDG_RUNTIME_DIR",
    # upstream tools' own location variables: a test must never find the user's real stores
    "RODER_CONFIG_DIR",
    "RODER_DATA_DIR",
    "RODER_STATS_DATA_DIR",
    "YOI_DATA_DIR",
    "YOI_HOME",
    "CLAUDE_CONFIG_DIR",
    "CODEX_HOME",
    "HEXAI_CONFIG",
    # the agents read as ccusage reads them
    "OPENCODE_DATA_DIR",
    "GEMINI_DATA_DIR",
    "GEMINI_CLI_HOME",
    "COPILOT_OTEL_FILE_EXPORTER_PATH",
    "COPILOT_HOME",
    "QWEN_DATA_DIR",
    "AMP_DATA_DIR",
    "KIMI_DATA_DIR",
    "DROID_SESSIONS_DIR",
    "CODEBUFF_DATA_DIR",
    "PI_AGENT_DIR",
    "KILO_DATA_DIR",
    "GOOSE_PATH_ROOT",
    "HERMES_HOME",
    "OPENCLAW_DIR",
)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HOME, every XDG dir and BURNTRAY_HOME into the test's tmp dir."""
    home = tmp_path / "home"
    home.mkdir()
    for var in _SCRUBBED:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.setenv("BURNTRAY_HOME", str(tmp_path / "burntray"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    # An address that cannot connect: nothing can reach the user's real session bus.
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/burntray-test-bus")
    monkeypatch.setenv("PYSTRAY_BACKEND", "dummy")
    monkeypatch.setenv("NO_AT_BRIDGE", "1")
    return tmp_path


@pytest.fixture
def hexai_dir(tmp_path: Path) -> Path:
    """hexai's cache dir as hexai resolves it under the isolated XDG_CACHE_HOME."""
    path = tmp_path / "xdg-cache" / "hexai"
    path.mkdir(parents=True)
    return path


@pytest.fixture
def clean_root_logger() -> Iterator[None]:
    """For tests that set up burntray's logging: the root logger's handlers they added are
    closed and removed, and its level restored, so no log file stays open into other tests."""
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(level)
