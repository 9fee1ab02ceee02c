"""Unit tests stay on this machine: no connection beyond loopback, no package manager run.

A Python audit hook (the interpreter's own event stream, not a patched function) sees every
``socket.connect`` and ``subprocess.Popen`` in the process. While a unit test runs, a
connection to a non-loopback address or a pip/npm run is refused and the test fails at
teardown, even when the code under test swallowed the error as "offline".
"""

from __future__ import annotations

import ipaddress
import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest

PACKAGE_TOOLS = frozenset({"pip", "pip3", "npm", "npx", "pnpm", "yarn", "uv", "pipx", "poetry"})

_active = False  # a unit test is running (the hook is process-wide and cannot be removed)
_violations: list[str] = []


def _loopback_or_local(address: Any) -> bool:
    if not isinstance(address, tuple):
        return True  # AF_UNIX path (or abstract name): never leaves the machine
    host = address[0]
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%", 1)[0]).is_loopback
    except ValueError:
        return False  # a host name: resolving and connecting to it is network use


def _package_tool(executable: Any, args: Any) -> str:
    argv = [os.fsdecode(a) for a in args] if isinstance(args, (list, tuple)) else [str(args)]
    names = [os.path.basename(os.fsdecode(executable))] if executable else []
    names += [os.path.basename(a) for a in argv[:1]]
    if any(name in PACKAGE_TOOLS for name in names):
        return " ".join(argv)
    if "-m" in argv and argv.index("-m") + 1 < len(argv) and argv[argv.index("-m") + 1] == "pip":
        return " ".join(argv)
    return ""


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _active:
        return
    if event == "socket.connect" and not _loopback_or_local(args[1]):
        _violations.append(f"connect to {args[1]!r}")
        raise PermissionError(f"unit tests must not reach the network (connect to {args[1]!r})")
    if event == "subprocess.Popen" and (run := _package_tool(args[0], args[1])):
        _violations.append(f"ran {run!r}")
        raise PermissionError(f"unit tests must not run a package manager ({run!r})")


sys.addaudithook(_hook)


@pytest.fixture(autouse=True)
def _no_network_or_registry() -> Iterator[None]:
    global _active
    _violations.clear()
    _active = True
    try:
        yield
    finally:
        _active = False
    if _violations:
        pytest.fail("a unit test reached beyond this machine: " + "; ".join(_violations))
