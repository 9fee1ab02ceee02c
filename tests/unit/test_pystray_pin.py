"""burntray's xorg tray subclasses pystray's private xorg icon (serialised_xorg_icon in
burntray.ui.xorg_icon): pyproject pins pystray to the versions whose internals it was tested
with, and the installed pystray still has every internal it relies on."""

from __future__ import annotations

import ast
import importlib.metadata
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]

# What SerialisedXorgIcon overrides, calls or reads on pystray._xorg.Icon.
XORG_METHODS = {"_create_window", "_assert_icon_data", "_rewrite_implementation"}
XORG_ATTRIBUTES = {"_message_handlers", "_display", "_window", "_icon_data"}


def pystray_requirement() -> Requirement:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    found = [Requirement(r) for r in project["dependencies"] if Requirement(r).name == "pystray"]
    assert len(found) == 1
    return found[0]


def test_pystray_is_pinned_below_the_next_minor_version() -> None:
    spec = pystray_requirement().specifier
    assert spec.contains("0.19.5")
    # A release whose private xorg icon may have changed is not installed unchecked.
    assert not spec.contains("0.20.0")
    assert not spec.contains("1.0")


def test_the_installed_pystray_is_in_the_pinned_range() -> None:
    version = importlib.metadata.version("pystray")
    assert pystray_requirement().specifier.contains(version), version


def test_the_installed_pystray_xorg_icon_has_the_internals_burntray_uses() -> None:
    # Read as source: importing pystray picks a backend and needs a display.
    source = importlib.metadata.distribution("pystray").locate_file("pystray/_xorg.py")
    tree = ast.parse(Path(str(source)).read_text(encoding="utf-8"))
    icon = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Icon")
    methods = {n.name for n in icon.body if isinstance(n, ast.FunctionDef)}
    assigned = {
        node.attr
        for node in ast.walk(icon)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
        and isinstance(node.ctx, ast.Store)
    }
    assert methods >= XORG_METHODS
    assert assigned >= XORG_ATTRIBUTES
