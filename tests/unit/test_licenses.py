"""burntray's own license is declared once, the SPDX way, and its text ships with it; the Debian
copyright file names every distribution the standalone build bundles."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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


COPYRIGHT = ROOT / "packaging" / "linux" / "copyright"


def runtime_distributions() -> set[str]:
    """burntray's run-time dependencies and theirs, as installed here (markers evaluated for this
    machine, extras left out): what PyInstaller bundles into the standalone build."""
    found: set[str] = set()
    todo = [str(req) for req in importlib.metadata.requires("burntray") or []]
    while todo:
        req = Requirement(todo.pop())
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(req.name)
        if name in found:
            continue
        found.add(name)
        todo += importlib.metadata.requires(req.name) or []
    return found


def copyright_stanzas() -> list[dict[str, str]]:
    """The Debian copyright file's paragraphs as {field: first line of its value}."""
    stanzas = []
    for block in re.split(r"\n\s*\n", COPYRIGHT.read_text(encoding="utf-8")):
        fields = {}
        for line in block.splitlines():
            match = re.match(r"^([A-Za-z-]+):\s*(.*)$", line)
            if match:
                fields[match.group(1)] = match.group(2)
        stanzas.append(fields)
    return stanzas


def test_every_bundled_distribution_is_in_the_debian_copyright_file() -> None:
    listed = {}
    for stanza in copyright_stanzas():
        match = re.fullmatch(r"bundled Python distribution (\S+)", stanza.get("Comment", ""))
        if match:
            listed[canonicalize_name(match.group(1))] = stanza
    runtime = runtime_distributions()
    assert "pystray" in runtime and "anyio" in runtime  # a direct and an indirect one
    missing = sorted(runtime - set(listed))
    assert missing == [], f"add to {COPYRIGHT.relative_to(ROOT)}: {missing}"
    for name in runtime:
        assert listed[name].get("License"), name
        assert listed[name].get("Copyright"), name


def test_the_debian_copyright_file_names_the_runtime_and_bootloader() -> None:
    licenses = {s.get("License", "") for s in copyright_stanzas()}
    assert "MIT" in licenses  # burntray itself
    assert "PSF-2.0" in licenses  # the bundled CPython
    assert any(lic.startswith("GPL-2.0+ with PyInstaller") for lic in licenses)
