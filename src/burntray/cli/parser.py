"""The argument parser, built lazily: only the named subcommand's parser is made.

argparse looks up translations for every parser it makes (~0.2 ms each) and builds a help
formatter for every ``add_argument``; tmux runs ``burntray status`` every few seconds, so a
short command builds only its own parser, and the formatter finds its width without shutil.
Each subcommand's arguments are declared by its own module (``burntray.cli.<module>``:
``HELP`` and ``add_arguments``), imported only when that parser is built.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from burntray import __version__

# Every subcommand, in --help order, and the module of burntray.cli that implements it.
COMMAND_MODULES = {
    "run": "run",
    "status": "status",
    "clear-cache": "clear_cache",
    "doctor": "doctor",
    "demo": "demo",
    "report": "report",
    "serve": "serve",
    "autostart": "autostart",
    "statusline": "statusline",
}
SUBCOMMANDS = tuple(COMMAND_MODULES)


def command_module(name: str) -> ModuleType:
    """The module implementing subcommand ``name`` (``run(args) -> int``, ``HELP``,
    ``add_arguments(parser)``)."""
    return importlib.import_module(f"burntray.cli.{COMMAND_MODULES[name]}")


def terminal_columns() -> int:
    """``shutil.get_terminal_size().columns`` (``$COLUMNS``, else the terminal on stdout, else
    80) without importing shutil, which brings bz2, lzma and zlib along."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


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
    parser.add_argument("--version", action="version", version=f"burntray {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation (paths, sources, icon, tray backend) and exit",
    )
    # `burntray -v` / `burntray --terminal`: the run options on the bare command (which runs).
    # Their own dests: a subcommand's defaults would overwrite shared ones.
    parser.add_argument(
        "--terminal", dest="bare_terminal", action="store_true", help="run: live terminal view"
    )
    parser.add_argument(
        "-v", "--verbose", dest="bare_verbose", action="store_true", help="run: also log to stderr"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        if command is None or command == name:
            module = command_module(name)
            module.add_arguments(sub.add_parser(name, help=module.HELP))
    return parser


def command_in(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names, when it plainly names one: its first word that is not an
    option (the top-level options take no values). None - build every parser - otherwise:
    no command, a mistyped one (argparse lists the choices), or anything after ``--``."""
    for arg in argv:
        if arg == "--":
            return None
        if not arg.startswith("-"):
            return arg if arg in SUBCOMMANDS else None
    return None
