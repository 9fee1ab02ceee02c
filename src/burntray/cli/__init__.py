"""Command line: ``burntray [run|status|report|clear-cache|doctor|demo|serve|autostart] ...``.

One module per command (``burntray.cli.status``, ``.report``, ...; the table is
``parser.COMMAND_MODULES``), each with its arguments (``add_arguments``) and its body (``run``).
Exit codes (documented in docs/reference/cli.md): 0 ok; 1 the source is unreadable or offline,
or an operation failed or was declined; 2 usage or configuration error. Imports stay lazy so
that ``burntray status --format tmux``, which tmux runs every few seconds, starts fast: only the
named command's module and parser are loaded.
"""

from __future__ import annotations

import gc
import os
import sys
import types


def _uuid_platform() -> types.ModuleType | None:
    """What ``uuid`` takes from ``platform`` on a POSIX system, as a module of its own.

    uuid (msgspec loads it for its ``UUID`` type) imports platform only to ask ``system()``
    whether this is AIX or Linux, and platform's import compiles its regular expressions: 8.8 M
    instructions of a warm ``status``'s ~240 M. ``platform.system()`` is ``os.uname()``'s
    system name there (its other cases are Windows, Java and systems without ``uname``, where
    this gives None and uuid gets the real module). Used only while uuid loads: a later import
    of platform gets the real module."""
    if sys.platform in ("win32", "darwin") or not hasattr(os, "uname"):
        return None  # uuid does not import platform there, or platform answers otherwise
    shim = types.ModuleType("platform", "platform.system() for uuid's import (burntray.cli)")
    name = os.uname().sysname
    shim.system = lambda: name  # type: ignore[attr-defined]
    return shim


class _ImportedOnUse(types.ModuleType):
    """Stands in for a module that an import names but calls only from functions a short
    command seldom or never uses: the real module is imported when an attribute is first asked
    for. ``textwrap`` for msgspec (JSON schemas' descriptions, which burntray never asks for:
    4.7 M instructions to import), ``msgspec.inspect`` (types described as objects, for JSON
    schemas and users of that module: 5.5 M), ``ipaddress`` for ``urllib.parse``, which
    pathlib imports (a URL's bracketed host is checked with it: 5.7 M)."""

    def __getattr__(self, attr: str) -> object:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        __import__(self.__name__)
        return getattr(sys.modules[self.__name__], attr)


def _import_msgspec_lean() -> None:
    """Import msgspec with ``typing_extensions`` hidden, so that it takes typing's own helpers,
    uuid with ``_uuid_platform`` for platform, textwrap and msgspec.inspect imported when
    first used.

    msgspec's first import loads typing_extensions (and with it inspect, ast, dis and tokenize)
    only for ``get_type_hints``, ``Required`` and ``NotRequired``, falling back to typing's when
    it is absent: about a tenth of the instructions of a warm ``status``. On Python >= 3.11
    those are the same: ``Required`` and ``NotRequired`` are typing's objects, and its
    ``get_type_hints`` with ``include_extras=True`` (msgspec's only call) returns typing's
    answer unchanged. Nothing else is hidden or stood in for, and only while msgspec loads: a
    later import of typing_extensions (the tray's notifier), platform, textwrap or
    msgspec.inspect gets the real module. Where msgspec is loaded already, or
    typing_extensions is, nothing changes; a msgspec that needs typing_extensions gets it (it
    is imported again, as usual)."""
    if "msgspec" in sys.modules or "typing_extensions" in sys.modules:
        return
    shims: dict[str, types.ModuleType] = {}
    platform = None if "uuid" in sys.modules else _uuid_platform()
    if platform is not None:
        shims["platform"] = platform
    shims["textwrap"] = _ImportedOnUse("textwrap")
    shims["msgspec.inspect"] = _ImportedOnUse("msgspec.inspect")
    shims = {name: shim for name, shim in shims.items() if name not in sys.modules}
    sys.modules.update(shims)
    sys.modules["typing_extensions"] = None  # type: ignore[assignment]  # import raises
    try:
        import msgspec  # noqa: F401, PLC0415
    except ImportError:  # a msgspec that cannot do without it: leave no half-loaded module
        for name in [n for n in sys.modules if n == "msgspec" or n.startswith("msgspec.")]:
            del sys.modules[name]
    finally:
        if sys.modules.get("typing_extensions", False) is None:
            del sys.modules["typing_extensions"]
        for name, shim in shims.items():  # later imports get the real modules
            if sys.modules.get(name) is shim:
                del sys.modules[name]


_import_msgspec_lean()


def _import_pathlib_lean() -> None:
    """Import pathlib (every command uses it) with ``ipaddress`` imported when first used
    (``_ImportedOnUse``); a later import of ipaddress gets the real module."""
    if "pathlib" in sys.modules or "urllib.parse" in sys.modules or "ipaddress" in sys.modules:
        return
    shim = sys.modules["ipaddress"] = _ImportedOnUse("ipaddress")
    try:
        import pathlib  # noqa: F401, PLC0415
    finally:
        if sys.modules.get("ipaddress") is shim:
            del sys.modules["ipaddress"]


_import_pathlib_lean()

from collections.abc import Sequence  # noqa: E402 - after msgspec, see above
from typing import Any  # noqa: E402

from burntray import __version__  # noqa: E402
from burntray.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE  # noqa: E402
from burntray.cli.quickargs import (  # noqa: E402
    QUICK_COMMANDS,
    SUBCOMMANDS,
    command_module,
    quick_parse,
    terminal_columns,
)
from burntray.cli.quickargs import command_in as _command_in  # noqa: E402

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "SUBCOMMANDS",
    "_command_in",
    "build_parser",
    "main",
    "terminal_columns",
]


def __getattr__(name: str) -> Any:
    """``build_parser`` is loaded (with argparse) when asked for: a plain command line is read
    without it (``quickargs``)."""
    if name == "build_parser":
        from burntray.cli.parser import build_parser  # noqa: PLC0415

        return build_parser
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# The long-running commands: they log to their file and end the process themselves.
_VIEW_COMMANDS = ("run", "demo")
# Processes that stay (with ``status --watch``): the collector keeps its usual pace there.
_LONG_RUNNING = (*_VIEW_COMMANDS, "serve")
# Start-up allocates tens of thousands of objects that all stay (modules, classes, the
# registry's entries), so the collector's passes over them find next to nothing: at the
# default 700 allocations they were about 5 % of ``status --format tmux``. A short command
# runs with this first threshold instead (cyclic garbage is still collected, less often); at
# 20,000 the JSON status still paid one pass over ~20,000 young objects near its end.
START_GC_THRESHOLD = 50_000


def main(argv: Sequence[str] | None = None) -> int:
    usual = gc.get_threshold()
    gc.set_threshold(START_GC_THRESHOLD, *usual[1:])
    try:
        return _main(argv, usual)
    finally:
        gc.set_threshold(*usual)


def _main(argv: Sequence[str] | None, usual_gc: tuple[int, int, int]) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    args: Any = quick_parse(words, __version__)
    if args is None:  # anything but a plain status or statusline line: argparse reads it
        from burntray.cli.parser import build_parser  # noqa: PLC0415

        parser = build_parser(_command_in(words))
        args = parser.parse_args(words)
    if args.self_test:
        from burntray.cli.selftest import run_selftest  # noqa: PLC0415

        return run_selftest()
    name = args.command or "run"
    if args.command is None:
        args.terminal, args.verbose = False, False
    if args.bare_terminal or args.bare_verbose:
        if name not in _VIEW_COMMANDS:
            parser.error(f"--terminal and -v go with run or demo, not {name}")
        args.terminal = args.terminal or args.bare_terminal
        args.verbose = args.verbose or args.bare_verbose
    if name not in _VIEW_COMMANDS:  # those log to their file; the others warn on stderr
        from burntray.lazylog import when_used  # noqa: PLC0415

        when_used(_console_logging)  # logging is imported only if something is logged
    if name in _LONG_RUNNING or getattr(args, "watch", False):
        gc.set_threshold(*usual_gc)
    try:
        code = int(command_module(name).run(args))
    except KeyboardInterrupt:
        code = EXIT_OK
    except BrokenPipeError:
        return EXIT_OK
    if argv is None and (name in _VIEW_COMMANDS or _ends_here(name, args)):
        _exit_now(code)
    return code


def _ends_here(name: str, args: Any) -> bool:
    """Whether the program ends right after this short command, without the interpreter's
    teardown: freeing every module and object, and a collection over start-up's objects once
    the collector's usual threshold is back, were ~8 % of a warm ``status --format tmux``,
    which tmux runs every few seconds (and Claude Code its status line after every message).
    Not while a thread or a child process of the command still runs: the usual exit waits for
    those."""
    if name not in QUICK_COMMANDS or getattr(args, "watch", False):
        return False
    threading = sys.modules.get("threading")
    if threading is not None:
        main_thread = threading.main_thread()
        if any(not t.daemon and t is not main_thread for t in threading.enumerate()):
            return False
    multiprocessing = sys.modules.get("multiprocessing")
    return multiprocessing is None or not multiprocessing.active_children()


def _console_logging() -> None:
    from burntray.logsetup import setup_console_logging  # noqa: PLC0415

    setup_console_logging()


def _exit_now(code: int) -> None:
    """End the process once the command has closed everything it opened.

    The interpreter's own finalization after a GTK and D-Bus session (module teardown, GObject
    and connection finalizers) took 0.3 s to 2 s after SIGTERM, all of it after burntray's
    work was done; after a short command it is a tenth of the run. Exit handlers still run and
    output is flushed; only that teardown is skipped. Only for the program itself (``argv``
    None): callers of ``main([...])`` get the code back.
    """
    import atexit  # noqa: PLC0415
    import contextlib  # noqa: PLC0415
    import os  # noqa: PLC0415

    atexit._run_exitfuncs()  # logging.shutdown() is one of them, when logging was loaded
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
