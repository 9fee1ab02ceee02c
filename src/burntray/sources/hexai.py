"""The hexai shared stats cache (``stats.json`` + ``stats.lock``), read exactly as hexai reads it.

Spec: ``shared/spec/sources.md`` section 1. What hexai's ``TakeSnapshot`` does, we do: no lock
for reading (writers replace the file atomically), events kept when ``ts >= now - window``
(inclusive), ``window_seconds <= 0`` means 1 h, RPM over the nominal window. Unlike hexai's
reader we also reject ``version != 1`` (hexai's writers would wipe such a file) and report every
problem as a status; reading never writes.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import msgspec

from burntray.errors import ClearError
from burntray.model.aggregate import Counter, summarise_bytes
from burntray.model.pricing import PriceTable
from burntray.model.snapshot import Snapshot, SourceStatus
from burntray.model.timefmt import NS_PER_SECOND, TimeFormatError, parse_rfc3339_ns
from burntray.sources._lock import exclusive_lock
from burntray.store.history import HexaiEvent, HistoryStore, HistoryWindow

SOURCE_NAME = "hexai"
DEFAULT_WINDOW_S = 3600
GO_ZERO_TIME_NS = -62135596800 * NS_PER_SECOND  # 0001-01-01T00:00:00Z, Go's zero time.Time
CLEAR_LOCK_TIMEOUT_S = 2.0

_Int64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]


class _RawEvent(msgspec.Struct):
    # Go's encoding/json leaves a field at its zero value when it is missing or null.
    ts: str | None = None
    provider: str | None = None
    model: str | None = None
    sent: _Int64 | None = None
    recv: _Int64 | None = None


class _RawStats(msgspec.Struct):
    version: _Int64 | None = None
    updated_at: str | None = None
    window_seconds: _Int64 | None = None
    events: list[_RawEvent] | None = None


_DECODER = msgspec.json.Decoder(_RawStats)


class StatsFormatError(ValueError):
    """stats.json is not a version-1 hexai stats file; the message says where and why."""


@dataclass(frozen=True, slots=True)
class _Series:
    """One provider/model's events: sorted timestamps and prefix sums of bytes."""

    ts: list[int]
    cum_sent: list[int]  # cum_sent[i] = sum of sent over ts[:i]
    cum_recv: list[int]

    def since(self, cutoff_ns: int, until_ns: int | None = None) -> tuple[int, int, int]:
        lo = bisect_left(self.ts, cutoff_ns)
        hi = len(self.ts) if until_ns is None else bisect_left(self.ts, until_ns, lo)
        if hi <= lo:
            return 0, 0, 0
        return (
            hi - lo,
            self.cum_sent[hi] - self.cum_sent[lo],
            self.cum_recv[hi] - self.cum_recv[lo],
        )


@dataclass(frozen=True, slots=True)
class StatsFile:
    """A parsed stats.json: re-windowing it is O(models x log events)."""

    window_seconds: int  # as written (may be <= 0); see effective_window_s
    updated_ns: int
    series: dict[tuple[str, str], _Series]
    events: tuple[HexaiEvent, ...]

    @property
    def effective_window_s(self) -> int:
        return self.window_seconds if self.window_seconds > 0 else DEFAULT_WINDOW_S

    @property
    def coverage_start_ns(self) -> int:
        """From here on the file holds every event its writers kept (pruning removes older)."""
        return self.updated_ns - self.effective_window_s * NS_PER_SECOND

    def counters(self, cutoff_ns: int, until_ns: int | None = None) -> list[Counter]:
        out: list[Counter] = []
        for (provider, model), series in self.series.items():
            reqs, sent, recv = series.since(cutoff_ns, until_ns)
            if reqs:
                out.append((provider, model, reqs, sent, recv))
        return out

    @property
    def event_count(self) -> int:
        return len(self.events)


EMPTY_STATS = StatsFile(0, GO_ZERO_TIME_NS, {}, ())


def parse_stats(data: bytes) -> StatsFile:
    """Parse stats.json bytes; raise ``StatsFormatError`` naming the problem."""
    try:
        raw = _DECODER.decode(data)
    except msgspec.ValidationError as exc:
        raise StatsFormatError(f"wrong shape: {exc}") from None
    except UnicodeDecodeError:
        raise StatsFormatError("not UTF-8 text") from None
    except RecursionError:
        raise StatsFormatError("corrupt JSON: nested too deeply") from None
    except msgspec.DecodeError as exc:
        if not _is_utf8(data):
            raise StatsFormatError("not UTF-8 text") from None
        raise StatsFormatError(f"corrupt JSON: {exc}") from None
    if raw.version != 1:
        raise StatsFormatError(
            f"unsupported version {raw.version!r} (burntray reads version 1; hexai's writers "
            "would discard this file's events)"
        )
    try:
        updated_ns = GO_ZERO_TIME_NS if raw.updated_at is None else parse_rfc3339_ns(raw.updated_at)
    except TimeFormatError as exc:
        raise StatsFormatError(f"updated_at: {exc}") from None
    series, events = _index(raw.events or ())
    return StatsFile(raw.window_seconds or 0, updated_ns, series, events)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _index(
    raw_events: Iterable[_RawEvent],
) -> tuple[dict[tuple[str, str], _Series], tuple[HexaiEvent, ...]]:
    grouped: dict[tuple[str, str], list[tuple[int, int, int]]] = {}
    events: list[HexaiEvent] = []
    seen: dict[tuple[int, str, str, int, int], int] = {}
    parse = parse_rfc3339_ns
    for position, ev in enumerate(raw_events):
        try:
            # null is Go's zero time; "" is an error in Go's time.Time.UnmarshalJSON
            ts = GO_ZERO_TIME_NS if ev.ts is None else parse(ev.ts)
        except TimeFormatError as exc:
            raise StatsFormatError(f"events[{position}].ts: {exc}") from None
        provider, model = ev.provider or "", ev.model or ""
        sent, recv = ev.sent or 0, ev.recv or 0
        key = (ts, provider, model, sent, recv)
        dup = seen.get(key, 0)  # identical events stay distinct in history: 0, 1, 2...
        seen[key] = dup + 1
        events.append(HexaiEvent(ts, provider, model, sent, recv, dup))
        group = grouped.get((provider, model))
        if group is None:
            group = grouped[(provider, model)] = []
        group.append((ts, sent, recv))
    series: dict[tuple[str, str], _Series] = {}
    for group_key, rows in grouped.items():
        if any(rows[i][0] > rows[i + 1][0] for i in range(len(rows) - 1)):
            rows.sort()  # unsorted files happen (clock jumps, mixed zones): sort, never assume
        ts_list = [r[0] for r in rows]
        cum_sent = list(itertools.accumulate((r[1] for r in rows), initial=0))
        cum_recv = list(itertools.accumulate((r[2] for r in rows), initial=0))
        series[group_key] = _Series(ts_list, cum_sent, cum_recv)
    return series, tuple(events)


def hexai_snapshot(
    stats: StatsFile, window_ns: int, now_ns: int, prices: PriceTable, status: SourceStatus
) -> Snapshot:
    """Numbers for ``[now - window, ...)`` from the file alone: exactly hexai's TakeSnapshot."""
    totals, rows = summarise_bytes(stats.counters(now_ns - window_ns), window_ns, prices)
    return Snapshot(
        source=SOURCE_NAME,
        window_ns=window_ns,
        as_of_ns=now_ns,
        status=status,
        totals=totals,
        by_model=rows,
        tokens_estimated=True,
        cost_estimated=True,
        data_updated_ns=stats.updated_ns if stats.updated_ns != GO_ZERO_TIME_NS else None,
    )


_Fingerprint = tuple[int, int, int, int]  # st_mtime_ns, st_size, st_ino, st_dev


class HexaiSource:
    """Follows stats.json: re-reads only when it changed, keeps the last good parse.

    Not thread-safe: one monitor thread calls ``poll`` and ``snapshot``.
    """

    name = SOURCE_NAME
    label = "hexai cache"

    def __init__(
        self,
        cache_dir: Path,
        prices: PriceTable,
        history: HistoryStore | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.cache_dir = cache_dir
        self.stats_path = cache_dir / "stats.json"
        self.lock_path = cache_dir / "stats.lock"
        self.prices = prices
        self.history = history
        self._clock_ns = clock_ns
        self._stats = EMPTY_STATS
        self._fingerprint: _Fingerprint | None = None
        self._status = SourceStatus("starting", "not read yet")
        self._last_ok_ns: int | None = None
        self._ingested: set[HexaiEvent] = set()
        self._history_window = HistoryWindow(history, SOURCE_NAME) if history else None

    @property
    def status(self) -> SourceStatus:
        return self._status

    @property
    def stats(self) -> StatsFile:
        return self._stats

    def availability(self) -> tuple[bool, str]:
        if self.stats_path.is_file():
            return True, f"hexai: {self.stats_path}"
        if self.cache_dir.is_dir():
            return True, f"hexai: no stats.json yet in {self.cache_dir}"
        return False, f"hexai: no cache dir at {self.cache_dir}"

    def start(self, wake: Callable[[], None]) -> None:
        """Nothing runs in the background: the monitor's poll reads the file."""

    def attach_history(self, history: HistoryStore) -> None:
        """Start keeping history (and using it for long windows), ingesting what is loaded."""
        self.history = history
        self._history_window = HistoryWindow(history, SOURCE_NAME)
        self._ingested = set()
        self._ingest(self._stats)

    def needs_history(self, window_ns: int, now_ns: int) -> bool:
        """True when the window reaches back before what the live file covers."""
        return now_ns - window_ns < self._stats.coverage_start_ns

    def poll(self) -> bool:
        """Re-read stats.json if it changed. Returns True when what it holds changed."""
        now = self._clock_ns()
        try:
            st = os.stat(self.stats_path)
        except FileNotFoundError:
            return self._set_missing(now)
        except OSError as exc:
            return self._set_error(f"cannot stat {self.stats_path}: {exc.strerror or exc}")
        fingerprint = (st.st_mtime_ns, st.st_size, st.st_ino, st.st_dev)
        if fingerprint == self._fingerprint and self._status.state != "starting":
            return False
        try:
            # Open, read, close at once: on Windows an open handle can make hexai's rename fail.
            with open(self.stats_path, "rb") as fh:
                fst = os.fstat(fh.fileno())
                data = fh.read()
        except FileNotFoundError:
            return self._set_missing(now)
        except OSError as exc:
            return self._set_error(f"cannot read {self.stats_path}: {exc.strerror or exc}")
        self._fingerprint = (fst.st_mtime_ns, fst.st_size, fst.st_ino, fst.st_dev)
        try:
            stats = parse_stats(data)
        except StatsFormatError as exc:
            return self._set_error(f"{self.stats_path}: {exc}")
        self._stats = stats
        self._last_ok_ns = now
        self._status = SourceStatus("ok", f"{stats.event_count} events", last_ok_ns=now)
        self._ingest(stats)
        return True

    def _set_missing(self, now: int) -> bool:
        changed = self._status.state != "empty" or self._fingerprint is not None
        self._fingerprint = None
        # A deleted file is an empty one (as hexai's reader sees it), keeping the last window.
        self._stats = StatsFile(self._stats.window_seconds, now, {}, ())
        self._last_ok_ns = now
        self._status = SourceStatus("empty", f"no stats.json yet at {self.stats_path}", False, now)
        return changed

    def _set_error(self, detail: str) -> bool:
        changed = self._status.detail != detail
        # Keep the last good numbers, marked stale; the file is left exactly as it is.
        self._status = SourceStatus("error", detail, stale=True, last_ok_ns=self._last_ok_ns)
        return changed

    def _ingest(self, stats: StatsFile) -> None:
        if self.history is None:
            return
        current = set(stats.events)
        fresh = [ev for ev in stats.events if ev not in self._ingested]
        if fresh:
            self.history.ingest_hexai(fresh)
        self._ingested = current

    def snapshot(self, window_ns: int, now_ns: int | None = None) -> Snapshot:
        """Usage in ``[now - window, now]``: the live file where it covers, history before it."""
        now = self._clock_ns() if now_ns is None else now_ns
        cutoff = now - window_ns
        stats = self._stats
        snap = hexai_snapshot(stats, window_ns, now, self.prices, self._status)
        coverage = stats.coverage_start_ns
        if self._history_window is None or cutoff >= coverage:
            return snap
        older = self._history_window.counters(cutoff, coverage)
        counters = [*stats.counters(cutoff), *older]
        totals, rows = summarise_bytes(counters, window_ns, self.prices)
        return Snapshot(
            source=snap.source,
            window_ns=window_ns,
            as_of_ns=now,
            status=snap.status,
            totals=totals,
            by_model=rows,
            tokens_estimated=True,
            cost_estimated=True,
            history_used=True,
            data_updated_ns=snap.data_updated_ns,
        )

    def close(self) -> None:
        """Nothing to release: the file is never held open."""


def clear_stats(cache_dir: Path, clock_ns: Callable[[], int] = time.time_ns) -> int:
    """Empty hexai's stats.json the way a hexai writer would, under hexai's lock.

    Takes ``stats.lock`` (waiting at most 2 s), keeps ``window_seconds``, writes
    ``{"version":1,"updated_at":now,"window_seconds":w,"events":[]}`` to a temp file in the same
    dir, fsyncs and renames it over stats.json. Nothing else in the dir is touched. Returns the
    number of events removed. Raises ``LockTimeoutError`` or ``ClearError``; nothing changes then.
    """
    from burntray.model.timefmt import format_rfc3339_ns  # noqa: PLC0415 - clear is rare

    stats_path = cache_dir / "stats.json"
    if not cache_dir.is_dir():
        raise ClearError(f"no hexai cache dir at {cache_dir}: nothing to clear")
    with exclusive_lock(cache_dir / "stats.lock", CLEAR_LOCK_TIMEOUT_S):
        window_s, removed = DEFAULT_WINDOW_S, 0
        try:
            current = parse_stats(stats_path.read_bytes())
            window_s, removed = current.effective_window_s, current.event_count
        except FileNotFoundError:
            pass
        except (OSError, StatsFormatError):
            pass  # a corrupt file is replaced only by this explicit, confirmed clear
        body = msgspec.json.encode(
            {
                "version": 1,
                "updated_at": format_rfc3339_ns(clock_ns()),
                "window_seconds": int(window_s),
                "events": [],
            }
        )
        _atomic_write(stats_path, body + b"\n")
    return removed


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".tmp.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise ClearError(f"cannot write {path}: {exc.strerror or exc}") from exc
        raise
