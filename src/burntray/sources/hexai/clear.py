"""Emptying hexai's stats.json on request, the way a hexai writer would, without losing data.

A clear first reads and counts what it will empty, under hexai's lock: if stats.json cannot be
read (permissions, a directory or FIFO in its place, a file that is not a valid stats file) or
the lock cannot be taken, nothing is changed and the error says why. hexai's other files in the
same folder (``cli-responses/``, ``ask/``, temp files) are never touched.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from burntray.errors import BurntrayError, ClearError
from burntray.io.bounded_read import UnsafeFileError
from burntray.model.timefmt import format_rfc3339_ns
from burntray.sources.hexai.parse import StatsFormatError, parse_stats, read_stats_bytes

CLEAR_LOCK_TIMEOUT_S = 2.0


def count_stats(stats_path: Path) -> int | None:
    """How many events stats.json holds (None: there is no stats.json), read safely (a FIFO
    or device in its place is refused, not read). Raises ``ClearError`` saying why it cannot
    be read or counted: then nothing may be cleared."""
    try:
        data = read_stats_bytes(stats_path)
    except UnsafeFileError as exc:
        if exc.missing:
            return None
        raise ClearError(f"cannot read {exc}; nothing was changed") from None
    try:
        return parse_stats(data).event_count
    except StatsFormatError as exc:
        raise ClearError(
            f"cannot read {stats_path}: {exc}; nothing was changed (hexai's next write starts "
            "it afresh)"
        ) from None


def clear_stats(cache_dir: Path, clock_ns: Callable[[], int] = time.time_ns) -> int:
    """Empty hexai's stats.json the way a hexai writer would, under hexai's lock.

    Takes ``stats.lock`` (waiting at most 2 s), reads and counts the events (a file that cannot
    be read or counted is left as it is: ``ClearError``), keeps ``window_seconds``, writes
    ``{"version":1,"updated_at":now,"window_seconds":w,"events":[]}`` to a temp file in the same
    dir, fsyncs and renames it over stats.json. Returns the number of events removed (0, and
    nothing written, when there is no stats.json). Raises ``BurntrayError`` subclasses only
    (``LockTimeoutError``, ``ClearError``); nothing changes then.
    """
    stats_path = cache_dir / "stats.json"
    if not cache_dir.is_dir():
        raise ClearError(f"no hexai cache dir at {cache_dir}: nothing to clear")
    from burntray.io.lock import exclusive_lock  # noqa: PLC0415 - clearing is rare

    try:
        with exclusive_lock(cache_dir / "stats.lock", CLEAR_LOCK_TIMEOUT_S):
            return _clear_locked(stats_path, clock_ns)
    except BurntrayError:
        raise
    except OSError as exc:
        raise ClearError(
            f"cannot take hexai's lock {cache_dir / 'stats.lock'}: {exc.strerror or exc}; "
            "nothing was changed"
        ) from None


def _clear_locked(stats_path: Path, clock_ns: Callable[[], int]) -> int:

    try:
        data = read_stats_bytes(stats_path)
    except UnsafeFileError as exc:
        if exc.missing:
            return 0
        raise ClearError(f"cannot read {exc}; nothing was changed") from None
    try:
        current = parse_stats(data)
    except StatsFormatError as exc:
        raise ClearError(
            f"cannot read {stats_path}: {exc}; nothing was changed (hexai's next write starts "
            "it afresh)"
        ) from None
    body = (
        b'{"version":1,"updated_at":"'
        + format_rfc3339_ns(clock_ns()).encode()
        + b'","window_seconds":'
        + str(int(current.effective_window_s)).encode()
        + b',"events":[]}\n'
    )
    _atomic_write(stats_path, body)
    return current.event_count


def _atomic_write(path: Path, data: bytes) -> None:
    from burntray.io.atomic import atomic_write  # noqa: PLC0415

    try:
        # hexai's own temp name pattern, so hexai and burntray leave the same kind of leftovers
        atomic_write(path, data, temp_prefix=path.name + ".tmp.")
    except OSError as exc:
        raise ClearError(
            f"cannot write {path}: {exc.strerror or exc}; nothing was changed"
        ) from exc
