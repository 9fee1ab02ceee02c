"""``burntray report``: an HTML report with charts (or CSV/JSON), or a table per day or session."""

from __future__ import annotations

import argparse
import sys

from burntray.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    ViewRequest,
    add_by_options,
    fail,
    load_context,
    option_error,
    print_by,
    source_choices,
)

HELP = "write an HTML report with charts, or CSV/JSON"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--window",
        help="today, week, month, or e.g. 1h, 24h, 7d; with --by also all (default: config)",
    )
    parser.add_argument("--source", choices=source_choices(), help="default: config")
    parser.add_argument("--format", choices=("html", "csv", "json", "text"), default="html")
    add_by_options(parser, "a table (text unless --format csv/json, to stdout or --out)")
    parser.add_argument(
        "--out",
        metavar="FILE",
        help="'-' for stdout; default: a new file in the cache dir",
    )
    parser.add_argument("--open", action="store_true", help="open it in the default browser")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path  # noqa: PLC0415

    from burntray.errors import BurntrayError, ConfigError  # noqa: PLC0415
    from burntray.report.build import launch_browser, write_report  # noqa: PLC0415
    from burntray.sources.registry import UnknownSourceError  # noqa: PLC0415

    view = ViewRequest(args)
    if view.error:
        return fail(view.error, EXIT_USAGE)
    if view.needs_by and (args.until or args.timezone):
        # a whole report's headline is the tool's figures up to now, in the machine's zone
        return fail("--until and --timezone need --by (a whole report runs to now)", EXIT_USAGE)
    try:
        ctx = load_context()
        changes = {key: getattr(args, key) for key in ("source", "window") if getattr(args, key)}
        if view.window_all:
            changes.pop("window")
        settings = ctx.settings.replace(**changes) if changes else ctx.settings
    except ConfigError as exc:
        return fail(option_error(str(exc)), EXIT_USAGE)
    out = Path(args.out).expanduser() if args.out else None
    to_stdout = args.out == "-"
    if to_stdout and args.open:
        ctx.close()
        return fail("--open needs a file: --out - writes the report to stdout", EXIT_USAGE)
    if view.dims:
        return _report_by(ctx, settings, args, view, out)
    if args.format == "text":
        ctx.close()
        return fail("--format text needs --by (e.g. --by day)", EXIT_USAGE)
    try:
        since = _since_ns(ctx, view) if view.since or view.window_all else None
        path = write_report(ctx, settings, args.format, out, since_ns=since)
    except UnknownSourceError as exc:
        return fail(str(exc), EXIT_USAGE)
    except BurntrayError as exc:
        return fail(str(exc), EXIT_FAILED)
    finally:
        ctx.close()
    if not to_stdout:
        print(path)
    why = launch_browser(path) if args.open else ""
    if why:
        return fail(f"{why}; open {path.resolve().as_uri()} yourself", EXIT_FAILED)
    # written with the built-in prices; the warning (and the report) named the price file
    return EXIT_USAGE if ctx.price_error else EXIT_OK


def _report_by(ctx, settings, args: argparse.Namespace, view: ViewRequest, out) -> int:  # type: ignore[no-untyped-def]
    from burntray.actions import read_once  # noqa: PLC0415
    from burntray.model.pricing import PriceFileError  # noqa: PLC0415

    fmt = "text" if args.format == "html" else args.format
    try:
        try:
            snapshot, source = read_once(ctx, settings)
        except PriceFileError as exc:
            return fail(f"price file: {exc}", EXIT_USAGE)
        try:
            why = print_by(
                ctx, source, view, fmt=fmt, settings=settings, now=snapshot.as_of_ns, out=out
            )
            if why:
                return fail(why, EXIT_FAILED)
        except OSError as exc:
            return fail(f"cannot write {out}: {exc.strerror or exc}", EXIT_FAILED)
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


def _since_ns(ctx, view: ViewRequest) -> int:  # type: ignore[no-untyped-def]
    """Where a whole report over a range starts: ``--since``'s local midnight, or for
    ``--window all`` the oldest record burntray's history keeps (a day back when none)."""
    if view.since is not None:
        from burntray.model.periods import day_start_ns  # noqa: PLC0415

        return day_start_ns(view.since, None)
    from burntray.store.views import oldest_ns, record_sources  # noqa: PLC0415

    now = ctx.clock_ns()
    history = ctx.history()
    oldest = [oldest_ns(history, n) for n in record_sources(history)] if history else []
    return min([o for o in oldest if o is not None], default=now - 86400 * 10**9)
