"""Each time unit is defined once (``model/timefmt.py``); everything else imports it, so no
module can drift to its own (once eight copies of ``NS_PER_MINUTE``)."""

from __future__ import annotations

import ast
from pathlib import Path

import burntray
from burntray.model import timefmt

PACKAGE_DIR = Path(burntray.__file__).parent
HOME = "model/timefmt.py"


def _unit_definitions(tree: ast.AST) -> list[tuple[int, str]]:
    """Module-level assignments to a unit name (``NS_PER_*``), imports not counted."""
    found = []
    for node in getattr(tree, "body", []):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name) and target.id.startswith("NS_PER_"):
                found.append((node.lineno, target.id))
    return found


def test_the_finder_sees_a_unit_defined_again() -> None:
    tree = ast.parse(
        "from x import NS_PER_HOUR\nNS_PER_MINUTE = 60_000_000_000\nNS_PER_DAY: int = 1\n"
    )
    assert [n for _, n in _unit_definitions(tree)] == ["NS_PER_MINUTE", "NS_PER_DAY"]


def test_each_unit_is_defined_only_in_timefmt() -> None:
    found = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        relative = path.relative_to(PACKAGE_DIR).as_posix()
        if relative == HOME:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        found += [f"{relative}:{line}: {name}" for line, name in _unit_definitions(tree)]
    assert not found, "units defined outside model/timefmt.py:\n" + "\n".join(found)


def test_the_units_are_what_they_say() -> None:
    assert timefmt.NS_PER_SECOND == 10**9
    assert timefmt.NS_PER_MINUTE == 60 * 10**9
    assert timefmt.NS_PER_HOUR == 3600 * 10**9
    assert timefmt.NS_PER_DAY == 86_400 * 10**9
