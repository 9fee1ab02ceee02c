"""The README and docs/: every relative link lands on a file (and heading) that exists, and the
README stays a short front page whose set-up commands come first."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"

FENCE = re.compile(r"^(```|~~~)")
INLINE_CODE = re.compile(r"`[^`]*`")
# [text](target) and ![alt](target), with an optional "title"; text may hold `code` and brackets
# one level deep (e.g. [`hexai`](...)).
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def doc_pages() -> list[Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks, with inline code removed (a link shown as code is
    not a link)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped (hyphens and underscores
    kept), each space a hyphen."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading: its text
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    counts: dict[str, int] = {}
    for line in prose_lines(page.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        seen = counts.get(base, 0)
        counts[base] = seen + 1
        found.add(base if seen == 0 else f"{base}-{seen}")
    return found


def relative_links(page: Path) -> list[str]:
    links = []
    for line in prose_lines(page.read_text(encoding="utf-8")):
        for match in LINK.finditer(INLINE_CODE.sub("", line)):
            target = match.group(1)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
                continue  # https:, mailto: ...: not a file in this repository
            links.append(target)
    return links


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    problems = []
    for target in relative_links(page):
        path_part, _, anchor = target.partition("#")
        dest = page if not path_part else (page.parent / path_part).resolve()
        where = f"{page.relative_to(root)}: ({target})"
        if not dest.exists():
            problems.append(f"{where}: no file {dest}")
        elif root not in dest.parents and dest != root:
            problems.append(f"{where}: points outside the repository")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            problems.append(f"{where}: no heading #{anchor} in {dest.relative_to(root)}")
    return problems


SOURCE_PAGES = ["hexai", "cburn", "claude", "codex", "roder", "ctm", "yoi", "otel", "all"]


def test_docs_folder_has_the_pages_the_readme_promises() -> None:
    for name in [
        "tray.md",
        "alerts.md",
        "reports.md",
        "performance.md",
        "install.md",
        "reference/cli.md",
        "reference/config.md",
        "reference/json.md",
        "reference/metrics.md",
        "maintainers/packaging.md",
        "maintainers/windows-wine.md",
        *(f"sources/{source}.md" for source in SOURCE_PAGES),
    ]:
        assert (DOCS / name).is_file(), name


@pytest.mark.parametrize("page", doc_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    assert broken_links(page) == []


def test_every_docs_page_is_linked_from_somewhere() -> None:
    linked = set()
    for page in doc_pages():
        for target in relative_links(page):
            path_part = target.partition("#")[0]
            if path_part:
                linked.add((page.parent / path_part).resolve())
    orphans = [str(p.relative_to(ROOT)) for p in DOCS.rglob("*.md") if p.resolve() not in linked]
    assert orphans == []


def test_the_link_check_finds_a_missing_file_and_a_missing_heading(tmp_path: Path) -> None:
    # The checker itself, on a page of known faults: were it blind, the tests above would pass
    # whatever the docs say.
    (tmp_path / "tray.md").write_text("# The tray\n", encoding="utf-8")
    page = tmp_path / "probe.md"
    page.write_text(
        "# Probe\n\n## A `code`: heading (here)\n\n"
        "[ok](#a-code-heading-here) [ok](tray.md) [gone](nowhere.md) [bad](tray.md#no-such) "
        "[web](https://example.org/x.md) `[code](not-a-link.md)`\n",
        encoding="utf-8",
    )
    problems = broken_links(page, root=tmp_path)
    assert len(problems) == 2, problems
    assert "no file" in problems[0] and "nowhere.md" in problems[0]
    assert "no heading #no-such" in problems[1]


def test_readme_is_a_short_front_page() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) < 250
    # A fresh machine's user (and CI's hook) finds the two set-up commands at the top.
    head = "\n".join(lines[:40])
    assert "make run" in head
    assert "make test" in head
