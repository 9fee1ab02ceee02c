"""The argument parser, built lazily: only the named subcommand's parser is made.

argparse looks up translations for every parser it makes (~0.2 ms each) and builds a help
formatter for every ``add_argument``; tmux runs ``burntray status`` every few seconds, so a
short command builds only its own parser, and the formatter finds its width without shutil.
Each subcommand's arguments are declared by its own module (``burntray.cli.<module>``:
``HELP`` and ``add_arguments``), imported only when that parser is built.
"""

from __future__ import annotations

import argparse
from typing import Any

from burntray import __version__
from burntray.cli.quickargs import (
    COMMAND_MODULES,
    SUBCOMMANDS,
    add_top_arguments,
    command_in,
    command_module,
    terminal_columns,
)

__all__ = [
    "COMMAND_MODULES",
    "SUBCOMMANDS",
    "HelpFormatter",
    "Parser",
    "build_parser",
    "command_in",
    "command_module",
    "terminal_columns",
]


class HelpFormatter(argparse.HelpFormatter):
    """argparse's own formatter; only its default width is found without shutil. argparse
    builds one for every ``add_argument`` (to check metavars), so every short command - tmux
    runs ``burntray status`` every few seconds - paid for that import."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = terminal_columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose subcommands' parsers (built as ``type(parser)``) format with
    ``HelpFormatter`` too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``command`` (one of ``SUBCOMMANDS``), only that
    subcommand's parser is built. The others are only needed to list or reject commands,
    which ``main`` leaves to the full parser."""
    parser = Parser(
        prog="burntray",
        description="LLM usage at a glance: requests, RPM, tokens and cost, live.",
    )
    add_top_arguments(parser, __version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        if command is None or command == name:
            module = command_module(name)
            module.add_arguments(sub.add_parser(name, help=module.HELP))
    return parser
