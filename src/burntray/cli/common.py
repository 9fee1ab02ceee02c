"""What the commands share: exit codes, loading the context, failing with a message, asking
on the terminal, and the per-day/per-session tables (``status`` and ``report`` both print them).

Everything here imports lazily: ``burntray status --format tmux`` runs every few seconds.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # argparse loads only for a line quickargs leaves to it
    import argparse

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


def add_by_options(parser: argparse.ArgumentParser, what: str) -> None:
    """The views' options, shared by ``status`` and ``report``: ``--by`` and the range."""
    parser.add_argument(
        "--by",
        metavar="DIMS",
        help=f"{what} per day, week, month, session, project, branch, model, tool, host or user; "
        "combine with commas (day,model; project,branch)",
    )
    parser.add_argument("--since", metavar="DATE", help="from this day (YYYY-MM-DD or YYYYMMDD)")
    parser.add_argument("--until", metavar="DATE", help="to this day, inclusive")
    parser.add_argument(
        "--timezone", metavar="ZONE", help="IANA zone for days, weeks, months (default: local)"
    )
    parser.add_argument(
        "--start-of-week",
        choices=_WEEKDAYS,
        default="sunday",
        help="the day a --by week starts on (default: sunday, as ccusage)",
    )


# Monday first, as datetime's weekday() counts (model.periods.WEEKDAYS: not imported for
# `status --format tmux`, which takes none of these options).
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ViewRequest:
    """``--by`` and its range, checked: ``error`` says what is wrong (usage error)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.error = ""
        self.dims: tuple[str, ...] = ()
        self.tz: Any = None
        self.since = self.until = None
        self.window_all = args.window is not None and args.window.strip().lower() == "all"
        self.week_start = _WEEKDAYS.index(args.start_of_week)
        ranged = args.since or args.until or self.window_all
        self.needs_by = bool(ranged or args.timezone) and not args.by
        if not (args.by or ranged or args.timezone):
            return  # the common case (a tmux line): nothing to check, nothing to import
        from burntray.model.periods import parse_by, parse_date  # noqa: PLC0415

        try:
            if args.by:
                self.dims = parse_by(args.by)
            if args.since:
                self.since = parse_date(args.since, "--since")
            if args.until:
                self.until = parse_date(args.until, "--until")
            if self.since and self.until and self.since > self.until:
                raise ValueError(f"--since {args.since} is after --until {args.until}")
            if args.timezone:
                self.tz = _zone(args.timezone)
        except ValueError as exc:
            self.error = str(exc)
        if not self.error and (args.since or args.until) and args.window and not self.window_all:
            self.error = "--since/--until replace --window: give one or the other"

    def range_ns(self, settings: Any, now: int) -> tuple[int, int, str]:
        """``[start, end)`` and the window's name for JSON (``7d``, ``today``, ``all``, or
        ``range`` for dates)."""
        from burntray.config_values import CALENDAR_WINDOWS, window_span_ns  # noqa: PLC0415
        from burntray.model.periods import day_start_ns  # noqa: PLC0415
        from burntray.model.timefmt import format_duration  # noqa: PLC0415

        if self.since or self.until:
            start = day_start_ns(self.since, self.tz) if self.since else 0
            end = now + 1
            if self.until:
                import datetime as dt  # noqa: PLC0415

                end = day_start_ns(self.until + dt.timedelta(days=1), self.tz)
            return start, end, "range"
        if self.window_all:
            return 0, now + 1, "all"
        window = window_span_ns(settings.window, now, self.tz)
        name = settings.window if settings.window in CALENDAR_WINDOWS else ""
        return now - window, now + 1, name or format_duration(window)


def _zone(name: str) -> Any:
    import zoneinfo  # noqa: PLC0415

    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"--timezone {name!r}: not an IANA zone such as Europe/Berlin") from None


def print_by(ctx, source, view: ViewRequest, *, fmt: str, settings, now: int, out=None) -> str:  # type: ignore[no-untyped-def]
    """The view as a table (text), CSV or JSON, from burntray's history; returns "" or why it
    cannot be shown (the history cannot be opened)."""
    from burntray.report import by_period  # noqa: PLC0415
    from burntray.report.by_period import OWN_DIMS  # noqa: PLC0415
    from burntray.report.own_costs import own_figures  # noqa: PLC0415
    from burntray.report.views import ViewQuery, read_view  # noqa: PLC0415
    from burntray.sources.base import HasRecords, members_of  # noqa: PLC0415

    history = ctx.history()
    if history is None:
        return f"history unusable, nothing to group: {ctx.history_error}"
    start, end, window = view.range_ns(settings, now)
    query = ViewQuery(view.dims, start, end, view.tz, view.week_start)
    names = None if source.name == "all" else [source.name]
    import sqlite3  # noqa: PLC0415

    try:
        result = read_view(history, names, query)
        own = own_figures(history, source, names, query) if view.dims in OWN_DIMS else None
    except sqlite3.Error as exc:  # locked past its timeout, or damaged: say so, no traceback
        return f"history {ctx.paths.history_db} unreadable: {exc}"
    not_grouped = [n for n, m in members_of(source).items() if not isinstance(m, HasRecords)]
    if fmt == "json":
        import json  # noqa: PLC0415

        doc = by_period.to_json(
            result.rows,
            view.dims,
            source.name,
            window=window,
            since=view.since.isoformat() if view.since else "",
            until=view.until.isoformat() if view.until else "",
            timezone=str(view.tz) if view.tz else "local",
            week_start=settings_week(view) if "week" in view.dims else "",
            not_grouped=not_grouped,
            not_added=result.not_added,
            own=own,
        )
        text = json.dumps(doc, indent=2) + "\n"
    elif fmt == "csv":
        text = by_period.to_csv(result.rows, view.dims, own)
    else:
        text = by_period.to_text(result.rows, view.dims, not_grouped, result.not_added, own)
    if out is None or str(out) == "-":
        sys.stdout.write(text)
    else:
        from burntray.io.atomic import write_output  # noqa: PLC0415

        write_output(out, text.encode("utf-8"))
    return ""


def settings_week(view: ViewRequest) -> str:
    return _WEEKDAYS[view.week_start]
