"""Command line: ``burntray [run|status|clear-cache|doctor] ...``.

Exit codes (documented in the README): 0 ok; 1 the source is unreadable or offline, or an
operation failed or was declined; 2 usage or configuration error. Imports stay lazy so that
``burntray status --format tmux``, which tmux runs every few seconds, starts fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from burntray import __version__

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

Command = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, Command] = {}


def command(name: str) -> Callable[[Command], Command]:
    def register(fn: Command) -> Command:
        COMMANDS[name] = fn
        return fn

    return register


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="burntray",
        description="LLM usage at a glance: requests, RPM, tokens and cost, live.",
    )
    parser.add_argument("--version", action="version", version=f"burntray {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="start the monitor (the default command)")
    run.add_argument("--terminal", action="store_true", help="live terminal view, no tray")
    run.add_argument("-v", "--verbose", action="store_true", help="also log to stderr")

    status = sub.add_parser("status", help="print the current numbers once")
    status.add_argument("--source", choices=("auto", "hexai", "cburn"), help="default: config")
    status.add_argument("--window", help="e.g. 5m, 15m, 1h, 90m, 24h, 7d (default: config)")
    status.add_argument("--format", choices=("text", "json", "tmux"), default="text")

    clear = sub.add_parser("clear-cache", help="empty hexai's stats or burntray's history")
    what = clear.add_mutually_exclusive_group(required=True)
    what.add_argument("--hexai", action="store_true", help="empty hexai's stats.json (locked)")
    what.add_argument("--history", action="store_true", help="empty burntray's usage history")
    clear.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    sub.add_parser("doctor", help="show sources, their status, and every path in use")

    demo = sub.add_parser("demo", help="the tray on synthetic traffic (never your real caches)")
    demo.add_argument("--terminal", action="store_true", help="live terminal view, no tray")
    demo.add_argument("-v", "--verbose", action="store_true", help="also log to stderr")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    name = args.command or "run"
    if args.command is None:
        args.terminal, args.verbose = False, False
    try:
        return COMMANDS[name](args)
    except KeyboardInterrupt:
        return EXIT_OK
    except BrokenPipeError:
        return EXIT_OK


def _load_context(strict: bool = True):  # type: ignore[no-untyped-def]
    from burntray.app import AppContext  # noqa: PLC0415

    return AppContext.load(strict=strict)


def _fail(message: str, code: int) -> int:
    print(f"burntray: {message}", file=sys.stderr)
    return code


@command("status")
def cmd_status(args: argparse.Namespace) -> int:
    from burntray.errors import ConfigError  # noqa: PLC0415
    from burntray.model.pricing import PriceFileError  # noqa: PLC0415

    try:
        ctx = _load_context()
        settings = ctx.settings
        changes = {}
        if args.source:
            changes["source"] = args.source
        if args.window:
            changes["window"] = args.window
        if changes:
            settings = settings.replace(**changes)
        source = ctx.build_source(settings, with_history=False)
    except ConfigError as exc:
        message = (
            str(exc).replace("settings: window", "--window").replace("settings: source", "--source")
        )
        return _fail(message, EXIT_USAGE)
    except PriceFileError as exc:
        return _fail(f"price file: {exc}", EXIT_USAGE)
    try:
        source.poll()
        now = ctx.clock_ns()
        window_ns = settings.window_ns
        if source.needs_history(window_ns, now):
            history = ctx.history()
            if history is not None:
                source.attach_history(history)
        snapshot = source.snapshot(window_ns, now)
    finally:
        source.close()
        ctx.close()
    _print_snapshot(snapshot, args.format, ctx.prices(settings))
    return EXIT_OK if snapshot.status.healthy else EXIT_FAILED


def _print_snapshot(snapshot, fmt: str, prices) -> None:  # type: ignore[no-untyped-def]
    if fmt == "json":
        import msgspec  # noqa: PLC0415

        from burntray.model.export import snapshot_to_dict  # noqa: PLC0415

        data = msgspec.json.encode(snapshot_to_dict(snapshot, prices))
        sys.stdout.write(msgspec.json.format(data, indent=2).decode() + "\n")
    elif fmt == "tmux":
        from burntray.model.format import tmux_line  # noqa: PLC0415

        sys.stdout.write(tmux_line(snapshot) + "\n")
    else:
        from burntray.model.format import status_line  # noqa: PLC0415

        sys.stdout.write(status_line(snapshot) + "\n")
    if not snapshot.status.healthy and fmt != "text":
        print(f"burntray: {snapshot.source}: {snapshot.status.detail}", file=sys.stderr)


def _confirm(question: str) -> bool:
    """Ask on the terminal; with no terminal (no stdin) the answer is no."""
    if not sys.stdin or not sys.stdin.isatty():
        print(f"{question} [y/N] (no terminal to ask on: use --yes)", file=sys.stderr)
        return False
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


@command("clear-cache")
def cmd_clear_cache(args: argparse.Namespace) -> int:
    from burntray.errors import BurntrayError, ConfigError  # noqa: PLC0415

    try:
        ctx = _load_context()
    except ConfigError as exc:
        return _fail(str(exc), EXIT_USAGE)
    if args.hexai:
        from burntray.sources.base import SourceContext  # noqa: PLC0415
        from burntray.sources.hexai import clear_stats, parse_stats  # noqa: PLC0415

        cache_dir = SourceContext(ctx.settings, ctx.paths, ctx.prices(), env=ctx.env).hexai_dir()
        stats_path = cache_dir / "stats.json"
        try:
            count = f"{parse_stats(stats_path.read_bytes()).event_count} events"
        except Exception as exc:  # describe what is there; never fail the question on it
            count = "missing" if isinstance(exc, FileNotFoundError) else f"unreadable: {exc}"
        question = (
            f"Empty hexai's usage stats at {stats_path} ({count})? "
            "Other files in that folder are kept."
        )
        if not args.yes and not _confirm(question):
            return _fail("not cleared", EXIT_FAILED)
        try:
            removed = clear_stats(cache_dir, ctx.clock_ns)
        except BurntrayError as exc:
            return _fail(str(exc), EXIT_FAILED)
        print(f"cleared {removed} events from {stats_path}")
        return EXIT_OK
    history_path = ctx.paths.history_db
    if not history_path.exists():
        print(f"no history at {history_path}: nothing to clear")
        return EXIT_OK
    if not args.yes and not _confirm(
        f"Empty burntray's usage history at {history_path}? Settings and alert state are kept."
    ):
        return _fail("not cleared", EXIT_FAILED)
    history = ctx.history()
    if history is None:
        return _fail(ctx.history_error, EXIT_FAILED)
    removed = history.clear_usage()
    ctx.close()
    print(f"cleared {removed} history rows from {history_path}")
    return EXIT_OK


@command("doctor")
def cmd_doctor(args: argparse.Namespace) -> int:
    from burntray.doctor import run_doctor  # noqa: PLC0415

    return run_doctor(_load_context(strict=False))


@command("run")
def cmd_run(args: argparse.Namespace) -> int:
    from burntray.ui.launch import launch  # noqa: PLC0415

    ctx = _load_context(strict=False)
    return launch(ctx, terminal=args.terminal, verbose=args.verbose)


@command("demo")
def cmd_demo(args: argparse.Namespace) -> int:
    from burntray.demo import run_demo  # noqa: PLC0415

    return run_demo(_load_context(strict=False), terminal=args.terminal, verbose=args.verbose)
