"""The unit tests' guard (tests/unit/conftest.py) refuses the network and package managers."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from tests.unit import conftest


def test_a_unit_test_cannot_reach_beyond_loopback_or_run_a_package_manager() -> None:
    with socket.socket() as sock, pytest.raises(PermissionError, match="must not reach"):
        sock.connect(("192.0.2.1", 443))  # TEST-NET-1: refused before any packet is sent
    with pytest.raises(PermissionError, match="package manager"):
        subprocess.run([sys.executable, "-m", "pip", "download", "burntray"], check=False)
    with pytest.raises(PermissionError, match="package manager"):
        subprocess.run(["npm", "view", "ccusage"], check=False)
    assert len(conftest._violations) == 3
    conftest._violations.clear()  # wanted here: the guard itself is under test


def test_loopback_and_local_processes_stay_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
    done = subprocess.run([sys.executable, "-c", "print('ok')"], capture_output=True, check=True)
    assert done.stdout.strip() == b"ok"
    assert conftest._violations == []
