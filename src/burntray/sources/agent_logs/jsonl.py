"""The reader an agent that appends JSONL logs subclasses (Qwen Code, Kimi, pi, OpenClaw).

What every such reader does is here once: find the log files below each folder
(``JsonlFinder``), tail each one from its saved offset (``io.log_tail.LogTailer``: only the new
complete lines that hold a marker), count a line that is not JSON as skipped with its place and
go on, name what cannot be read, and say when no folder is there at all. A subclass gives only
its format:

- ``markers``: the bytes a line must hold to be decoded at all (cheap pre-filter);
- ``what``: the folder, for people ("Qwen Code projects folder");
- ``roots`` and ``keep``: which folders to walk and which files in them are its logs;
- ``read_file``: the file's new lines to records, usually one ``tail`` call with the line
  decoder and the function that makes a line a record.

The reader is what ``AgentLogSource`` asks for: history, live watch and facts are its part.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, TypeVar

import msgspec

from burntray.io.log_tail import FileState, LogTailer
from burntray.sources.agent_logs.files import JsonlFinder

if TYPE_CHECKING:
    from burntray.model.pricing import PriceTable
    from burntray.model.usage import UsageRecord
    from burntray.sources.agent_logs.source import LogReader

T = TypeVar("T")


def parts_below(root: str, name: str) -> list[str] | None:
    """The components of the path ``name`` below the folder ``root``, on their text (no Path
    made: a reader's ``keep_name`` asks it of every log a pass finds); None: not below it."""
    if not name.startswith(root) or name[len(root) : len(root) + 1] not in (os.sep, "/"):
        return None
    return name[len(root) + 1 :].split(os.sep)


def _no_state(_old: FileState) -> None:
    """A file read again from its start: no per-file state to forget (every line stands alone)."""


class JsonlReader:
    """Reads what is new in the agent's JSONL logs below every folder it is given."""

    markers: ClassVar[tuple[bytes, ...]] = ()
    what: ClassVar[str] = "logs folder"
    suffixes: ClassVar[tuple[str, ...]] = (".jsonl",)  # ("",): every file name is looked at

    def __init__(self, folders: Iterable[Path], prices: PriceTable) -> None:
        self.data_dirs = [Path(f) for f in folders]
        self.prices = prices
        self.tailer = LogTailer(self.markers)
        self._finders = [
            (d, JsonlFinder(root, suffixes=self.suffixes))
            for d in self.data_dirs
            for root in self.roots(d)
        ]
        self.missing = ""
        self.files_seen = 0

    # -- what a subclass gives

    def roots(self, folder: Path) -> list[Path]:
        """The folders walked for one configured folder (the folder itself by default)."""
        return [folder]

    def keep(self, root: Path, path: Path) -> bool:
        """Whether a file found below ``root`` is one of the agent's logs (all by default)."""
        return True

    def keep_name(self, root: Path, name: str) -> bool:
        """``keep`` on the path's text: a reader that tells its logs so makes a Path only for a
        file it reads (a warm pass over hundreds of unchanged logs makes none)."""
        return self.keep(root, Path(name))

    def read_file(self, folder: Path, root: Path, path: Path, out: list[UsageRecord]) -> None:
        """Append the records of the file's new lines (``folder``: the configured folder)."""
        raise NotImplementedError

    def forget(self) -> None:
        """Drop what the subclass keeps between passes (called by ``reset``)."""

    # -- the shared part

    def folders(self) -> list[str]:
        return [f for _d, finder in self._finders for f in finder.folders()]

    @property
    def malformed_lines(self) -> int:
        return self.tailer.skipped()[0]

    @property
    def first_malformed(self) -> str:
        return self.tailer.skipped()[1]

    def unreadable(self) -> dict[str, str]:
        found = {p: why for _d, f in self._finders for p, why in f.unreadable.items()}
        return {**found, **self.tailer.stats.unreadable}

    def read_new(self, active_since_ns: int | None = None) -> list[UsageRecord]:
        out: list[UsageRecord] = []
        present: set[str] = set()
        problems = []
        for folder, finder in self._finders:
            files = finder.find()
            if finder.problem:
                problems.append(finder.problem)
            for name in files:
                if not self.keep_name(finder.root, name):
                    continue
                present.add(name)
                if active_since_ns is not None and self.tailer.quiet_since(name, active_since_ns):
                    continue
                if not self.tailer.unchanged(name):
                    self.read_file(folder, finder.root, Path(name), out)
        self.tailer.forget_missing(present)
        self.files_seen = len(present)
        self.missing = (
            f"no {self.what}: " + "; ".join(problems[:2])
            if problems and len(problems) == len(self._finders)
            else ""
        )
        return out

    def tail(  # noqa: PLR0917 - the file, how a line is decoded and made a record, where to
        self,
        path: Path,
        decode: Callable[[bytes], T],
        record: Callable[[T], UsageRecord | None],
        out: list[UsageRecord],
        on_reset: Callable[[FileState], None] = _no_state,
        need: bytes = b"",
    ) -> None:
        """Read the file's new lines: each (holding ``need``, when given) is decoded, one that
        is not JSON is counted as skipped with its place, and ``record`` makes the rest records
        (None: the line carries no usage)."""

        def on_line(line: bytes, offset: int) -> None:
            if need and need not in line:
                return
            try:
                rec = decode(line)
            except msgspec.DecodeError as exc:
                self.tailer.skip(str(path), f"{path}@{offset}: {exc}")
                return
            found = record(rec)
            if found is not None:
                out.append(found)

        self.tailer.read(path, on_line, on_reset)

    def reset(self) -> None:
        self.tailer = LogTailer(self.markers)
        self.forget()

    def save_state(self) -> str:
        return self.tailer.save_state()

    def load_state(self, text: str) -> None:
        self.tailer.load_state(text)


def _is_a_log_reader(reader: JsonlReader) -> LogReader:
    return reader  # mypy: the base is what AgentLogSource asks (built from "module:Class")
