"""The command table, and the plain command lines read without argparse.

tmux runs ``burntray status --format tmux`` every few seconds and Claude Code runs ``burntray
statusline`` after every message; importing argparse (with gettext and locale) and building a
parser was about a tenth of such a run. A command line of the usual shape - the command first,
then its own long options, each exactly as declared, with plain values that the declaration
accepts - is read here into the namespace argparse would give. Anything else (``-h``, a short
or abbreviated option, a value argparse would refuse or convert, an option before the command)
returns None and the real parser reads it, with its own messages. The options are the command
module's own ``add_arguments``, recorded rather than copied, so the two cannot drift apart.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Sequence
from types import ModuleType, SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import argparse

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
# The commands run over and over by other programs: only these are read here.
QUICK_COMMANDS = ("status", "statusline")


def command_module(name: str) -> ModuleType:
    """The module implementing subcommand ``name`` (``run(args) -> int``, ``HELP``,
    ``add_arguments(parser)``)."""
    return importlib.import_module(f"burntray.cli.{COMMAND_MODULES[name]}")


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


def add_top_arguments(parser: argparse.ArgumentParser, version: str) -> None:
    """The options before any command (``burntray -v`` / ``burntray --terminal``: the run
    options on the bare command, which runs; their own dests, since a subcommand's defaults
    would overwrite shared ones)."""
    parser.add_argument("--version", action="version", version=f"burntray {version}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation (paths, sources, icon, tray backend) and exit",
    )
    parser.add_argument(
        "--terminal", dest="bare_terminal", action="store_true", help="run: live terminal view"
    )
    parser.add_argument(
        "-v", "--verbose", dest="bare_verbose", action="store_true", help="run: also log to stderr"
    )


class _Option:
    __slots__ = ("choices", "dest", "flag")

    def __init__(self, dest: str, flag: bool, choices: Sequence[str] | None) -> None:
        self.dest, self.flag, self.choices = dest, flag, choices


class _Recorder:
    """Stands in for an ArgumentParser while ``add_arguments`` declares the options: the
    defaults every namespace gets, and the options and the one optional positional read here.
    An option declared in a way this reader does not follow is left to argparse when given;
    a declaration that changes the namespace in such a way makes every line argparse's."""

    def __init__(self) -> None:
        self.defaults: dict[str, Any] = {}
        self.options: dict[str, _Option] = {}
        self.positional: _Option | None = None
        self.usable = True

    def add_argument(self, *names: str, **kw: Any) -> None:
        action = kw.get("action", "store")
        if action == "version":
            return  # no dest: the namespace has nothing of it
        longs = [n for n in names if n.startswith("--")]
        dest = kw.get("dest") or (longs[0] if longs else names[0]).lstrip("-").replace("-", "_")
        flag = action == "store_true"
        default = kw.get("default", False if flag else None)
        converted = isinstance(default, str) and "type" in kw  # argparse converts the default
        if action not in ("store", "store_true") or converted or kw.get("required"):
            self.usable = False
            return
        self.defaults[dest] = default
        choices = kw.get("choices")
        plain = "type" not in kw and (choices is None or all(isinstance(c, str) for c in choices))
        if not names[0].startswith("-"):  # a positional: only one optional one is read here
            if kw.get("nargs") != "?" or self.positional is not None or not plain:
                self.usable = False
            self.positional = _Option(dest, False, choices)
        elif plain and kw.get("nargs") is None:
            for name in longs:
                self.options[name] = _Option(dest, flag, choices)

    def __getattr__(self, name: str) -> Any:
        """Anything else a declaration asks of a parser (a group, ``set_defaults``): argparse's
        to read, so every line of that command goes to it."""
        self.usable = False
        return lambda *args, **kw: self


def _declared(declare: Callable[[argparse.ArgumentParser], None]) -> _Recorder:
    recorder = _Recorder()
    declare(cast("argparse.ArgumentParser", recorder))
    return recorder


def quick_parse(argv: Sequence[str], version: str) -> SimpleNamespace | None:
    """``argv`` read as argparse would read it, when it is a plain line of a quick command;
    else None (the caller lets argparse read it)."""
    if not argv or argv[0] not in QUICK_COMMANDS:
        return None
    name = argv[0]
    top = _declared(lambda parser: add_top_arguments(parser, version))
    own = _declared(command_module(name).add_arguments)
    if not (top.usable and own.usable):
        return None
    values = {**top.defaults, "command": name, **own.defaults}
    words = list(argv[1:])
    # argparse fills an optional positional at its first chance: only right after the command
    if words and not words[0].startswith("-"):
        word = words.pop(0)
        if own.positional is None or not _accepts(own.positional, word):
            return None
        values[own.positional.dest] = word
    while words:
        key, eq, given = words.pop(0).partition("=")
        found = own.options.get(key)
        if found is None:
            return None  # -h, a short, abbreviated or unknown option, a second positional
        if found.flag:
            if eq:
                return None
            values[found.dest] = True
            continue
        if not eq:
            if not words:
                return None
            given = words.pop(0)
        if given.startswith("-") or not _accepts(found, given):
            return None
        values[found.dest] = given
    return SimpleNamespace(**values)


def _accepts(option: _Option, value: str) -> bool:
    return option.choices is None or value in option.choices
