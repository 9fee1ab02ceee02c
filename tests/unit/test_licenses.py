"""burntray's own license is declared once, the SPDX way, and its text ships with it; the Debian
copyright file names every distribution the standalone build bundles."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_license_is_an_spdx_expression_with_its_file() -> None:
    project = PYPROJECT["project"]
    # A table ({text = ...}) makes setuptools >= 77 warn on every install.
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text
    assert "IN NO EVENT SHALL THE\nAUTHORS OR COPYRIGHT HOLDERS BE LIABLE" in text
    # license-files needs a setuptools that knows PEP 639.
    backend = [r for r in PYPROJECT["build-system"]["requires"] if r.startswith("setuptools")]
    assert [str(Requirement(r).specifier) for r in backend] == [">=77"]
