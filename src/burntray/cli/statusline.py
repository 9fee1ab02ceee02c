"""``burntray statusline``: the command Claude Code runs as its ``statusLine``.

It reads Claude Code's JSON on stdin, keeps what the session reported (its plan windows, its
own cost estimate, context use: see ``sources.claude.statusline``) where the tray and every
other command see it, and prints one line. ``statusline install`` / ``uninstall`` add it to, or
take it out of, Claude Code's ``settings.json``.

A status line that fails is worse than a plain one, so showing always exits 0: bad input gives
a plain line saying so, and the logs are given ``BUDGET_S`` to be read, after which the line
is printed without their figures (the reading then finishes with stdout closed, so the next
run is fast). Nothing here touches the network or opens burntray's SQLite history.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TYPE_CHECKING

from burntray.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail

if TYPE_CHECKING:  # argparse loads only for a line quickargs leaves to it
    import argparse

    from burntray.sources.spec import StatusLineCommand

HELP = "the line for Claude Code's statusLine (reads its JSON on stdin); install, uninstall"
# How long the logs may take before the line is printed without their figures.
BUDGET_S = 2.0
# How long stdin may stay open without a payload (a terminal, or a writer that never closes).
STDIN_WAIT_S = 2.0
# After the line is out: how long the rest of the read may go on, so the next run is fast.
FINISH_S = 120.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        nargs="?",
        choices=("show", "install", "uninstall"),
        default="show",
        help="show (default): print the line; install/uninstall: in Claude Code's settings.json",
    )
    parser.add_argument(
        "--show",
        metavar="PARTS",
        help="comma-separated, in order: model,session,today,limits,block,burn,context "
        "(default: model,session,today,limits,burn,context)",
    )
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="auto: colours unless NO_COLOR is set or TERM is dumb",
    )
    parser.add_argument(
        "--command",
        dest="statusline_command",
        metavar="CMD",
        help="install: the command Claude Code is to run (default: this burntray's statusline)",
    )
    parser.add_argument(
        "--refresh",
        type=int,
        metavar="SECONDS",
        help="install: also re-run it every SECONDS (1-3600; Claude Code 2.1.97+), so an idle "
        "session's line follows resets",
    )


def _command() -> StatusLineCommand | None:
    """The status-line command of the source whose tool runs one (Claude Code's)."""
    from burntray.sources.registry import REGISTRY  # noqa: PLC0415 - this command only

    spec = REGISTRY.status_line_source()
    return spec.status_line() if spec is not None and spec.status_line is not None else None


def run(args: argparse.Namespace) -> int:
    command = _command()
    if command is None:
        return fail("no source of this build offers a status line", EXIT_USAGE)
    if args.action != "show":
        return _settings(command, args)
    try:
        parts = command.parse_parts(args.show)
    except ValueError as exc:
        print(f"burntray {exc}")  # on stdout too: the line is what Claude Code shows
        return EXIT_OK
    color = _color(args.color)
    try:
        from burntray.cli.common import load_context  # noqa: PLC0415

        ctx = load_context(strict=False, warn=False)
        stdin = _read_stdin(command.MAX_PAYLOAD_BYTES)
        text, finish = command.line(ctx, stdin, parts, color, _budget())
    except Exception as exc:  # a failing status line is worse than a plain one: say why, exit 0
        text, finish = f"burntray: status line failed ({type(exc).__name__}: {exc})"[:300], None
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
    if finish is not None:
        _finish_quietly(finish)
    return EXIT_OK


def _color(choice: str) -> bool:
    """Claude Code shows ANSI colours from a pipe, so ``auto`` does not ask for a terminal."""
    if choice != "auto":
        return choice == "always"
    return not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def _read_stdin(max_bytes: int) -> bytes:
    """stdin, bounded in size and in time: what came before ``STDIN_WAIT_S`` is used even when
    the writer never closes it (a terminal gives nothing)."""
    stdin = sys.stdin
    if stdin is None or stdin.isatty():
        return b""
    try:
        fd = stdin.fileno()
    except (OSError, ValueError):
        return b""
    chunks: list[bytes] = []
    ended = threading.Event()

    def read() -> None:
        size = 0
        try:
            while size <= max_bytes:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except OSError:
            pass
        ended.set()

    threading.Thread(target=read, name="burntray-stdin", daemon=True).start()
    ended.wait(STDIN_WAIT_S)
    return b"".join(list(chunks))


def _finish_quietly(worker: threading.Thread) -> None:
    """Let the log read finish after the line is out: stdout and stderr are closed first, so
    Claude Code (which reads until they close) has the line now."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        try:
            os.dup2(devnull, fd)
        except OSError:
            continue
    os.close(devnull)
    worker.join(FINISH_S)


def _budget() -> float:
    try:
        return max(0.0, float(os.environ.get("BURNTRAY_STATUSLINE_BUDGET_S", BUDGET_S)))
    except ValueError:
        return BUDGET_S


def _settings(command: StatusLineCommand, args: argparse.Namespace) -> int:
    from burntray.errors import BurntrayError  # noqa: PLC0415

    try:
        if args.action == "install":
            if args.refresh is not None and not 1 <= args.refresh <= 3600:
                return fail("--refresh: give 1 to 3600 seconds", EXIT_USAGE)
            message = command.install(os.environ, args.statusline_command, args.refresh)
        else:
            message = command.uninstall(os.environ)
    except BurntrayError as exc:
        return fail(str(exc), EXIT_FAILED)
    print(message)
    return EXIT_OK
