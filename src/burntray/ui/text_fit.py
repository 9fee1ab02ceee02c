"""Fitting text into the tray's limits: the tooltip within 127 characters, menu rows within
72, whole errors wrapped; shortened first (paths to file names, errno tags dropped), then cut at
a word with "…" marking the cut.
"""

from __future__ import annotations

import re
import textwrap

TITLE_LIMIT = 127  # pystray's win32 backend raises ValueError above this
ROW_LIMIT = 72  # menu rows longer than this are cut (or wrapped): menus should not be screen-wide
# A whole error is shown wrapped in its own submenu; past this many lines (a pasted file?) the
# rest is left out, said so in the last line.
PROBLEM_LINES = 40


def cut(text: str, limit: int) -> str:
    text = " ".join(text.split())  # one line: details may carry newlines
    return text if len(text) <= limit else text[: limit - 1] + "…"


_PATH = re.compile(r"(?:~|\.{0,2})?/[^\s:'\"]*/([^\s/:'\"]+)")
_ERRNO = re.compile(r"\[Errno -?\d+\]\s*")


def short_reason(text: str) -> str:
    """A reason in fewer characters, same meaning: folders of paths and errno tags go."""
    return " ".join(_ERRNO.sub("", _PATH.sub(r"…/\1", text)).split())


def cut_words(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, "…" marking the cut;
    "" when not even a word fits."""
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - 1)]
    if " " in cut and not text[len(cut)].isspace():
        cut = cut.rsplit(" ", 1)[0]  # never end on half a word
    cut = cut.rstrip(" ·:,;-")
    return cut + "…" if cut else ""


def fit_title(kept: list[str], extras: list[str]) -> str:
    """The tooltip within the limit: the ``kept`` lines (heading, figures) whole; then the
    ``extras`` (error, alert, status note) in order, each made shorter first (paths to their
    file name, errno tags dropped), then cut at a word, never mid-word; what does not fit goes.
    """
    title = "\n".join(" ".join(line.split()) for line in kept)
    if len(title) > TITLE_LIMIT:
        return title[: TITLE_LIMIT - 1].rstrip() + "…"
    for extra in extras:
        line = " ".join(extra.split())
        room = TITLE_LIMIT - len(title) - 1  # the newline
        if len(line) > room:
            line = cut_words(short_reason(line), room)
        if not line:
            break
        title += "\n" + line
        if line.endswith("…"):
            break
    return title


def wrap_lines(text: str, width: int = ROW_LIMIT) -> tuple[str, ...]:
    """``text`` whole, in lines of at most ``width`` characters (its own line breaks kept; a
    word longer than a line, such as a path, is split across lines, never cut off)."""
    lines: list[str] = []
    for paragraph in text.splitlines():
        lines += textwrap.wrap(paragraph, width, break_on_hyphens=False)
    if len(lines) > PROBLEM_LINES:
        left_out = len(lines) - PROBLEM_LINES + 1
        lines = [*lines[: PROBLEM_LINES - 1], f"… and {left_out} more lines (burntray doctor)"]
    return tuple(lines)
