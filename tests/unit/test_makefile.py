"""`make run` installs burntray's runtime dependencies only; the targets that test, lint, bench
or package install the dev extra. Checked with make's own dry run (`make -n`) on a fresh copy
of the Makefile, so nothing is installed and no package index is reached."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def dry_run(checkout: Path, target: str) -> str:
    # Run under `make test` itself, make's own variables would reach this make (and print
    # "Entering directory"); PYTHON and VENV would override the Makefile's defaults.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "PYTHON", "VENV"}
    }
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", target],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    for name in ["Makefile", "pyproject.toml"]:
        shutil.copy2(ROOT / name, tmp_path / name)
    return tmp_path


def pip_installs(commands: str) -> list[str]:
    return [line for line in commands.splitlines() if "pip install" in line and "-e" in line]


def test_make_run_on_a_fresh_checkout_installs_the_runtime_dependencies_only(
    checkout: Path,
) -> None:
    commands = dry_run(checkout, "run")
    assert "-m venv .venv" in commands
    installs = pip_installs(commands)
    assert installs, commands
    assert all("[dev]" not in line and "[test]" not in line for line in installs), installs
    assert any(line.rstrip(" ;fi").endswith("-e .") for line in installs), installs
    assert commands.rstrip().endswith("-m burntray")


@pytest.mark.parametrize("target", ["test", "test-fast", "lint", "format", "bench", "package"])
def test_the_other_targets_install_the_dev_extra(checkout: Path, target: str) -> None:
    installs = pip_installs(dry_run(checkout, target))
    assert installs == [".venv/bin/python -m pip install --quiet -e '.[dev]'"]


def test_run_and_test_keep_separate_stamps(checkout: Path) -> None:
    # A venv set up by `make run` must not count as set up for `make test`: the dev extra is
    # still missing there.
    venv = checkout / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("")
    (venv / ".installed-runtime").write_text("")
    assert pip_installs(dry_run(checkout, "run")) == []
    assert pip_installs(dry_run(checkout, "test")) == [
        ".venv/bin/python -m pip install --quiet -e '.[dev]'"
    ]
