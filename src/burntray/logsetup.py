"""Where burntray's log goes, and the rule that keeps it readable.

The tray runs for weeks and some problems persist (a bad price file, a daemon that stays down):
logged on every 1 s tick they would rotate every useful line away within the hour. So every
handler set up here carries one ``RepeatThrottle``: an identical warning or error (same logger,
level, text and exception) is written once, then at most once per ``REPEAT_INTERVAL_S``, with
a count of the copies left out. Modules just log; the throttle applies to all of them.

The log file is private (0600 in a 0700 dir, rotated copies too): it names files, models and
errors from the user's tools.

Other libraries' records (asyncio, desktop-notifier, pystray, Xlib, dbus...) are not burntray's
story: below WARNING they are dropped (debug chatter such as "Using selector: EpollSelector"),
and a failure they report becomes one line, its exception's type and text in place of a
traceback and object addresses (``ThirdPartyFilter``).
"""

from __future__ import annotations

import collections
import logging
import re
import sys
import threading
import time
from collections.abc import Callable
from io import TextIOWrapper
from pathlib import Path
from typing import TextIO, cast

from burntray.lazylog import cancel_pending
from burntray.paths import PRIVATE_FILE_MODE, AppPaths, ensure_dir, open_own_file, tighten

REPEAT_INTERVAL_S = 600.0  # an identical warning at most every 10 minutes
LOG_MAX_BYTES = 1_000_000
LOG_BACKUPS = 3
_MAX_KEYS = 512  # distinct messages remembered; the oldest is forgotten first
_FILE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_Key = tuple[str, int, str, str]


class RepeatThrottle(logging.Filter):
    """Pass a WARNING-or-worse record once, then identical ones at most every ``interval_s``.

    The record that passes after a quiet spell says how many copies were left out. One instance
    may sit on several handlers: each record is decided once and every handler gets the same
    answer. Records below ``min_level`` always pass (info lines are events, not symptoms).
    """

    def __init__(
        self,
        interval_s: float = REPEAT_INTERVAL_S,
        *,
        min_level: int = logging.WARNING,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.interval_s = interval_s
        self.min_level = min_level
        self._clock = clock
        self._lock = threading.Lock()
        # key -> [when last written, copies left out since]
        self._seen: collections.OrderedDict[_Key, list[float]] = collections.OrderedDict()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < self.min_level:
            return True
        with self._lock:
            decided = record.__dict__.get("_burntray_throttle")
            if decided is not None and decided[0] is self:
                return bool(decided[1])
            passed = self._decide(record)
            record._burntray_throttle = (self, passed)
            return passed

    def _decide(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, record.getMessage(), _exception_text(record))
        now = self._clock()
        seen = self._seen.get(key)
        if seen is not None and now - seen[0] < self.interval_s:
            seen[1] += 1
            return False
        left_out = int(seen[1]) if seen is not None else 0
        self._seen[key] = [now, 0]
        self._seen.move_to_end(key)
        while len(self._seen) > _MAX_KEYS:
            self._seen.popitem(last=False)
        if left_out:
            times = "once" if left_out == 1 else f"{left_out} times"
            record.msg = f"{record.getMessage()} [repeated {times} since last logged]"
            record.args = None
        return True


_OBJECT_AT = re.compile(r"<([\w.]+) object at 0x[0-9a-fA-F]+>")
_THIRD_PARTY_LINE_LIMIT = 300


def is_burntray_record(record: logging.LogRecord) -> bool:
    return record.name == "burntray" or record.name.startswith("burntray.")


class ThirdPartyFilter(logging.Filter):
    """Another library's record: dropped below WARNING; at WARNING or worse, kept as one line.

    A library's expected failures (no notification service, a tray that cannot dock) come with
    tracebacks and ``<... object at 0x...>`` reprs that tell a reader nothing; the line keeps
    what the library said and what went wrong.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if is_burntray_record(record):
            return True
        if record.levelno < logging.WARNING:
            return False
        if record.__dict__.get("_burntray_one_line"):
            return True  # another handler made it one line already
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            text = f"{text} ({detail})"
        text = " ".join(_OBJECT_AT.sub(r"<\1>", text).split())
        if len(text) > _THIRD_PARTY_LINE_LIMIT:
            text = text[: _THIRD_PARTY_LINE_LIMIT - 1] + "…"
        record.msg, record.args = text, None
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        record._burntray_one_line = True
        return True


def _exception_text(record: logging.LogRecord) -> str:
    if not record.exc_info or record.exc_info[1] is None:
        return ""
    exc = record.exc_info[1]
    return f"{type(exc).__qualname__}: {exc}"


def private_rotating_handler(path: Path) -> logging.Handler:
    """A rotating log whose files are created 0600 (rotation renames them, keeping the mode).

    Built on first use: ``logging.handlers`` (socket, pickle...) is not imported by the one-shot
    commands, which tmux runs every few seconds.
    """
    import logging.handlers  # noqa: PLC0415

    class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
        def _open(self) -> TextIOWrapper:
            stream = open(  # noqa: SIM115 - the handler owns the stream and closes it
                self.baseFilename,
                self.mode,
                encoding=self.encoding,
                errors=self.errors,
                opener=_private_opener,
            )
            return cast(TextIOWrapper, stream)

    return PrivateRotatingFileHandler(
        path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
    )


def _private_opener(path: str, flags: int) -> int:
    return open_own_file(path, flags, PRIVATE_FILE_MODE)  # never through a link put there


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (as logging's own last resort does)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass

    def emit(self, record: logging.LogRecord) -> None:
        if sys.stderr is not None:  # a windowed frozen app has no stderr at all
            super().emit(record)


def _replace_handlers(handlers: list[logging.Handler], level: int) -> None:
    """Install ``handlers`` on the root logger instead of any burntray installed before, so
    setting up twice (the tray falling back to the terminal view) never doubles each line."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "burntray_owned", False)]:
        root.removeHandler(old)
        old.close()
    throttle = RepeatThrottle()
    third_party = ThirdPartyFilter()
    for handler in handlers:
        handler.burntray_owned = True  # type: ignore[attr-defined]
        handler.addFilter(third_party)
        handler.addFilter(throttle)
        root.addHandler(handler)
    root.setLevel(level)


def setup_logging(paths: AppPaths, verbose: bool = False, console_warnings: bool = False) -> None:
    """Log to a rotating, private file in the log dir (and stderr when verbose; warnings to
    stderr as ``burntray: <message>`` with ``console_warnings``, for ``serve`` under systemd or
    in a container, whose journal is its stderr). Called by commands that run for a while, never
    at import; a console set-up still pending for the first message (``lazylog.when_used``) is
    dropped, so it cannot replace the file."""

    cancel_pending()
    try:
        ensure_dir(paths.log_dir)
        tighten(paths.log_file)  # files an older version left readable by others
        for n in range(1, LOG_BACKUPS + 1):
            tighten(paths.log_file.with_name(f"{paths.log_file.name}.{n}"))
        handler = private_rotating_handler(paths.log_file)
    except OSError as exc:  # a link or FIFO put in its place, someone else's folder, ...
        where = exc.filename or paths.log_file
        print(f"burntray: not logging to {where}: {exc.strerror or exc}", file=sys.stderr)
        warnings = _CurrentStderr()
        warnings.setFormatter(logging.Formatter("burntray: %(message)s"))
        warnings.setLevel(logging.WARNING)
        _replace_handlers([warnings], logging.DEBUG if verbose else logging.INFO)
        return
    handler.setFormatter(logging.Formatter(_FILE_FORMAT))
    handler.burntray_file = True  # type: ignore[attr-defined]
    handlers = [handler]
    if verbose:
        handlers.append(logging.StreamHandler())
    elif console_warnings:
        console = _CurrentStderr()
        console.setFormatter(logging.Formatter("burntray: %(message)s"))
        console.setLevel(logging.WARNING)
        handlers.append(console)
    _replace_handlers(handlers, logging.DEBUG if verbose else logging.INFO)


def setup_console_logging() -> None:
    """One-shot commands (status, report, doctor...): warnings go to stderr as
    ``burntray: <message>``, each identical one once. Never replaces a log file a long-running
    command set up (``serve`` writes its log there)."""
    if any(getattr(h, "burntray_file", False) for h in logging.getLogger().handlers):
        return
    handler = _CurrentStderr()
    handler.setFormatter(logging.Formatter("burntray: %(message)s"))
    handler.setLevel(logging.WARNING)
    _replace_handlers([handler], logging.WARNING)
