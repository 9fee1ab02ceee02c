"""``burntray status``: the current numbers once (text, JSON, a tmux line, or a table per day
or session), or a live line with ``--watch``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from msgspec.structs import replace

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
    status_exit,
)
from burntray.sources.base import HasBlocks, members_of

if TYPE_CHECKING:  # argparse loads only for a line quickargs leaves to it
    import argparse

HELP = "print the current numbers once"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", choices=source_choices(), help="default: config")
    parser.add_argument(
        "--window",
        help="today, week, month, or e.g. 5m, 15m, 1h, 1h30m, 24h, 7d; with --by also all "
        "(default: config)",
    )
    parser.add_argument("--format", choices=("text", "json", "tmux", "csv"), default="text")
    add_by_options(parser, "a table")
    parser.add_argument(
        "--watch", action="store_true", help="a live line following the monitor; Ctrl-C quits"
    )


def run(args: argparse.Namespace) -> int:
    from burntray.errors import ConfigError  # noqa: PLC0415

    view = ViewRequest(args)
    if view.error:
        return fail(view.error, EXIT_USAGE)
    if view.needs_by:
        return fail("--since, --until, --window all and --timezone need --by", EXIT_USAGE)
    try:
        ctx = load_context()
        settings = ctx.settings
        changes = {}
        if args.source:
            changes["source"] = args.source
        if args.window and not view.window_all:
            changes["window"] = args.window
        if changes:
            settings = settings.replace(**changes)
    except ConfigError as exc:
        return fail(option_error(str(exc)), EXIT_USAGE)
    if args.watch:
        return _watch(ctx, settings)
    ctx = replace(ctx, history_sources=_table_sources(settings.source))
    if args.format == "csv" and not args.by:
        return fail("--format csv needs --by (e.g. --by day)", EXIT_USAGE)
    from burntray.actions import read_once  # noqa: PLC0415
    from burntray.ui.progress_line import ProgressLine  # noqa: PLC0415

    block = None
    progress = ProgressLine(sys.stderr)
    try:
        # a broken or offline source shows the window from the history, marked stale; a long
        # first read says how far it has got on a terminal's stderr meanwhile
        try:
            snapshot, source = read_once(
                ctx, settings, built=progress.follow if progress.wanted(sys.stderr) else None
            )
        finally:
            progress.stop()
        try:
            now = snapshot.as_of_ns
            if view.dims:
                why = print_by(ctx, source, view, fmt=args.format, settings=settings, now=now)
                return fail(why, EXIT_FAILED) if why else status_exit(snapshot.status)
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
    return status_exit(snapshot.status)


def _table_sources(name: str) -> tuple[str, ...] | None:
    """Whose history tables this one reading needs brought up to date: one built-in source's
    (a meta source may build any of them: every source's)."""
    from burntray.sources.registry import META_SOURCES  # noqa: PLC0415 - loaded already

    return None if name in META_SOURCES else (name,)


def _watch(ctx, settings) -> int:  # type: ignore[no-untyped-def]
    """``status --watch``: the terminal view (the same monitor as the tray) for these settings."""
    from burntray.ui.terminal import run_terminal  # noqa: PLC0415

    return run_terminal(replace(ctx, settings=settings))


def _block_json(source, now: int):  # type: ignore[no-untyped-def]
    """``block`` in status JSON: the current 5-hour block, where a source knows it."""
    from burntray.model.export import block_to_dict  # noqa: PLC0415

    for member in members_of(source).values():
        if isinstance(member, HasBlocks):
            return {"present": True, "current": block_to_dict(member.current_block(now))}
    return None


def _alert_status(ctx, source, settings, now: int):  # type: ignore[no-untyped-def]
    """The ``alerts`` object for JSON: today's spend and the baseline may need the history."""
    from burntray.runtime.alerting import alert_status  # noqa: PLC0415

    history = ctx.history() if ctx.paths.history_db.exists() else None
    if history is None:  # nothing to read the state from: sqlite3 is not loaded for it
        return alert_status(source, settings, now, None)
    import sqlite3  # noqa: PLC0415 - loaded with the history it reads

    source.attach_history(history)
    try:
        return alert_status(source, settings, now, history)
    except sqlite3.Error as exc:  # the numbers above still print; say why alerts cannot
        return {"level": None, "error": f"alert state unreadable in {ctx.paths.history_db}: {exc}"}


def _print_snapshot(snapshot, fmt: str, prices, alerts=None, block=None) -> None:  # type: ignore[no-untyped-def]
    if fmt == "json":
        from burntray.model.export import json_text, snapshot_to_dict  # noqa: PLC0415

        doc = snapshot_to_dict(snapshot, prices)
        if alerts is not None:
            doc["alerts"] = alerts
        if block is not None:
            doc["block"] = block["current"]
        sys.stdout.write(json_text(doc) + "\n")
    elif fmt == "tmux":
        from burntray.model.format import tmux_line  # noqa: PLC0415

        sys.stdout.write(tmux_line(snapshot) + "\n")
    else:
        from burntray.model.format import status_line  # noqa: PLC0415

        sys.stdout.write(status_line(snapshot) + "\n")
    if status_exit(snapshot.status) != EXIT_OK and fmt != "text":
        print(f"burntray: {snapshot.source}: {snapshot.status.detail}", file=sys.stderr)
