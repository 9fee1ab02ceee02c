"""Smoke-test a frozen burntray on any OS: the release workflow runs it on each native runner.

    python packaging/smoke_test.py PATH/TO/burntray[.exe] [--no-self-test]

Needs burntray importable from source in the same interpreter (``pip install -e .``): it writes
a real hexai cache with burntray's hexai-compatible writer, then checks that the frozen binary
prints the same numbers as the source build, that ``--self-test`` passes (it needs a desktop
session, or Xvfb on Linux), and that ``autostart on|status|off`` registers the frozen binary.
Everything runs in a temporary BURNTRAY_HOME / XDG_CACHE_HOME / XDG_CONFIG_HOME / HOME; on
Windows start at login is the real HKCU Run value, switched off again at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


class SmokeFailure(AssertionError):
    pass


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    print(f"$ {' '.join(argv)}  -> exit {result.returncode}")
    for line in (result.stdout + result.stderr).splitlines():
        print(f"    {line}")
    return result


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise SmokeFailure(what)
    print(f"ok: {what}")


def _figures(stdout: str) -> tuple[object, ...]:
    data = json.loads(stdout)
    return data["source"], data["status"]["state"], data["totals"], data["by_model"]


def smoke(exe: Path, self_test: bool) -> None:
    from burntray import __version__
    from burntray.sources.hexai.writer import hexai_update

    with tempfile.TemporaryDirectory(prefix="burntray-smoke-") as tmp_name:
        tmp = Path(tmp_name)
        env = {k: v for k, v in os.environ.items() if k != "PYSTRAY_BACKEND"}
        env.update(
            BURNTRAY_HOME=str(tmp / "burntray"),
            XDG_CACHE_HOME=str(tmp / "cache"),
            XDG_CONFIG_HOME=str(tmp / "config"),
        )
        if sys.platform != "win32":
            (tmp / "home").mkdir()
            env["HOME"] = str(tmp / "home")
        cache = tmp / "cache" / "hexai"
        for provider, model, sent, recv in [
            ("openai", "gpt-4.1", 4000, 400),
            ("anthropic", "claude-sonnet-4", 8000, 3000),
            ("acme", "mystery-1", 50, 5),
        ]:
            hexai_update(cache, provider, model, sent, recv)

        version = _run([str(exe), "--version"], env)
        _expect(version.stdout.strip() == f"burntray {__version__}", "version matches the source")

        args = ["status", "--format", "json"]
        frozen = _run([str(exe), *args], env)
        source = _run([sys.executable, "-m", "burntray", *args], env)
        _expect(frozen.returncode == 0, "frozen status exits 0")
        _expect(_figures(frozen.stdout) == _figures(source.stdout), "same numbers as source")
        _expect(json.loads(frozen.stdout)["totals"]["reqs"] == 3, "3 requests read")

        if self_test:
            result = _run([str(exe), "--self-test"], env)
            _expect(result.returncode == 0, "--self-test passes")

        on = _run([str(exe), "autostart", "on"], env)
        _expect(on.returncode == 0 and "start at login: on" in on.stdout, "autostart on")
        _expect(str(exe.parent) in on.stdout, "the frozen binary's folder is registered")
        off = _run([str(exe), "autostart", "off"], env)
        _expect(off.returncode == 0 and "start at login: off" in off.stdout, "autostart off")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="smoke-test a frozen burntray binary")
    parser.add_argument("exe", type=Path)
    parser.add_argument("--no-self-test", action="store_true", help="skip --self-test")
    args = parser.parse_args(argv)
    try:
        smoke(args.exe.resolve(), not args.no_self_test)
    except (SmokeFailure, subprocess.TimeoutExpired, ValueError, KeyError) as exc:
        print(f"SMOKE TEST FAILED: {exc}", file=sys.stderr)
        return 1
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
