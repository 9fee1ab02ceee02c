"""Packaging is code: icons regenerate to the same pixels, metadata validates and matches the
version, and every file the build and the installers name exists."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

import burntray

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
ASSETS = ROOT / "assets" / "app"
sys.path.insert(0, str(PACKAGING))

import make_icons  # noqa: E402


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing (apt package {package})")
        pytest.skip(f"{name} not installed (apt install {package})")
    return path


def test_icons_regenerate_to_the_committed_pixels(tmp_path: Path) -> None:
    make_icons.write_icons(tmp_path)
    for size in make_icons.PNG_SIZES:
        fresh = Image.open(tmp_path / f"burntray-{size}.png")
        committed = Image.open(ASSETS / f"burntray-{size}.png")
        assert fresh.size == committed.size == (size, size)
        assert fresh.mode == committed.mode == "RGBA"
        assert fresh.tobytes() == committed.tobytes(), f"burntray-{size}.png is out of date"


def test_ico_and_icns_hold_the_sizes_installers_need() -> None:
    ico = Image.open(ASSETS / "burntray.ico")
    assert {(s, s) for s in (16, 24, 32, 48, 256)} <= set(ico.info["sizes"])
    icns = Image.open(ASSETS / "burntray.icns")
    pixels = {w * scale for w, h, scale in icns.info["sizes"]}
    assert {32, 128, 256, 512, 1024} <= pixels  # up to 512 pt @2x for Retina


def test_metainfo_newest_release_is_the_package_version() -> None:
    root = ET.parse(PACKAGING / "linux" / "io.github.burntray.metainfo.xml").getroot()
    releases = root.findall("./releases/release")
    assert releases[0].get("version") == burntray.__version__
    assert root.findtext("id") == "io.github.burntray"
    assert root.find("launchable").text == "io.github.burntray.desktop"  # type: ignore[union-attr]


def test_desktop_entry_and_metainfo_validate() -> None:
    desktop = PACKAGING / "linux" / "io.github.burntray.desktop"
    result = subprocess.run(  # noqa: PLW1510 - the exit code is asserted
        [_tool("desktop-file-validate", "desktop-file-utils"), str(desktop)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout
    result = subprocess.run(  # noqa: PLW1510 - the exit code is asserted
        [
            _tool("appstreamcli", "appstream"),
            "validate",
            "--no-net",
            str(PACKAGING / "linux" / "io.github.burntray.metainfo.xml"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_macos_info_plist_hides_the_dock_icon() -> None:
    import plistlib

    info = plistlib.loads((PACKAGING / "macos" / "Info.plist").read_bytes())
    assert info["LSUIElement"] is True
    assert info["CFBundleIdentifier"] == "io.github.burntray"


def test_inno_setup_script_takes_the_version_from_the_build() -> None:
    iss = (PACKAGING / "windows" / "burntray.iss").read_text(encoding="utf-8")
    assert "#ifndef AppVersion" in iss and "#error" in iss  # no version baked in
    assert "PrivilegesRequired=lowest" in iss  # per-user install
    assert r"Software\Microsoft\Windows\CurrentVersion\Run" in iss
    # Every file the installer or the spec names exists in the repo.
    named = re.findall(r"\{#RepoRoot\}\\([\w\\.-]+)", iss)
    assert "assets\\app\\burntray.ico" in named
    for name in named:
        assert (ROOT / name.replace("\\", "/")).exists(), name


@pytest.mark.parametrize("lint_fails", [False, True], ids=["lint passes", "lint fails"])
def test_ci_runs_lint_and_a_lint_failure_fails_ci(tmp_path: Path, lint_fails: bool) -> None:
    """.ci/run, run for real on a copy with make/dpkg-query/python stand-ins that record calls:
    `make lint` runs before `make test`, and a lint failure ends the run (exit non-zero)."""
    (tmp_path / ".ci").mkdir()
    shutil.copy(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls.txt"
    bin_dir.mkdir()
    fail = "lint" if lint_fails else "never"
    stand_ins = {
        "make": f'echo "make $*" >> {calls}; [ "$1" != "{fail}" ]',
        "dpkg-query": "echo 'install ok installed'",  # every package is there: no apt-get
    }
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").write_text("#!/bin/sh\nexit 0\n")
    (tmp_path / ".venv" / "bin" / "python").chmod(0o755)
    for name, body in stand_ins.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CI": "true"}
    done = subprocess.run(
        ["bash", str(tmp_path / ".ci" / "run")],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    made = calls.read_text().splitlines()
    if lint_fails:
        assert done.returncode != 0 and made == ["make .venv/.installed", "make lint"]
    else:
        assert done.returncode == 0, done.stderr
        assert made == ["make .venv/.installed", "make lint", "make test"]


def test_the_price_file_is_package_data_of_the_wheel_and_the_frozen_build() -> None:
    """Every built-in price is in one dated file: the wheel (setuptools package-data) and the
    PyInstaller spec must both carry it, or every request of an install is "unpriced"."""
    import fnmatch
    import tomllib

    from burntray.model.price_table import PRICES_FILE

    shipped = f"data/{PRICES_FILE}"
    assert (ROOT / "src" / "burntray" / shipped).is_file()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wheel = pyproject["tool"]["setuptools"]["package-data"]["burntray"]
    assert any(fnmatch.fnmatch(shipped, pattern) for pattern in wheel), wheel
    spec = (PACKAGING / "pyinstaller" / "burntray.spec").read_text(encoding="utf-8")
    frozen = re.search(r'collect_data_files\("burntray", includes=\[([^\]]*)\]\)', spec)
    assert frozen is not None, "the spec no longer collects burntray's package data"
    patterns = re.findall(r'"([^"]+)"', frozen.group(1))
    assert any(fnmatch.fnmatch(shipped, pattern) for pattern in patterns), patterns
