"""``burntray report``: write the usage report as one HTML file, or as CSV or JSON, and open it.

The public contract (the tray's "Open report" uses it): ``write_report(ctx, settings, fmt, out)``
writes the report for ``settings.window`` and ``settings.source`` atomically with mode 0600,
by default into ``ctx.paths.reports_dir`` where only the newest 20 reports are kept, and returns
its path; ``open_in_browser(path)`` shows it in the default browser. ``out`` may be ``-`` (the
report goes to stdout) or a character device or FIFO (written to directly, never replaced).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import sys
from pathlib import Path

from burntray.app import AppContext
from burntray.config import Settings
from burntray.errors import BurntrayError
from burntray.io.atomic import STDOUT, atomic_write, write_output
from burntray.lazylog import get_logger
from burntray.model.format import window_text
from burntray.paths import check_own_dir, ensure_dir
from burntray.report.csv_out import render_csv
from burntray.report.data import ReportData, collect
from burntray.report.html import render_html
from burntray.report.json_out import report_to_dict

log = get_logger(__name__)

FORMATS = ("html", "csv", "json")
KEEP_REPORTS = 20
REPORT_PREFIX = "burntray-report-"


class ReportError(BurntrayError):
    """The report cannot be written; the message names the file and why."""


def write_report(
    ctx: AppContext,
    settings: Settings,
    fmt: str = "html",
    out: Path | None = None,
    *,
    since_ns: int | None = None,
) -> Path:
    """Write the report and return its path (see the module docstring); from ``since_ns`` to
    now instead of the settings' window, when given."""
    if fmt not in FORMATS:
        raise ReportError(f"unknown report format {fmt!r}: use one of {', '.join(FORMATS)}")
    data = collect(ctx, settings, since_ns)
    body = render(data, fmt)
    if out is None:
        directory = ctx.paths.reports_dir
        out = directory / default_name(data, fmt)
        _write_atomic(out, body, make_dir=True)
        prune_reports(directory, KEEP_REPORTS, keep_path=out)
    elif str(out) == STDOUT:
        write_stdout(body)
    else:
        _write_atomic(out, body, make_dir=False)
    return out


def write_stdout(body: bytes) -> None:
    """``--out -``: the report on standard output (bytes as they are, no newline added)."""
    stream = sys.stdout
    stream.flush()
    stream.buffer.write(body)
    stream.buffer.flush()


def open_in_browser(path: Path) -> str:
    """Open the report in the default browser (a file URL); returns ``""`` when it opened, else
    why not (also logged), never raises. Blocks a few seconds at most (see ``open_url``)."""
    why = launch_browser(path)
    if why:
        log.warning("the report %s was not opened: %s", path, why)
    return why


def launch_browser(path: Path) -> str:
    """Start the browser on ``path``; ``""`` when it opened, else why not."""
    from burntray.ui.launch import open_url  # noqa: PLC0415

    try:
        return open_url(path.resolve().as_uri())
    except OSError as exc:
        return f"opening {path} failed: {exc.strerror or exc}"


def default_name(data: ReportData, fmt: str) -> str:
    moment = _dt.datetime.fromtimestamp(data.generated_ns / 1e9, tz=_dt.UTC)
    millis = (data.generated_ns // 1_000_000) % 1000
    stamp = moment.strftime("%Y%m%dT%H%M%S") + f"{millis:03d}Z"
    window = window_text(data.snapshot)
    return f"{REPORT_PREFIX}{stamp}-{data.snapshot.source}-{window}.{fmt}"


def prune_reports(directory: Path, keep: int, keep_path: Path | None = None) -> int:
    """Delete all but the newest ``keep`` reports burntray wrote there; returns how many.

    Only files named ``burntray-report-*`` are considered (names sort by time). ``keep_path``
    (the report just written) always survives. Nothing is deleted unless ``directory`` is a
    real folder of the user's own (never through a symbolic link put in its place).
    """
    try:
        check_own_dir(directory)
    except OSError as exc:
        log.warning("not pruning reports in %s: %s", directory, exc.strerror or exc)
        return 0
    reports = sorted(
        (p for p in directory.glob(REPORT_PREFIX + "*") if p.suffix[1:] in FORMATS),
        key=lambda p: p.name,
        reverse=True,
    )
    removed = 0
    for old in reports[keep:]:
        if old == keep_path:
            continue
        with contextlib.suppress(FileNotFoundError):
            old.unlink()
            removed += 1
    return removed


def _write_atomic(path: Path, body: bytes, make_dir: bool) -> None:
    """Temp file in the same directory (created 0600), fsync, rename over the target."""
    directory = path.parent
    try:
        if make_dir:  # burntray's cache dir and its reports dir: private, 0700
            ensure_dir(directory.parent)
            ensure_dir(directory)
    except OSError as exc:
        raise ReportError(f"cannot write a report in {directory}: {exc.strerror or exc}") from exc
    try:
        if make_dir:  # burntray's own reports folder: only ever its own regular files
            atomic_write(path, body)
        else:  # a path the user named: a file is replaced, a device or FIFO written to
            write_output(path, body)
    except OSError as exc:
        where = str(path) if directory.is_dir() else f"a report in {directory}"
        raise ReportError(f"cannot write {where}: {exc.strerror or exc}") from exc


def render(data: ReportData, fmt: str, tz: _dt.tzinfo | None = None) -> bytes:
    if fmt == "html":
        return render_html(data, tz).encode("utf-8")
    if fmt == "csv":
        return render_csv(data).encode("utf-8")
    if fmt == "json":
        import msgspec  # noqa: PLC0415

        raw = msgspec.json.encode(report_to_dict(data))
        return msgspec.json.format(raw, indent=2) + b"\n"
    raise ReportError(f"unknown report format {fmt!r}: use one of {', '.join(FORMATS)}")
