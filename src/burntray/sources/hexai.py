"""The hexai shared stats cache (``stats.json`` + ``stats.lock``), read exactly as hexai reads it.

Spec: ``shared/spec/sources.md`` section 1. What hexai's ``TakeSnapshot`` does, we do: no lock
for reading (writers replace the file atomically), events kept when ``ts >= now - window``
(inclusive), ``window_seconds <= 0`` means 1 h, RPM over the nominal window. Unlike hexai's
reader we also reject ``version != 1`` (hexai's writers would wipe such a file) and report every
problem as a status; reading never writes.
"""

from __future__ import annotations

import collections
import datetime as _dt
import itertools
import operator
import os
import time
from bisect import bisect_left
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import msgspec

from burntray.atomic import atomic_write
from burntray.errors import ClearError
from burntray.model.aggregate import Counter, summarise_bytes
from burntray.model.pricing import PriceTable
from burntray.model.snapshot import Capabilities, Snapshot, SourceStatus
from burntray.model.timefmt import NS_PER_SECOND, TimeFormatError, parse_rfc3339_ns
from burntray.sources._lock import exclusive_lock
from burntray.sources._watch import FolderWatcher
from burntray.store.history import HexaiEvent, HistoryStore, HistoryWindow

SOURCE_NAME = "hexai"
# hexai records bytes per request: tokens are bytes/4 and cost comes from burntray's prices
HEXAI_CAPABILITIES = Capabilities(bytes=True, real_tokens=False, per_model=True)
DEFAULT_WINDOW_S = 3600
GO_ZERO_TIME_NS = -62135596800 * NS_PER_SECOND  # 0001-01-01T00:00:00Z, Go's zero time.Time
CLEAR_LOCK_TIMEOUT_S = 2.0

_Int64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]


class _RawEventIn(msgspec.Struct, gc=False):
    # Go's encoding/json leaves a field at its zero value when it is missing or null.
    ts: str | None = None
    provider: str | None = None
    model: str | None = None
    sent: _Int64 | None = None
    recv: _Int64 | None = None


class _RawStats(msgspec.Struct, gc=False):
    version: _Int64 | None = None
    updated_at: str | None = None
    window_seconds: _Int64 | None = None
    events: list[_RawEventIn] | None = None


_DECODER = msgspec.json.Decoder(_RawStats)


class StatsFormatError(ValueError):
    """stats.json is not a version-1 hexai stats file; the message says where and why."""


_AwareDatetime = Annotated[_dt.datetime, msgspec.Meta(tz=True)]
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_MIN_UTC = _dt.datetime.min.replace(tzinfo=_dt.UTC)
_MIN_KEY_NS = -62135596800 * NS_PER_SECOND + 2 * NS_PER_SECOND  # ~ datetime.min (+margin)
_MAX_KEY_NS = 253402300799 * NS_PER_SECOND - 2 * NS_PER_SECOND  # ~ datetime.max (-margin)
_TZINFO = operator.attrgetter("tzinfo")
_GO_ZERO_TEXT = "0001-01-01T00:00:00Z"
_NS_PER_US = 1000
# msgspec rounds fractions to the microsecond; every key is within this of the exact instant.
_ROUNDING_NS = 500

RawEvent = tuple[str | None, str, str, int, int]  # ts text as written, provider, model, sent, recv


@dataclass(frozen=True, slots=True)
class _Series:
    """One provider/model's events, sorted by time, with prefix sums of bytes.

    ``keys`` are the times as aware datetimes rounded to the microsecond (msgspec builds them in
    C, and datetimes sharing one zone compare at C speed; mixed zones are normalised to UTC).
    They are within 500 ns of the exact instant, so a cutoff is exact by construction: keys
    clearly on one side decide by bisection, and the rare events within 500 ns of the cutoff
    are decided by parsing their text to the nanosecond.
    """

    keys: list[_dt.datetime]
    texts: list[str | None]  # the ts as written (None: null, Go's zero time)
    cum_sent: list[int]  # cum_sent[i] = sum of sent over the first i events
    cum_recv: list[int]

    def _tail_start(self, cutoff_ns: int) -> tuple[int, list[int]]:
        """Index from which every event is >= cutoff, plus earlier indexes that also are."""
        if cutoff_ns <= _MIN_KEY_NS:
            return 0, []
        if cutoff_ns >= _MAX_KEY_NS:
            return len(self.keys), []
        low_us = -(-(cutoff_ns - _ROUNDING_NS) // _NS_PER_US)  # ceil
        high_us = -(-(cutoff_ns + _ROUNDING_NS) // _NS_PER_US)
        # Bounds in the keys' own zone: same-zone datetimes compare at C speed.
        zone = self.keys[0].tzinfo if self.keys else _dt.UTC
        low = (_EPOCH + _dt.timedelta(microseconds=low_us)).astimezone(zone)
        high = (_EPOCH + _dt.timedelta(microseconds=high_us)).astimezone(zone)
        lo = bisect_left(self.keys, low)
        hi = bisect_left(self.keys, high, lo)
        near = [i for i in range(lo, hi) if _exact_ns(self.texts[i]) >= cutoff_ns]
        return hi, near

    def since(self, cutoff_ns: int, until_ns: int | None = None) -> tuple[int, int, int]:
        """(requests, sent, recv) of the events with ``cutoff <= ts < until``."""
        reqs, sent, recv = self._tail(cutoff_ns)
        if until_ns is not None:
            later = self._tail(until_ns)
            reqs, sent, recv = reqs - later[0], sent - later[1], recv - later[2]
        return reqs, sent, recv

    def _tail(self, cutoff_ns: int) -> tuple[int, int, int]:
        start, near = self._tail_start(cutoff_ns)
        n = len(self.keys)
        reqs = n - start + len(near)
        sent = self.cum_sent[n] - self.cum_sent[start]
        recv = self.cum_recv[n] - self.cum_recv[start]
        for i in near:
            sent += self.cum_sent[i + 1] - self.cum_sent[i]
            recv += self.cum_recv[i + 1] - self.cum_recv[i]
        return reqs, sent, recv

    def raw_events(self, provider: str, model: str) -> list[RawEvent]:
        cs, cr = self.cum_sent, self.cum_recv
        return [
            (text, provider, model, cs[i + 1] - cs[i], cr[i + 1] - cr[i])
            for i, text in enumerate(self.texts)
        ]


def _exact_ns(text: str | None) -> int:
    return GO_ZERO_TIME_NS if text is None else parse_rfc3339_ns(text)


@dataclass(frozen=True, slots=True)
class StatsFile:
    """A parsed stats.json: re-windowing it is O(models x log events)."""

    window_seconds: int  # as written (may be <= 0); see effective_window_s
    updated_ns: int
    series: dict[tuple[str, str], _Series]
    event_count: int

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

    def raw_events(self) -> list[RawEvent]:
        """Every event as written (time text unparsed), grouped by provider/model."""
        out: list[RawEvent] = []
        for (provider, model), series in self.series.items():
            out.extend(series.raw_events(provider, model))
        return out

    def events(self) -> list[HexaiEvent]:
        """Every event with its exact time; identical events numbered 0, 1, 2..."""
        return to_history_events(collections.Counter(self.raw_events()))


def to_history_events(
    counts: Mapping[RawEvent, int], already: Mapping[RawEvent, int] | None = None
) -> list[HexaiEvent]:
    """History rows for ``counts`` copies of each event, numbering identical copies after the
    ``already`` ingested ones (so a replay maps to the same keys and adds nothing)."""
    out: list[HexaiEvent] = []
    for (text, provider, model, sent, recv), count in counts.items():
        ts = _exact_ns(text)
        first = already.get((text, provider, model, sent, recv), 0) if already else 0
        out.extend(HexaiEvent(ts, provider, model, sent, recv, first + k) for k in range(count))
    return out


EMPTY_STATS = StatsFile(0, GO_ZERO_TIME_NS, {}, 0)


def parse_stats(data: bytes) -> StatsFile:
    """Parse stats.json bytes; raise ``StatsFormatError`` naming the problem."""
    try:
        raw = _DECODER.decode(data)
    except UnicodeDecodeError:
        raise StatsFormatError("not UTF-8 text") from None
    except RecursionError:
        raise StatsFormatError("corrupt JSON: nested too deeply") from None
    except msgspec.ValidationError as exc:
        raise StatsFormatError(f"wrong shape: {exc}") from None
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
    events = raw.events or []
    return StatsFile(raw.window_seconds or 0, updated_ns, _index(events), len(events))


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _index(events: list[_RawEventIn]) -> dict[tuple[str, str], _Series]:
    """Group by provider/model and build each group's sorted keys and prefix sums.

    Hot path (a 100k-event file is re-parsed on every change): per-event work is done by C
    loops (msgspec.convert, map, accumulate) wherever possible.
    """
    series: dict[tuple[str, str], _Series] = {}
    for provider, model, (raw_texts, raw_sents, raw_recvs) in _columns_by_model(events):
        texts = raw_texts
        keys = _keys(texts, events)
        sents = _zero_for_null(raw_sents)
        recvs = _zero_for_null(raw_recvs)
        if not all(map(operator.le, keys, itertools.islice(keys, 1, None))):
            # unsorted files happen (clock jumps, mixed zones): sort, never assume
            order = sorted(range(len(keys)), key=keys.__getitem__)
            keys = [keys[i] for i in order]
            texts = [texts[i] for i in order]
            sents = [sents[i] for i in order]
            recvs = [recvs[i] for i in order]
        cum_sent = list(itertools.accumulate(sents, initial=0))
        cum_recv = list(itertools.accumulate(recvs, initial=0))
        name = (provider or "", model or "")
        if name in series:  # null and "" are the same to Go: merge
            series[name] = _merge(series[name], _Series(keys, texts, cum_sent, cum_recv))
        else:
            series[name] = _Series(keys, texts, cum_sent, cum_recv)
    return series


_Columns = tuple[list[str | None], list[int | None], list[int | None]]


def _columns_by_model(
    events: list[_RawEventIn],
) -> list[tuple[str | None, str | None, _Columns]]:
    """(ts texts, sent, recv) per provider and model, in file order, in one pass: every struct
    is touched once and no key tuple is built per event (both measured: ~2.5x faster than
    grouping, then one C pass per column)."""
    by_provider: dict[str | None, dict[str | None, _Columns]] = {}
    for ev in events:
        by_model = by_provider.get(ev.provider)
        if by_model is None:
            by_model = by_provider[ev.provider] = {}
        columns = by_model.get(ev.model)
        if columns is None:
            columns = by_model[ev.model] = ([], [], [])
        columns[0].append(ev.ts)
        columns[1].append(ev.sent)
        columns[2].append(ev.recv)
    return [
        (provider, model, columns)
        for provider, by_model in by_provider.items()
        for model, columns in by_model.items()
    ]


def _zero_for_null(values: list[int | None]) -> list[int]:
    if None in values:
        return [v or 0 for v in values]
    return values  # type: ignore[return-value]


def _keys(texts: list[str | None], events: list[_RawEventIn]) -> list[_dt.datetime]:
    """A sortable, microsecond-rounded instant for each time text, validated as strictly as
    Go. One zone (the usual case: one machine's local offset) keeps msgspec's datetimes as they
    are; mixed zones are normalised to UTC so comparisons stay cheap."""
    filled: list[str] = (
        [_GO_ZERO_TEXT if t is None else t for t in texts] if None in texts else texts  # type: ignore[assignment]
    )
    try:
        moments = msgspec.convert(filled, list[_AwareDatetime])
    except msgspec.ValidationError:
        moments = None
    if moments is None or not _strict_rfc3339(filled):
        # Find the first offender and name it exactly as Go's parser would fail on it.
        for text in filled:
            try:
                parse_rfc3339_ns(text)
            except TimeFormatError as exc:
                position = next(i for i, ev in enumerate(events) if ev.ts == text)
                raise StatsFormatError(f"events[{position}].ts: {exc}") from None
        raise StatsFormatError("events: a timestamp is not RFC 3339")  # pragma: no cover
    if len(set(map(_TZINFO, moments))) == 1:
        return moments
    return [_to_utc(moment) for moment in moments]


def _to_utc(moment: _dt.datetime) -> _dt.datetime:
    try:
        return moment.astimezone(_dt.UTC)
    except OverflowError:  # year 1 with a positive offset: never in any window
        return _MIN_UTC


def _strict_rfc3339(texts: list[str]) -> bool:
    """msgspec also accepts 't', 'z', a space separator and ``+0100``; Go does not. Cheap
    whole-list checks (C string searches) rule those out."""
    joined = "\n".join(texts)
    if "t" in joined or "z" in joined or " " in joined:
        return False
    # Each valid text has 2 colons in the time, plus 1 in a numeric offset (none with Z).
    return joined.count(":") == 3 * len(texts) - joined.count("Z")


def _merge(a: _Series, b: _Series) -> _Series:
    rows = sorted(
        [
            *zip(a.keys, a.texts, _steps(a.cum_sent), _steps(a.cum_recv), strict=True),
            *zip(b.keys, b.texts, _steps(b.cum_sent), _steps(b.cum_recv), strict=True),
        ],
        key=operator.itemgetter(0),
    )
    return _Series(
        [r[0] for r in rows],
        [r[1] for r in rows],
        list(itertools.accumulate((r[2] for r in rows), initial=0)),
        list(itertools.accumulate((r[3] for r in rows), initial=0)),
    )


def _steps(cumulative: list[int]) -> list[int]:
    return [b - a for a, b in itertools.pairwise(cumulative)]


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
        capabilities=HEXAI_CAPABILITIES,
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
        self._ingested: collections.Counter[RawEvent] = collections.Counter()
        self._history_window = HistoryWindow(history, SOURCE_NAME) if history else None
        self._watcher: FolderWatcher | None = None

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
        """Wake the monitor as soon as stats.json is replaced (where the OS can tell us), so
        freshness is not bounded by the poll interval. The poll still reads every change."""
        self._watcher = FolderWatcher(self.cache_dir, frozenset({"stats.json"}), wake)
        self._watcher.start()

    def attach_history(self, history: HistoryStore) -> None:
        """Start keeping history (and using it for long windows), ingesting what is loaded."""
        self.history = history
        self._history_window = HistoryWindow(history, SOURCE_NAME)
        self._ingested = collections.Counter()
        self._ingest(self._stats)

    def needs_history(self, window_ns: int, now_ns: int) -> bool:
        """True when the window reaches back before what the live file covers."""
        return now_ns - window_ns < self._coverage_start_ns(now_ns)

    @property
    def live_stats(self) -> StatsFile | None:
        """The last good read of stats.json, or None when none succeeded yet."""
        return self._stats if self._last_ok_ns is not None else None

    def _coverage_start_ns(self, now_ns: int) -> int:
        """From when the numbers in memory are complete. A file never read successfully (it
        is corrupt, unreadable, or not read yet) covers no time at all: the whole window then
        comes from the history, the last good figures burntray recorded."""
        if self._last_ok_ns is None:
            return now_ns + 1  # the window includes ts == now
        return self._stats.coverage_start_ns

    def poll(self) -> bool:
        """Re-read stats.json if it changed. Returns True when what it holds changed."""
        now = self._clock_ns()
        if self._watcher is not None and not self._watcher.active:
            self._watcher.start()  # the folder may exist now (hexai's first write creates it)
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
        self._stats = StatsFile(self._stats.window_seconds, now, {}, 0)
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
        # Only what this file adds over the last one is parsed exactly and offered to the
        # history (which ignores what it already has, e.g. after a restart).
        current = collections.Counter(stats.raw_events())
        fresh = current - self._ingested
        if fresh:
            self.history.ingest_hexai(to_history_events(fresh, self._ingested))
        self._ingested = current

    def snapshot(self, window_ns: int, now_ns: int | None = None) -> Snapshot:
        """Usage in ``[now - window, now]``: the live file where it covers, history before it."""
        now = self._clock_ns() if now_ns is None else now_ns
        cutoff = now - window_ns
        stats = self._stats
        snap = hexai_snapshot(stats, window_ns, now, self.prices, self._status)
        coverage = self._coverage_start_ns(now)
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
            capabilities=HEXAI_CAPABILITIES,
            history_used=True,
            data_updated_ns=snap.data_updated_ns,
        )

    def close(self) -> None:
        """Stop the watcher (the file itself is never held open)."""
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None


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
    try:
        # hexai's own temp name pattern, so hexai and burntray leave the same kind of leftovers
        atomic_write(path, data, temp_prefix=path.name + ".tmp.")
    except OSError as exc:
        raise ClearError(f"cannot write {path}: {exc.strerror or exc}") from exc
