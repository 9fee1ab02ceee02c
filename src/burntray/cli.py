"""Command line: ``burntray [run|status|report|clear-cache|doctor] ...``.

Exit codes (documented in the README): 0 ok; 1 the source is unreadable or offline, or an
operation failed or was declined; 2 usage or configuration error. Imports stay lazy so that
``burntray status --format tmux``, which tmux runs every few seconds, starts fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from burntray import __version__
from burntray.io.hostport import split_host_port

if TYPE_CHECKING:
    from burntray.config import Settings

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


def _source_choices() -> tuple[str, ...]:
    from burntray.sources.registry import REGISTRY  # noqa: PLC0415 - cheap: specs only

    return REGISTRY.choices()


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


class _HelpFormatter(argparse.HelpFormatter):
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


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose subcommands' parsers (built as ``type(parser)``) format with
    ``_HelpFormatter`` too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


# Every subcommand, in --help order; ``build_parser`` adds one parser for each.
SUBCOMMANDS = ("run", "status", "clear-cache", "doctor", "demo", "report", "serve", "autostart")


def _add_view_options(command: argparse.ArgumentParser) -> None:
    """What `run` and `demo` share: where the numbers are shown, and how much is logged."""
    command.add_argument("--terminal", action="store_true", help="live terminal view, no tray")
    command.add_argument("-v", "--verbose", action="store_true", help="also log to stderr")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``command`` (one of ``SUBCOMMANDS``), only that
    subcommand's parser is built: argparse looks up translations for every parser it makes
    (~0.2 ms each), and tmux runs ``burntray status`` every few seconds. The others are only
    needed to list or reject commands, which ``main`` leaves to the full parser."""
    from burntray.actions import clear_targets  # noqa: PLC0415

    def wanted(name: str) -> bool:
        return command is None or command == name

    parser = _Parser(
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

    if wanted("run"):
        _add_view_options(sub.add_parser("run", help="start the monitor (the default command)"))

    if wanted("status"):
        status = sub.add_parser("status", help="print the current numbers once")
        status.add_argument("--source", choices=_source_choices(), help="default: config")
        status.add_argument(
            "--window", help="today, week, or e.g. 5m, 15m, 1h, 1h30m, 24h, 7d (default: config)"
        )
        status.add_argument("--format", choices=("text", "json", "tmux", "csv"), default="text")
        status.add_argument(
            "--by",
            choices=("day", "session"),
            help="per day or per session (sources that log requests)",
        )
        status.add_argument(
            "--watch", action="store_true", help="a live line following the monitor; Ctrl-C quits"
        )

    if wanted("clear-cache"):
        clear = sub.add_parser(
            "clear-cache", help="empty an upstream's stats or burntray's history"
        )
        what = clear.add_mutually_exclusive_group(required=True)
        for target in clear_targets():
            what.add_argument(
                f"--{target.key}",
                action="store_const",
                const=target.key,
                dest="target",
                help=f"empty {target.label}",
            )
        clear.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    if wanted("doctor"):
        sub.add_parser("doctor", help="show sources, their status, and every path in use")

    if wanted("demo"):
        _add_view_options(
            sub.add_parser("demo", help="the tray on synthetic traffic (never your real caches)")
        )

    if wanted("report"):
        report = sub.add_parser("report", help="write an HTML report with charts, or CSV/JSON")
        report.add_argument("--window", help="today, week, or e.g. 1h, 24h, 7d (default: config)")
        report.add_argument("--source", choices=_source_choices(), help="default: config")
        report.add_argument("--format", choices=("html", "csv", "json", "text"), default="html")
        report.add_argument(
            "--by",
            choices=("day", "session"),
            help="a table per day or per session (text unless --format csv/json) to stdout or "
            "--out",
        )
        report.add_argument(
            "--out",
            metavar="FILE",
            help="'-' for stdout; default: a new file in the cache dir",
        )
        report.add_argument("--open", action="store_true", help="open it in the default browser")

    if wanted("serve"):
        serve = sub.add_parser(
            "serve", help="the monitor with no tray: /metrics, /healthz, /v1/status (and OTLP in)"
        )
        serve.add_argument("--source", choices=_source_choices(), help="default: config")
        serve.add_argument(
            "--otlp", metavar="HOST:PORT", help="where the OTLP receiver listens (otel.listen)"
        )
        serve.add_argument(
            "--metrics", metavar="HOST:PORT", help="where /metrics is served (serve.metrics)"
        )
        serve.add_argument(
            "--tls-cert",
            metavar="PEM",
            help="certificate chain: both listeners over https (serve.tls_cert, otel.tls_cert)",
        )
        serve.add_argument(
            "--tls-key", metavar="PEM", help="the certificate's key (serve.tls_key, otel.tls_key)"
        )

    if wanted("autostart"):
        autostart = sub.add_parser("autostart", help="start burntray at login: on, off or status")
        autostart.add_argument("state", choices=("on", "off", "status"))
    return parser


def _command_in(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names, when it plainly names one: its first word that is not an
    option (the top-level options take no values). None - build every parser - otherwise:
    no command, a mistyped one (argparse lists the choices), or anything after ``--``."""
    for arg in argv:
        if arg == "--":
            return None
        if not arg.startswith("-"):
            return arg if arg in SUBCOMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(_command_in(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    if args.self_test:
        from burntray.selftest import run_self_test  # noqa: PLC0415

        return run_self_test()
    name = args.command or "run"
    if args.command is None:
        args.terminal, args.verbose = False, False
    if args.bare_terminal or args.bare_verbose:
        if name not in ("run", "demo"):
            parser.error(f"--terminal and -v go with run or demo, not {name}")
        args.terminal = args.terminal or args.bare_terminal
        args.verbose = args.verbose or args.bare_verbose
    if name not in ("run", "demo"):  # those log to their file; the others warn on stderr
        from burntray.lazylog import when_used  # noqa: PLC0415

        when_used(_console_logging)  # logging is imported only if something is logged
    try:
        code = COMMANDS[name](args)
    except KeyboardInterrupt:
        code = EXIT_OK
    except BrokenPipeError:
        return EXIT_OK
    if argv is None and name in ("run", "demo"):
        _exit_now(code)
    return code


def _console_logging() -> None:
    from burntray.logsetup import setup_console_logging  # noqa: PLC0415

    setup_console_logging()


def _exit_now(code: int) -> None:
    """End the process once the tray or terminal view has closed everything it opened.

    The interpreter's own finalization after a GTK and D-Bus session (module teardown, GObject
    and connection finalizers) took 0.3 s to 2 s after SIGTERM, all of it after burntray's
    work was done. Exit handlers still run and output is flushed; only that teardown is
    skipped. Only for the program itself (``argv`` None): callers of ``main([...])`` get the
    code back.
    """
    import atexit  # noqa: PLC0415
    import contextlib  # noqa: PLC0415
    import logging  # noqa: PLC0415
    import os  # noqa: PLC0415

    atexit._run_exitfuncs()  # logging.shutdown() is one of them
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def _load_context(strict: bool = True, warn: bool = True):  # type: ignore[no-untyped-def]
    """The context; each key config.toml had to leave out is said once on stderr (``warn``;
    doctor lists them itself). Such a key is no reason to fail: the rest of the file is used
    and the command answers as usual (a tmux line must not go blank over a typo)."""
    from burntray.app import AppContext  # noqa: PLC0415

    ctx = AppContext.load(strict=strict)
    if warn:
        for problem in ctx.config_problems:
            print(f"burntray: {problem}", file=sys.stderr)
    return ctx


def _fail(message: str, code: int) -> int:
    print(f"burntray: {message}", file=sys.stderr)
    return code


@command("status")
def cmd_status(args: argparse.Namespace) -> int:
    from burntray.errors import ConfigError  # noqa: PLC0415

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
    except ConfigError as exc:
        message = (
            str(exc).replace("settings: window", "--window").replace("settings: source", "--source")
        )
        return _fail(message, EXIT_USAGE)
    if args.watch:
        return _watch(ctx, settings)
    if args.format == "csv" and not args.by:
        return _fail("--format csv needs --by day or --by session", EXIT_USAGE)
    from burntray.actions import read_once  # noqa: PLC0415

    block = None
    try:
        # a broken or offline source shows the window from the history, marked stale
        snapshot, source = read_once(ctx, settings)
        try:
            now = snapshot.as_of_ns
            if args.by:
                _print_by(source, args.by, args.format, settings, now)
                return _status_exit(snapshot.status)
            alerts = _alert_status(ctx, source, settings, now) if args.format == "json" else None
            block = _block_json(source, now) if args.format == "json" else None
            if args.format == "text" and not snapshot.totals.reqs:  # say when the last use was
                from burntray.runtime.last_use import LastUse  # noqa: PLC0415

                snapshot = LastUse(ctx.history())(snapshot, source, settings.window)
        finally:
            source.close()
    finally:
        ctx.close()
    _print_snapshot(snapshot, args.format, ctx.prices(settings), alerts, block)
    if ctx.price_error:  # the figures use the built-in prices; the warning named the problem
        return EXIT_USAGE
    return _status_exit(snapshot.status)


def _status_exit(status) -> int:  # type: ignore[no-untyped-def]
    """1 when the figures are not whole: the source is broken, or part of what it adds up
    (a member of ``all``, a log folder) could not be read; the detail says which."""
    return EXIT_OK if status.healthy and not status.partial else EXIT_FAILED


def _watch(ctx, settings) -> int:  # type: ignore[no-untyped-def]
    """``status --watch``: the terminal view (the same monitor as the tray) for these settings."""
    from burntray.record import replace  # noqa: PLC0415
    from burntray.ui.terminal import run_terminal  # noqa: PLC0415

    return run_terminal(replace(ctx, settings=settings))


def _block_json(source, now: int):  # type: ignore[no-untyped-def]
    """``block`` in status JSON: Claude's current 5-hour block, where a source knows it."""
    from burntray.sources.agent_logs.source import block_to_dict  # noqa: PLC0415

    members = getattr(source, "members", None)  # the `all` source's present members
    if not isinstance(members, dict):
        members = {source.name: source}
    for member in members.values():
        current = getattr(member, "current_block", None)
        if callable(current):
            return {"present": True, "current": block_to_dict(current(now))}
    return None


def _print_by(source, by: str, fmt: str, settings, now: int, *, out=None) -> None:  # type: ignore[no-untyped-def]
    """Usage per day or per session, as a table (text), CSV or JSON."""
    from burntray.config import CALENDAR_WINDOWS  # noqa: PLC0415
    from burntray.report import by_period  # noqa: PLC0415

    window = settings.window_ns_at(now)
    records, skipped = by_period.gather_records(source, now - window, now + 1)
    rows = by_period.group(records, by)
    if fmt == "json":
        import json  # noqa: PLC0415

        name = settings.window if settings.window in CALENDAR_WINDOWS else ""
        doc = by_period.to_json(rows, by, source.name, window, skipped, window_name=name)
        text = json.dumps(doc, indent=2)
        text += "\n"
    elif fmt == "csv":
        text = by_period.to_csv(rows, by)
    else:
        text = by_period.to_text(rows, by, skipped)
    if out is None or str(out) == "-":
        sys.stdout.write(text)
    else:
        from burntray.io.atomic import write_output  # noqa: PLC0415

        write_output(out, text.encode("utf-8"))


def _alert_status(ctx, source, settings, now: int):  # type: ignore[no-untyped-def]
    """The ``alerts`` object for JSON: today's spend and the baseline may need the history."""
    import sqlite3  # noqa: PLC0415

    from burntray.runtime.alerting import alert_status  # noqa: PLC0415

    history = ctx.history() if ctx.paths.history_db.exists() else None
    if history is not None:
        source.attach_history(history)
    try:
        return alert_status(source, settings, now, history)
    except sqlite3.Error as exc:  # the numbers above still print; say why alerts cannot
        return {"level": None, "error": f"alert state unreadable in {ctx.paths.history_db}: {exc}"}


def _print_snapshot(snapshot, fmt: str, prices, alerts=None, block=None) -> None:  # type: ignore[no-untyped-def]
    if fmt == "json":
        import msgspec  # noqa: PLC0415

        from burntray.model.export import snapshot_to_dict  # noqa: PLC0415

        doc = snapshot_to_dict(snapshot, prices)
        if alerts is not None:
            doc["alerts"] = alerts
        if block is not None:
            doc["block"] = block["current"]
        data = msgspec.json.encode(doc)
        sys.stdout.write(msgspec.json.format(data, indent=2).decode() + "\n")
    elif fmt == "tmux":
        from burntray.model.format import tmux_line  # noqa: PLC0415

        sys.stdout.write(tmux_line(snapshot) + "\n")
    else:
        from burntray.model.format import status_line  # noqa: PLC0415

        sys.stdout.write(status_line(snapshot) + "\n")
    if _status_exit(snapshot.status) != EXIT_OK and fmt != "text":
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
    from burntray.actions import clear_targets, describe_clear, run_clear  # noqa: PLC0415

    label = next(t.label for t in clear_targets() if t.key == args.target)
    try:
        what = describe_clear(ctx, args.target)
    except BurntrayError as exc:
        ctx.close()
        return _fail(str(exc), EXIT_FAILED)
    question = f"Empty {label} ({what})? Other files, settings and alert state are kept."
    if not args.yes and not _confirm(question):
        ctx.close()
        return _fail("not cleared", EXIT_FAILED)
    try:
        print(run_clear(ctx, args.target))
    except BurntrayError as exc:
        return _fail(str(exc), EXIT_FAILED)
    finally:
        ctx.close()
    return EXIT_OK


@command("doctor")
def cmd_doctor(args: argparse.Namespace) -> int:
    from burntray.doctor import run_doctor  # noqa: PLC0415

    return run_doctor(_load_context(strict=False, warn=False))


@command("run")
def cmd_run(args: argparse.Namespace) -> int:
    from burntray.ui.launch import launch  # noqa: PLC0415

    ctx = _load_context(strict=False)
    return launch(ctx, terminal=args.terminal, verbose=args.verbose)


@command("demo")
def cmd_demo(args: argparse.Namespace) -> int:
    from burntray.demo import run_demo  # noqa: PLC0415

    return run_demo(_load_context(strict=False), terminal=args.terminal, verbose=args.verbose)


@command("report")
def cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path  # noqa: PLC0415

    from burntray.errors import BurntrayError, ConfigError  # noqa: PLC0415
    from burntray.report.build import launch_browser, write_report  # noqa: PLC0415
    from burntray.sources.registry import UnknownSourceError  # noqa: PLC0415

    try:
        ctx = _load_context()
        changes = {key: getattr(args, key) for key in ("source", "window") if getattr(args, key)}
        settings = ctx.settings.replace(**changes) if changes else ctx.settings
    except ConfigError as exc:
        message = (
            str(exc).replace("settings: window", "--window").replace("settings: source", "--source")
        )
        return _fail(message, EXIT_USAGE)
    out = Path(args.out).expanduser() if args.out else None
    to_stdout = args.out == "-"
    if to_stdout and args.open:
        ctx.close()
        return _fail("--open needs a file: --out - writes the report to stdout", EXIT_USAGE)
    if args.by:
        return _report_by(ctx, settings, args, out)
    if args.format == "text":
        ctx.close()
        return _fail("--format text needs --by day or --by session", EXIT_USAGE)
    try:
        path = write_report(ctx, settings, args.format, out)
    except UnknownSourceError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except BurntrayError as exc:
        return _fail(str(exc), EXIT_FAILED)
    finally:
        ctx.close()
    if not to_stdout:
        print(path)
    why = launch_browser(path) if args.open else ""
    if why:
        return _fail(f"{why}; open {path.resolve().as_uri()} yourself", EXIT_FAILED)
    # written with the built-in prices; the warning (and the report) named the price file
    return EXIT_USAGE if ctx.price_error else EXIT_OK


def _report_by(ctx, settings, args: argparse.Namespace, out) -> int:  # type: ignore[no-untyped-def]
    from burntray.actions import read_once  # noqa: PLC0415
    from burntray.model.pricing import PriceFileError  # noqa: PLC0415

    fmt = "text" if args.format == "html" else args.format
    try:
        try:
            snapshot, source = read_once(ctx, settings)
        except PriceFileError as exc:
            return _fail(f"price file: {exc}", EXIT_USAGE)
        try:
            _print_by(source, args.by, fmt, settings, snapshot.as_of_ns, out=out)
        except OSError as exc:
            return _fail(f"cannot write {out}: {exc.strerror or exc}", EXIT_FAILED)
        finally:
            source.close()
    finally:
        ctx.close()
    if out is not None and str(out) != "-":
        print(out)
    if not snapshot.status.healthy:
        print(f"burntray: {snapshot.source}: {snapshot.status.detail}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


@command("autostart")
def cmd_autostart(args: argparse.Namespace) -> int:
    from burntray import autostart  # noqa: PLC0415

    ok, how = autostart.supported()
    if not ok:
        return _fail(how, EXIT_FAILED)
    try:
        if args.state != "status":
            autostart.set_enabled(args.state == "on")
        enabled = autostart.is_enabled()
    except autostart.AutostartError as exc:
        return _fail(str(exc), EXIT_FAILED)
    if args.state != "status":
        _record_start_at_login(enabled)
    print(f"start at login: {'on' if enabled else 'off'} ({how})")
    if enabled:
        print(f"command: {autostart.registered_command()}")
    return EXIT_OK


def _record_start_at_login(enabled: bool) -> None:
    """Keep config.toml's ``start_at_login`` in step with the OS entry, as the tray menu does:
    that one key is set in the user's file, the rest of it left as written. A file that is not
    TOML is left untouched (the OS entry is what counts)."""
    from burntray.config import load_settings, save_settings  # noqa: PLC0415
    from burntray.errors import ConfigError  # noqa: PLC0415
    from burntray.paths import app_paths  # noqa: PLC0415

    path = app_paths().config_file
    try:
        settings = load_settings(path)
        if settings.start_at_login != enabled:
            save_settings(path, settings.replace(start_at_login=enabled), previous=settings)
    except ConfigError as exc:
        print(f"burntray: {path} not updated (it is invalid): {exc}", file=sys.stderr)
    except OSError as exc:
        print(f"burntray: {path} not updated: {exc}", file=sys.stderr)


def _serve_refusal(settings: Settings) -> str:
    """Why ``serve`` cannot listen as asked (said at start, exit 2), or ""."""
    from burntray.io.http_server import is_loopback, tls_context  # noqa: PLC0415
    from burntray.serve.run import receiver_requested  # noqa: PLC0415

    try:
        tls_context(settings.serve_tls_cert, settings.serve_tls_key)
    except ValueError as exc:
        return f"cannot serve /metrics: {exc}"
    if not receiver_requested(settings):
        return ""
    listen = str(settings.option("otel.listen"))
    host, _ = split_host_port(listen)
    if not is_loopback(host) and not settings.option("otel.token"):
        return (
            f"refusing to receive OTLP on {listen}: an address beyond loopback needs a bearer "
            "token (set otel.token in config.toml; senders pass Authorization: Bearer <token>)"
        )
    try:
        tls_context(str(settings.option("otel.tls_cert")), str(settings.option("otel.tls_key")))
    except ValueError as exc:
        return f"cannot receive OTLP on {listen}: {exc}"
    return ""


@command("serve")
def cmd_serve(args: argparse.Namespace) -> int:
    from burntray.errors import ConfigError  # noqa: PLC0415
    from burntray.serve.run import run_serve  # noqa: PLC0415

    try:
        ctx = _load_context()
        options = {"otel.listen": args.otlp} if args.otlp else {}
        if args.otlp:
            options["otel.enabled"] = True  # asked for a receiver: `all` includes it
        changes: dict[str, object] = {"source": args.source} if args.source else {}
        if args.tls_cert or args.tls_key:
            tls = {"cert": args.tls_cert or "", "key": args.tls_key or ""}
            changes.update(serve_tls_cert=tls["cert"], serve_tls_key=tls["key"])
            options.update({"otel.tls_cert": tls["cert"], "otel.tls_key": tls["key"]})
        settings = ctx.settings.replace(options=options, **changes)
        metrics = args.metrics or settings.serve_metrics
        split_host_port(metrics)
        refusal = _serve_refusal(settings)
        if refusal:
            return _fail(refusal, EXIT_USAGE)
    except ConfigError as exc:
        message = str(exc).replace("settings: otel.listen", "--otlp")
        return _fail(message.replace("settings: source", "--source"), EXIT_USAGE)
    except ValueError:
        return _fail(
            f"--metrics: expected HOST:PORT such as 127.0.0.1:9464, not {metrics!r}", EXIT_USAGE
        )
    ctx.settings = settings
    return run_serve(ctx, settings, metrics)
