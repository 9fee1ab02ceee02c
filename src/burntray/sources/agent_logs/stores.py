"""Agents whose usage is not in append-only JSONL: whole files rewritten as a session goes on (a
JSON document per session) and SQLite databases. What their sources share:

- ``WholeFiles`` finds the files under the agent's folders and says which changed since the last
  pass (device, inode, size, mtime): an unchanged file is not opened, a changed one is read whole
  under a size cap (``io.bounded_read``: regular files only). Its records carry keys that stay the
  same when the file is read again, so burntray's history replaces them instead of adding them.
  The stamps are the resume state, so a restart reads only the files that changed meanwhile.
- ``StoreSource`` is the record source over such a reader: history, live watch, facts, as for
  the JSONL agents (``agent_logs.source``).

A file that cannot be read is named (``unreadable``); one that cannot be parsed is counted as
skipped with its reason; neither stops the others.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

import msgspec
from msgspec import Struct, field

from burntray.io.bounded_read import UnsafeFileError, read_regular_file
from burntray.sources.agent_logs.files import JsonlFinder
from burntray.sources.agent_logs.named import NamedLogSource
from burntray.sources.agent_logs.source import RecordReader

if TYPE_CHECKING:
    from burntray.model.usage import UsageRecord

# A session document far larger than this is not one an agent wrote; it is skipped, named.
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_REASON = 300

Stamp = tuple[int, int, int, int]  # dev, ino, size, mtime_ns


def read_noted(path: Path | str, unreadable: dict[str, str]) -> bytes | None:
    """The file's bytes (bounded, regular files only); None when it cannot be read, and why in
    ``unreadable``."""
    try:
        return read_regular_file(path, MAX_FILE_BYTES)
    except UnsafeFileError as exc:
        unreadable[str(path)] = str(exc)
        return None


class StoreReader(RecordReader, Protocol):
    """What ``StoreSource`` asks of an agent's reader: a log tailer's offsets are not what
    tells it the resume state moved, ``progress`` is."""

    @property
    def progress(self) -> int:
        """Bumped whenever the resume state moved (the source then saves it)."""
        ...


class StoreSource(NamedLogSource):
    """A record source over a ``StoreReader`` (named per agent)."""

    def __init__(self, name: str, label: str, reader: StoreReader, *rest: Any, **opts: Any) -> None:
        """As ``NamedLogSource`` (folders, history, clock; watch, watch_suffixes)."""
        self.store_reader = reader
        self._saved_progress = -1
        # The JSONL source reads its saved-state trigger from a log tailer; ``save_state`` below
        # asks the reader's ``progress`` instead, so the reader needs no tailer.
        super().__init__(name, label, cast("Any", reader), *rest, **opts)

    def read_new(self) -> list[UsageRecord]:
        records = super().read_new()
        if records and self._events is None and self._memory:
            # Without a history (it could not be opened) the records are kept in memory: a
            # file read again replaces its records there too, as the history does by key.
            keys = {r.key for r in records}
            self._memory = [r for r in self._memory if r.key not in keys]
        return records

    def save_state(self) -> str | None:
        progress = self.store_reader.progress
        if progress == self._saved_progress:
            return None
        self._saved_progress = progress
        return self.store_reader.save_state()

    def reset_reading(self) -> bool:
        self._saved_progress = -1
        return super().reset_reading()


class WholeFiles(Struct):
    """The files ending in ``suffixes`` below ``roots``, and which changed since the last pass."""

    roots: list[Path]
    suffixes: tuple[str, ...]
    keep: Callable[[Path, Path], bool] | None = None  # (root, file): one of ours? (None: all)
    name: str = ""  # every file's exact name ("": any ending in a suffix), told with no Path
    stamps: dict[str, Stamp] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # file -> why it was not counted
    unreadable: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    files_seen: int = 0
    progress: int = 0
    _finders: list[JsonlFinder] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._finders = [JsonlFinder(r, suffixes=self.suffixes) for r in self.roots]

    def folders(self) -> list[str]:
        return [f for finder in self._finders for f in finder.folders()]

    def changed(self) -> list[tuple[Path, Path, Stamp]]:
        """(root, file, stamp) of every file new or changed since the last pass; call ``done``
        with each once its records are taken, so a failed read is tried again next pass."""
        out: list[tuple[Path, Path, Stamp]] = []
        present: set[str] = set()
        self.problems = []
        unreadable: dict[str, str] = {}
        keep = self.keep
        exact = os.sep + self.name if self.name else ""
        for finder in self._finders:
            files = finder.find()
            if finder.problem:
                self.problems.append(finder.problem)
            unreadable.update(finder.unreadable)
            for name in files:
                # a Path is made only where it is looked at: a pass over thousands of unchanged
                # files (Droid keeps one per session) makes none
                if exact and not name.endswith(exact):
                    continue
                if keep is not None and not keep(finder.root, Path(name)):
                    continue
                present.add(name)
                try:
                    st = os.stat(name)
                except OSError as exc:
                    unreadable[name] = exc.strerror or str(exc)
                    continue
                stamp = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
                if self.stamps.get(name) != stamp:
                    out.append((finder.root, Path(name), stamp))
        for gone in set(self.stamps) - present:
            del self.stamps[gone]
            self.skipped.pop(gone, None)
            self.progress += 1
        self.unreadable = unreadable
        self.files_seen = len(present)
        return out

    def read(self, path: Path) -> bytes | None:
        return read_noted(path, self.unreadable)

    def done(self, path: Path, stamp: Stamp, why_skipped: str = "") -> None:
        """The file's records were taken (``why_skipped``: what in it could not be counted)."""
        name = str(path)
        self.stamps[name] = stamp
        if why_skipped:
            self.skipped[name] = why_skipped[:MAX_REASON]
        else:
            self.skipped.pop(name, None)
        self.progress += 1

    @property
    def malformed(self) -> int:
        return len(self.skipped)

    @property
    def first_malformed(self) -> str:
        if not self.skipped:
            return ""
        path, why = min(self.skipped.items())
        return f"{path}: {why}"

    def save_state(self) -> dict[str, object]:
        return {"stamps": self.stamps, "skipped": self.skipped}

    def load_state(self, state: object) -> None:
        if not isinstance(state, dict):
            return
        stamps = state.get("stamps")
        if isinstance(stamps, dict):
            try:  # every stamp as written (all at once, in C: a reader may keep 20,000)
                self.stamps = msgspec.convert(stamps, dict[str, tuple[int, int, int, int]])
            except msgspec.ValidationError:  # else the well-formed ones, one by one
                self.stamps = {
                    k: cast("Stamp", tuple(v))
                    for k, v in stamps.items()
                    if isinstance(v, list) and len(v) == 4 and all(type(x) is int for x in v)
                }
        skipped = state.get("skipped")
        if isinstance(skipped, dict):
            self.skipped = {k: str(v) for k, v in skipped.items() if k in self.stamps}

    def reset(self) -> None:
        self.stamps = {}
        self.skipped = {}
        self.progress += 1


def dump_state(**parts: object) -> str:
    """The resume state as compact JSON (msgspec: a reader of 20,000 files or sessions keeps
    megabytes of it, written after every pass that read something and read at every start)."""
    return msgspec.json.encode(parts).decode()


def load_state_parts(text: str) -> dict[str, object]:
    """The saved parts, or {} when the text is not ours (a state from another version)."""
    try:
        data = msgspec.json.decode(text)
    except msgspec.DecodeError:
        return {}
    return data if isinstance(data, dict) else {}
