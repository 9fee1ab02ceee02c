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

import argparse
import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from burntray.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail

if TYPE_CHECKING:
    from burntray.sources.claude.statusline import Payload

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


def run(args: argparse.Namespace) -> int:
    if args.action != "show":
        return _settings(args)
    from burntray.sources.claude.statusline_line import parse_parts  # noqa: PLC0415

    try:
        parts = parse_parts(args.show)
    except ValueError as exc:
        print(f"burntray {exc}")  # on stdout too: the line is what Claude Code shows
        return EXIT_OK
    color = _color(args.color)
    try:
        text, finish = _line(parts, color)
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


def _read_stdin() -> bytes:
    """stdin, bounded in size and in time: what came before ``STDIN_WAIT_S`` is used even when
    the writer never closes it (a terminal gives nothing)."""
    from burntray.sources.claude.statusline import MAX_PAYLOAD_BYTES  # noqa: PLC0415

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
            while size <= MAX_PAYLOAD_BYTES:
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


def _line(parts: tuple[str, ...], color: bool) -> tuple[str, threading.Thread | None]:
    """The line, and the thread still reading the logs when their budget ran out."""
    from burntray.cli.common import load_context  # noqa: PLC0415
    from burntray.sources.claude import claude_dirs  # noqa: PLC0415
    from burntray.sources.claude.statusline import (  # noqa: PLC0415
        Payload,
        PayloadError,
        observations_dir,
        parse_payload,
        plan_windows,
        read_observations,
        write_observation,
    )
    from burntray.sources.claude.statusline_line import LineInput, render  # noqa: PLC0415

    now = time.time_ns()
    note = ""
    try:
        payload = parse_payload(_read_stdin())
    except PayloadError as exc:
        payload, note = Payload(), str(exc)
    ctx = load_context(strict=False, warn=False)
    folder = observations_dir(ctx.paths)
    if note == "":
        try:
            write_observation(folder, payload, now)
        except OSError as exc:
            note = f"not recorded: {exc.strerror or exc}"
    try:
        dirs = claude_dirs(ctx.source_context(with_history=False))
    except RuntimeError as exc:  # no home to find Claude Code's folders from
        figures, worker, problem = None, None, str(exc)
    else:
        figures, worker, problem = _figures(ctx, dirs, payload)
    windows = plan_windows(read_observations(folder), time.time_ns())
    line = LineInput(payload, figures, windows, time.time_ns(), note, problem)
    return render(line, parts, color=color), worker


def _figures(
    ctx: Any, dirs: list[Any], payload: Payload
) -> tuple[Any, threading.Thread | None, str]:
    """(figures or None, the thread still reading when the budget ran out, why none)."""
    from burntray.sources.claude.statusline_costs import CACHE_NAME, session_figures  # noqa: PLC0415

    done: list[Any] = []

    def work() -> None:
        try:
            done.append(
                session_figures(
                    dirs,
                    ctx.prices(),
                    ctx.paths.cache_dir / CACHE_NAME,
                    payload.session_id,
                    time.time_ns(),
                    transcript=payload.transcript_path,
                    history_db=ctx.paths.history_db,
                )
            )
        except Exception as exc:  # the line still shows what the payload said, and why
            done.append(exc)

    worker = threading.Thread(target=work, name="burntray-statusline", daemon=True)
    worker.start()
    worker.join(_budget())
    if not done:
        return None, worker, "logs not read in time"
    if isinstance(done[0], Exception):
        return None, None, f"logs not read: {type(done[0]).__name__}: {done[0]}"[:200]
    return done[0], None, ""


def _budget() -> float:
    try:
        return max(0.0, float(os.environ.get("BURNTRAY_STATUSLINE_BUDGET_S", BUDGET_S)))
    except ValueError:
        return BUDGET_S


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


def _settings(args: argparse.Namespace) -> int:
    from burntray.errors import BurntrayError  # noqa: PLC0415
    from burntray.sources.claude.settings_install import (  # noqa: PLC0415
        default_command,
        install,
        uninstall,
    )

    try:
        if args.action == "install":
            if args.refresh is not None and not 1 <= args.refresh <= 3600:
                return fail("--refresh: give 1 to 3600 seconds", EXIT_USAGE)
            command = args.statusline_command or default_command()
            message = install(os.environ, command, refresh_s=args.refresh)
        else:
            message = uninstall(os.environ)
    except BurntrayError as exc:
        return fail(str(exc), EXIT_FAILED)
    print(message)
    return EXIT_OK
