"""Data core benchmarks (issue 2): parse, re-window, history, status start-up."""

from __future__ import annotations


def run() -> list[tuple[str, str]]:
    return [("(filled in by the data core)", "")]
