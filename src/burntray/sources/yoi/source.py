"""yoi: per-request LLM usage from yoi's session segment logs, and its memory-exposure telemetry.

Each ``llm_usage`` line of ``<data-dir>/sessions/<session>/<segment>.jsonl`` becomes one
``UsageRecord`` (real tokens; priced from burntray's table by the model the segment's config
names, unpriced where it names none). The records are kept in burntray's history by the
``RecordSource`` base, with the byte offsets reached in each file, so a restart resumes where it
stopped. Reading and its tolerance of torn or interleaved lines is in ``yoi.logs``.

The workspace memory logs (``<workspace>/.yoi/memory/_usage/events.jsonl`` for the configured
workspaces) say which memory records were put in front of the model, with yoi's own estimate
``ceil(bytes/4)`` tokens each. That is not spend: it is shown as an upstream fact for the
window ("memory exposure, estimated"), never added to tokens or cost.

Cheap when idle: files that changed in the last minutes are checked on every poll (one ``stat``
each), the whole tree (every session folder and file) every ``FULL_SCAN_NS``.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from msgspec.structs import replace

from burntray.io.bounded_read import UnsafeFileError
from burntray.model.format import human_count
from burntray.model.pricing import PriceTable
from burntray.model.snapshot import Snapshot, UpstreamFact
from burntray.model.usage import UsageRecord
from burntray.sources.record_source import RecordSource
from burntray.sources.yoi.logs import (
    FileTail,
    LlmUsage,
    MemoryEvent,
    TailState,
    exposure_summary,
    parse_memory_lines,
    parse_segment_lines,
    read_lines,
    segment_files,
)
from burntray.store.history import HistoryStore

SOURCE_NAME = "yoi"
LABEL = "yoi sessions"
MEMORY_LOG = Path(".yoi") / "memory" / "_usage" / "events.jsonl"
FULL_SCAN_NS = 10 * 1_000_000_000
HOT_NS = 15 * 60 * 1_000_000_000  # a file written this recently is checked on every poll
MEMORY_SPAN_NS = 31 * 86_400 * 1_000_000_000


class YoiSource(RecordSource):
    name = SOURCE_NAME
    label = LABEL

    def __init__(
        self,
        data_dir: Path,
        prices: PriceTable,
        workspaces: Sequence[Path] = (),
        history: HistoryStore | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.data_dir = data_dir
        self.prices = prices
        self.workspaces = tuple(workspaces)
        self.state = TailState()
        self._where: dict[str, tuple[str, str]] = {}  # path -> (session, segment)
        self._hot: dict[str, int] = {}  # path -> mtime_ns of files written recently
        self._last_full_scan_ns: int | None = None
        self._memory_tails = {
            str(w / MEMORY_LOG): FileTail(w / MEMORY_LOG) for w in self.workspaces
        }
        self.memory_events: list[MemoryEvent] = []
        self._memory_bad_lines = 0  # in the memory logs (read anew on every start)
        self.legacy_lines = 0
        self._state_moved = False  # offsets moved since the last save_state
        super().__init__(history, clock_ns)

    @property
    def price_table(self) -> PriceTable | None:
        return self.prices

    # --- RecordSource ------------------------------------------------------------------------
    def save_state(self) -> str | None:
        """The offsets, only when they moved since the last save (the base asks on every poll;
        an idle yoi must not rewrite them each second)."""
        if not self._state_moved:
            return None
        self._state_moved = False
        return self.state.dump()

    def load_state(self, state: str) -> None:
        self.state = TailState.load(state)
        self._state_moved = False
        for key in self.state.tails:
            self._hot[key] = 0  # check every resumed file at the next poll

    def reset_reading(self) -> bool:
        """Read every session log from the start again (the history was cleared)."""
        self.state = TailState()
        self._where = {}
        self._hot = {}
        self._last_full_scan_ns = None
        self._state_moved = True
        return True

    def read_new(self) -> list[UsageRecord]:
        now = self._clock_ns()
        self.problem = ""
        self.empty_reason = ""
        self._read_memory_logs()
        try:
            info = os.stat(self.data_dir)
        except FileNotFoundError:
            self.empty_reason = f"no yoi data dir at {self.data_dir}"
            return []
        except OSError as exc:
            self.problem = f"yoi data dir {self.data_dir}: {exc.strerror or exc}"
            return []
        if not stat.S_ISDIR(info.st_mode):
            self.problem = f"yoi data dir {self.data_dir} is not a directory"
            return []
        sessions = self.data_dir / "sessions"
        if sessions.exists() and not sessions.is_dir():
            self.problem = f"yoi sessions folder {sessions} is not a directory"
            return []
        full = self._last_full_scan_ns is None or now - self._last_full_scan_ns >= FULL_SCAN_NS
        if full:
            self._last_full_scan_ns = now
            for session, segment, path in segment_files(self.data_dir):
                self._where.setdefault(str(path), (session, segment))
            paths = list(self._where)
        else:
            paths = list(self._hot)
        if not self._where:
            self.empty_reason = f"no yoi session logs yet in {self.data_dir / 'sessions'}"
        records: list[UsageRecord] = []
        for key in paths:
            records.extend(self._read_file(key, now))
        return records

    def _read_file(self, key: str, now: int) -> list[UsageRecord]:
        try:
            st = os.stat(key)
        except OSError:
            self._hot.pop(key, None)
            return []
        tail = self.state.tails.get(key)
        if now - st.st_mtime_ns < HOT_NS:
            self._hot[key] = st.st_mtime_ns
        else:
            self._hot.pop(key, None)
        if tail is not None and st.st_ino == tail.ino and st.st_size == tail.offset:
            return []
        if tail is None:
            tail = self.state.tails[key] = FileTail(Path(key))
        before = (tail.ino, tail.offset)
        try:
            return self._read_tail(key, tail)
        finally:
            if (tail.ino, tail.offset) != before:
                self._state_moved = True

    def _read_tail(self, key: str, tail: FileTail) -> list[UsageRecord]:
        session, segment = self._where.get(key) or _names(Path(key))
        out: list[UsageRecord] = []
        for _ in range(64):  # bounded work per poll; the rest follows on the next one
            try:
                chunk = read_lines(tail)
            except UnsafeFileError as exc:
                if not exc.missing:
                    self.problem = f"yoi log {exc}"
                return out
            usages, bad = parse_segment_lines(tail, session, segment, chunk.lines)
            tail.bad += bad
            out.extend(self._record(u) for u in usages)
            if not chunk.more:
                break
        return out

    def _record(self, usage: LlmUsage) -> UsageRecord:
        price = self.prices.lookup(usage.provider, usage.model) if usage.model else None
        cost = (
            price.cost_tokens(
                usage.input_tokens,
                usage.output_tokens,
                usage.cache_read_tokens,
                usage.cache_write_tokens,
            )
            if price is not None
            else None
        )
        return UsageRecord(
            ts_ns=usage.ts_ns,
            provider=usage.provider,
            model=usage.model,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            cost_usd=cost,
            key=f"{usage.session}/{usage.segment}@{usage.offset}.{usage.part}",
            session=usage.session,
        )

    def _read_memory_logs(self) -> None:
        for tail in self._memory_tails.values():
            for _ in range(64):
                try:
                    chunk = read_lines(tail)
                except UnsafeFileError:
                    break  # a workspace without a memory log yet: nothing to show
                events, legacy, bad = parse_memory_lines(chunk.lines)
                self.memory_events.extend(events)
                self.legacy_lines += legacy
                self._memory_bad_lines += bad
                if not chunk.more:
                    break
        if self.memory_events:
            cutoff = self._clock_ns() - MEMORY_SPAN_NS
            if self.memory_events[0].ts_ns < cutoff:
                self.memory_events = [e for e in self.memory_events if e.ts_ns >= cutoff]

    # --- figures -----------------------------------------------------------------------------
    @property
    def bad_lines(self) -> int:
        """Unusable lines in the logs as they are now (the session logs' count is kept with
        their offsets, so it shows after a restart too)."""
        return self.state.bad_lines + self._memory_bad_lines

    def facts(self) -> tuple[UpstreamFact, ...]:
        facts = [UpstreamFact("data dir", str(self.data_dir))]
        if self.bad_lines:
            facts.append(UpstreamFact("unreadable lines skipped", f"{self.bad_lines:,}"))
        if self.legacy_lines:
            facts.append(UpstreamFact("legacy memory lines skipped", f"{self.legacy_lines:,}"))
        return tuple(facts)

    def snapshot(self, window_ns: int, now_ns: int | None = None) -> Snapshot:
        """The base's figures, plus the window's memory exposure as a fact (never spend)."""
        now = self._clock_ns() if now_ns is None else now_ns
        snap = super().snapshot(window_ns, now)
        if not self.workspaces:
            return snap
        uses, exposure = exposure_summary(self.memory_events, now - window_ns, now + 1)
        fact = UpstreamFact(
            "memory exposure (estimated, not spend)",
            f"~{human_count(exposure)} tokens exposed, {uses} memory reads",
        )
        return replace(snap, facts=(*snap.facts, fact))


def _names(path: Path) -> tuple[str, str]:
    return path.parent.name, path.stem
