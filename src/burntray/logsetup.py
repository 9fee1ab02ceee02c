"""Where burntray's log goes, and the rule that keeps it readable.

The tray runs for weeks and some problems persist (a bad price file, a daemon that stays down):
logged on every 1 s tick they would rotate every useful line away within the hour. So every
handler set up here carries one ``RepeatThrottle``: an identical warning or error (same logger,
level, text and exception) is written once, then at most once per ``REPEAT_INTERVAL_S``, with
a count of the copies left out. Modules just log; the throttle applies to all of them.

The log file is private (0600 in a 0700 dir, rotated copies too): it names files, models and
errors from the user's tools.
"""

from __future__ import annotations

import collections
import logging
import sys
import threading
import time
from collections.abc import Callable
from io import TextIOWrapper
from pathlib import Path
from typing import TextIO, cast

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
    for handler in handlers:
        handler.burntray_owned = True  # type: ignore[attr-defined]
        handler.addFilter(throttle)
        root.addHandler(handler)
    root.setLevel(level)


def setup_logging(paths: AppPaths, verbose: bool = False) -> None:
    """Log to a rotating, private file in the log dir (and stderr when verbose). Called by
    commands that run for a while, never at import."""
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
    handlers = [handler]
    if verbose:
        handlers.append(logging.StreamHandler())
    _replace_handlers(handlers, logging.DEBUG if verbose else logging.INFO)


def setup_console_logging() -> None:
    """One-shot commands (status, report, doctor...): warnings go to stderr as
    ``burntray: <message>``, each identical one once."""
    handler = _CurrentStderr()
    handler.setFormatter(logging.Formatter("burntray: %(message)s"))
    handler.setLevel(logging.WARNING)
    _replace_handlers([handler], logging.WARNING)
