"""A reader's resume state in named parts, each kept under a key of its own in burntray's history,
so a warm pass reads and writes back the parts it touched instead of the whole state (20,000
sessions' totals or files' stamps: megabytes of JSON decoded at every start and written after
every pass that read something).

- ``Parts``: the parts, read when first asked for, written when they changed; the small index a
  reader saves as its resume state (with its records, in their transaction) names the version
  of each part.
- ``bucket``: the part of a session (or any key), by a hash that stays the same across runs.
- ``PartsSource``: the ``StoreSource`` of such a reader, which hands the parts the history's
  ``get_meta``/``set_meta``.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from burntray.sources.agent_logs.stores import StoreSource
from burntray.store.history import RESUME_STATE_PREFIX

if TYPE_CHECKING:
    from burntray.model.usage import UsageRecord
    from burntray.store.history import HistoryStore

Fetch = Callable[[str], "str | None"]
Store = Callable[[list[tuple[str, str]]], None]  # (key, value) pairs, written at once
BUCKETS = 64  # a changed session reads and writes back 1/64 of all the sessions' part


_NAMES = tuple(f"s:{n}" for n in range(BUCKETS))  # made once, not per key


def bucket(key: str, count: int = BUCKETS) -> str:
    """The part ``key`` is kept in: crc32, never ``hash()`` (salted per process)."""
    n = zlib.crc32(key.encode("utf-8", "surrogatepass")) % count
    return _NAMES[n] if count == BUCKETS else f"s:{n}"


class _Part(msgspec.Struct, gc=False):
    version: int
    data: dict[str, list[object]]


_PART = msgspec.json.Decoder(_Part)


class Parts:
    """Named parts of a resume state, each kept under a key of its own (``fetch``/``store``:
    the history's), read when first asked for and written when they changed.

    A part's versions alternate between two keys, and the index (saved with the records, in
    their transaction) names the version each part is at: a part written for records that were
    then not saved (the process ended between the two writes) is one the index does not name,
    and the version it names is still there, under the other key.

    ``decoder``: of a part (``version`` and ``data``), checking its entries' shape; a part that
    is not there as named, or not of that shape, is counted in ``lost`` and taken as empty.
    ``whole_when_lost``: its owner cannot tell what a lost part's entries had recorded, so
    ``PartsSource`` then reads whole, as from a cleared history."""

    def __init__(self, prefix: str, decoder: Any = _PART, *, whole_when_lost: bool = False) -> None:
        self.prefix = prefix
        self.decoder = decoder
        self.whole_when_lost = whole_when_lost
        self.fetch: Fetch | None = None
        self.store: Store | None = None
        self.versions: dict[str, int] = {}
        self._loaded: dict[str, dict[str, Any]] = {}
        self._dirty: set[str] = set()
        self.lost = 0  # parts the index named that were not there as named

    def _key(self, name: str, version: int) -> str:
        return f"{self.prefix}{name}#{version % 2}"

    def get(self, name: str) -> dict[str, Any]:
        part = self._loaded.get(name)
        if part is None:
            part = {}
            version = self.versions.get(name)
            if version is not None and self.fetch is not None:
                part = self._read(name, version)
            self._loaded[name] = part
        return part

    def _read(self, name: str, version: int) -> dict[str, Any]:
        assert self.fetch is not None
        text = self.fetch(self._key(name, version))
        try:
            saved = self.decoder.decode(text or "")
        except msgspec.DecodeError:
            saved = None
        if saved is None or saved.version != version:
            self.lost += 1
            return {}
        data: dict[str, Any] = saved.data
        return data

    def changed(self, name: str) -> None:
        self._dirty.add(name)

    def names(self) -> set[str]:
        """Every part named by the index or held now."""
        return set(self.versions) | set(self._loaded)

    def save(self) -> dict[str, int]:
        """Write the parts that changed (each under its other key), all in one call of
        ``store`` (one transaction: a first scan's 64 parts were 64 commits, each rewriting the
        meta table's pages); the versions to index."""
        versions = {name: self.versions.get(name, 0) + 1 for name in sorted(self._dirty)}
        if self.store is not None and versions:
            encode = msgspec.json.encode
            self.store([
                (self._key(name, v), encode(_Part(v, self._loaded.get(name, {}))).decode())
                for name, v in versions.items()
            ])  # fmt: skip
        self.versions.update(versions)
        self._dirty.clear()
        return dict(self.versions)

    def take(self, versions: dict[str, int]) -> None:
        self.versions = dict(versions)
        self._loaded = {}
        self._dirty = set()

    def put_all(self, parts: dict[str, dict[str, Any]]) -> None:
        """Parts as a state of the former layout held them: all to be written."""
        self._loaded.update(parts)
        self._dirty.update(parts)

    def reset(self) -> None:
        self._loaded = {name: {} for name in self.versions}  # emptied, written as such
        self._dirty = set(self.versions)


class PartsSource(StoreSource):
    """A ``StoreSource`` whose reader keeps parts of its resume state (its ``parts``) under keys
    of their own in burntray's history, beside the index its ``save_state`` returns."""

    def attach_history(self, history: HistoryStore) -> None:
        if self._events is None:
            # before the index is read (``super``): the parts it names are read from there
            parts: Parts = getattr(self.store_reader, "parts")  # noqa: B009 - any such reader
            parts.prefix = f"{RESUME_STATE_PREFIX}{self.name}/"
            parts.fetch = history.get_meta
            parts.store = history.set_metas
        super().attach_history(history)

    def save_state(self) -> str | None:
        """The index, once the parts are written; None when a part could not be written (the
        records are kept all the same, the index saved stays the one naming the parts there)."""
        try:
            return super().save_state()
        except sqlite3.Error as exc:
            self._saved_progress = -1  # written on a later pass
            self.problem = f"history write failed: {exc}"
            return None

    def _read_records(self, active_since_ns: int | None) -> list[UsageRecord]:
        records = super()._read_records(active_since_ns)
        parts: Parts = getattr(self.store_reader, "parts")  # noqa: B009
        if parts.lost and parts.whole_when_lost and self._events is not None:
            # what the lost part's entries recorded is not known: drop this source's records
            # and read whole, as after a cleared history (the same totals a whole read gives)
            parts.lost = 0
            self._events.clear(self.name)
            self.store_reader.reset()
            records = super()._read_records(None)
        return records
