"""What the commands share: exit codes, loading the context, failing with a message, asking
on the terminal, and the per-day/per-session tables (``status`` and ``report`` both print them).

Everything here imports lazily: ``burntray status --format tmux`` runs every few seconds.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from burntray.app import AppContext

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def add_view_options(command: argparse.ArgumentParser) -> None:
    """What `run` and `demo` share: where the numbers are shown, and how much is logged."""
    command.add_argument("--terminal", action="store_true", help="live terminal view, no tray")
    command.add_argument("-v", "--verbose", action="store_true", help="also log to stderr")


def source_choices() -> tuple[str, ...]:
    from burntray.sources.registry import REGISTRY  # noqa: PLC0415 - cheap: specs only

    return REGISTRY.choices()


def load_context(strict: bool = True, warn: bool = True) -> AppContext:
    """The context; each key config.toml had to leave out is said once on stderr (``warn``;
    doctor lists them itself). Such a key is no reason to fail: the rest of the file is used
    and the command answers as usual (a tmux line must not go blank over a typo)."""
    from burntray.app import AppContext  # noqa: PLC0415

    ctx = AppContext.load(strict=strict)
    if warn:
        for problem in ctx.config_problems:
            print(f"burntray: {problem}", file=sys.stderr)
    return ctx


def fail(message: str, code: int) -> int:
    print(f"burntray: {message}", file=sys.stderr)
    return code


def option_error(message: str) -> str:
    """A settings error about an option the user gave on the command line, named as the flag."""
    return message.replace("settings: window", "--window").replace("settings: source", "--source")


def status_exit(status: Any) -> int:
    """1 when the figures are not whole: the source is broken, or part of what it adds up
    (a member of ``all``, a log folder) could not be read; the detail says which."""
    return EXIT_OK if status.healthy and not status.partial else EXIT_FAILED


def confirm(question: str) -> bool:
    """Ask on the terminal; with no terminal (no stdin) the answer is no."""
    if not sys.stdin or not sys.stdin.isatty():
        print(f"{question} [y/N] (no terminal to ask on: use --yes)", file=sys.stderr)
        return False
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def print_by(source, by: str, fmt: str, settings, now: int, *, out=None) -> None:  # type: ignore[no-untyped-def]
    """Usage per day or per session, as a table (text), CSV or JSON."""
    from burntray.config_values import CALENDAR_WINDOWS  # noqa: PLC0415
    from burntray.report import by_period  # noqa: PLC0415

    window = settings.window_ns_at(now)
    records, skipped = by_period.gather_records(source, now - window, now + 1)
    rows = by_period.group(records, by)
    # a tool's own cost per session (Claude Code's status line), beside the logs' cost
    own = by_period.gather_own_costs(source) if by == "session" else None
    if fmt == "json":
        import json  # noqa: PLC0415

        name = settings.window if settings.window in CALENDAR_WINDOWS else ""
        doc = by_period.to_json(rows, by, source.name, window, skipped, window_name=name, own=own)
        text = json.dumps(doc, indent=2)
        text += "\n"
    elif fmt == "csv":
        text = by_period.to_csv(rows, by, own)
    else:
        text = by_period.to_text(rows, by, skipped, own)
    if out is None or str(out) == "-":
        sys.stdout.write(text)
    else:
        from burntray.io.atomic import write_output  # noqa: PLC0415

        write_output(out, text.encode("utf-8"))
