"""The reader an agent that rewrites whole files subclasses (Amp, Codebuff, Gemini CLI, Droid,
Copilot CLI's telemetry files).

What every such reader does is here once: find the files below each folder and which changed
since the last pass (``stores.WholeFiles``: an unchanged file is not opened), read a changed one
whole under a size cap, count a file that cannot be parsed as skipped with its reason and go on,
name what cannot be read, say when no folder is there at all, and keep the files' stamps as the
resume state. A subclass gives only its format:

- ``what`` and ``suffixes``: the folder, for people ("Amp threads folder"), and the file names;
- ``roots`` and ``keep``: which folders to walk and which files in them are its own;
- ``parse``: one file's bytes to records; it returns why what it skipped was not counted ("":
  all counted), or None to hold the file back (not marked read: read again next pass);
- ``finish``, ``more_state``/``load_more``/``forget``: for a reader that keeps something
  across files and passes (Droid's session totals).

The reader is what ``StoreSource`` asks for: history, live watch and facts are its part.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, TypeVar

import msgspec

from burntray.sources.agent_logs.stores import WholeFiles, dump_state, load_state_parts

T = TypeVar("T")

if TYPE_CHECKING:
    from burntray.model.pricing import PriceTable
    from burntray.model.usage import UsageRecord
    from burntray.sources.agent_logs.stores import Stamp, StoreReader


def json_lines(data: bytes, need: bytes = b"") -> tuple[list[tuple[int, dict[str, object]]], str]:
    """The objects on the lines of a JSONL file read whole (those holding ``need``, when given),
    each with its line's index; and why lines were not counted ("" when none was)."""
    found: list[tuple[int, dict[str, object]]] = []
    skipped, first = 0, ""
    for n, line in enumerate(data.split(b"\n")):
        if not line.strip() or (need and need not in line):
            continue
        try:
            rec = msgspec.json.decode(line)
        except msgspec.DecodeError as exc:
            skipped += 1
            first = first or f"line {n + 1}: {exc}"
            continue
        if isinstance(rec, dict):
            found.append((n, rec))
    return found, (f"{skipped} line(s) not JSON, first {first}" if skipped else "")


def typed_lines(
    data: bytes, decoder: msgspec.json.Decoder[T], need: bytes = b""
) -> tuple[list[T], str]:
    """``json_lines`` decoded straight to the agent's record type (only the fields it reads, no
    dict per line): a line of another shape (not an object, a field of another type) is not one
    of its records and is passed over uncounted, as ``json_lines`` passes a non-object."""
    found, skipped, first = decode_lines(data, decoder, need)
    return found, not_json(skipped, first)


def decode_lines(
    data: bytes, decoder: msgspec.json.Decoder[T], need: bytes = b"", line_base: int = 0
) -> tuple[list[T], int, str]:
    """``typed_lines``' records, how many lines were not JSON and the first of them (its number
    counted from ``line_base``: ``data`` may be a file's tail)."""
    found: list[T] = []
    skipped, first = 0, ""
    decode = decoder.decode
    for n, line in enumerate(data.split(b"\n")):
        if (need and need not in line) or not line.strip():
            continue
        try:
            found.append(decode(line))
        except msgspec.ValidationError:
            continue
        except msgspec.DecodeError as exc:
            skipped += 1
            first = first or f"line {line_base + n + 1}: {exc}"
    return found, skipped, first


def not_json(skipped: int, first: str) -> str:
    """What ``decode_lines`` found not JSON, in words ("" when nothing)."""
    return f"{skipped} line(s) not JSON, first {first}" if skipped else ""


class WholeFileReader:
    """Reads the changed files of one agent below every folder it is given."""

    what: ClassVar[str] = "data folder"
    suffixes: ClassVar[tuple[str, ...]] = (".json",)
    file_name: ClassVar[str] = ""  # every file's exact name, when the agent names them all alike

    def __init__(self, folders: Iterable[Path], prices: PriceTable) -> None:
        self.data_dirs = [Path(f) for f in folders]
        self.prices = prices
        self.missing = ""
        self.files_seen = 0
        self.files_read = 0  # files read since this reader was made
        # a reader that keeps every file gives no rule: then no file needs a Path to be kept
        own_rule = type(self).keep is not WholeFileReader.keep
        self._files = WholeFiles(
            self.roots(self.data_dirs),
            self.suffixes,
            keep=self.keep if own_rule else None,
            name=self.file_name,
        )

    # -- what a subclass gives

    def roots(self, folders: list[Path]) -> list[Path]:
        """The folders walked (the configured ones by default)."""
        return folders

    def keep(self, root: Path, path: Path) -> bool:
        """Whether a file found below ``root`` is one of the agent's (all by default)."""
        return True

    def parse(self, path: Path, data: bytes, stamp: Stamp, out: list[UsageRecord]) -> str | None:
        """Append the file's records; why what it skipped was not counted ("" when all was),
        or None to read the file again on the next pass."""
        raise NotImplementedError

    def finish(self, out: list[UsageRecord]) -> None:
        """After every changed file of a pass was parsed."""

    def missing_reason(self) -> str:
        """Why there is nothing to read at all ("" when a folder is there)."""
        problems = self._files.problems
        if problems and len(problems) == len(self.data_dirs):
            return f"no {self.what}: " + "; ".join(problems[:2])
        return ""

    def more_state(self) -> dict[str, object]:
        """What the subclass keeps with the resume state, beside the files' stamps."""
        return {}

    def load_more(self, parts: dict[str, object]) -> None:
        """Take back what ``more_state`` saved (``parts``: the whole saved state)."""

    def forget(self) -> None:
        """Drop what the subclass keeps across passes (called by ``reset``)."""

    # -- the shared part

    @property
    def progress(self) -> int:
        return self._files.progress

    @property
    def malformed_lines(self) -> int:
        return self._files.malformed

    @property
    def first_malformed(self) -> str:
        return self._files.first_malformed

    def folders(self) -> list[str]:
        return self._files.folders()

    def unreadable(self) -> dict[str, str]:
        return dict(self._files.unreadable)

    def read_new(self, active_since_ns: int | None = None) -> list[UsageRecord]:
        out: list[UsageRecord] = []
        for _root, path, stamp in self._files.changed():
            data = self._files.read(path)
            if data is None:
                continue
            self.files_read += 1
            why = self.parse(path, data, stamp, out)
            if why is not None:
                self._files.done(path, stamp, why)
        self.finish(out)
        self.files_seen = self._files.files_seen
        self.missing = self.missing_reason()
        return out

    def save_state(self) -> str:
        return dump_state(files=self._files.save_state(), **self.more_state())

    def load_state(self, text: str) -> None:
        parts = load_state_parts(text)
        self._files.load_state(parts.get("files"))
        self.load_more(parts)

    def take_stamps(self, stamps: dict[str, Stamp], skipped: dict[str, str]) -> None:
        """The files' stamps and reasons as a subclass decoded them itself (already checked)."""
        self._files.stamps = stamps
        self._files.skipped = {k: v for k, v in skipped.items() if k in stamps}

    def reset(self) -> None:
        self._files.reset()
        self.forget()


def _is_a_store_reader(reader: WholeFileReader) -> StoreReader:
    return reader  # mypy: the base is what StoreSource asks (its "module:Class" is built untyped)
