"""Finding the ``*.jsonl`` files under a coding agent's folders, cheaply on every pass.

A folder's mtime changes only when entries are added, removed or renamed in it, so a folder
whose mtime is what we saw last time keeps its cached listing: a pass over 5,000 files costs
one ``stat`` per folder, not a ``scandir`` of each. A missing root is "no logs yet"
(``problem``); a folder (the root too) that is there but cannot be listed is kept in
``unreadable`` with the reason, so the figures can say they are partial and name it (its files
are not counted). Symlinked folders are not followed (no loops); files found are read through
``io.bounded_read`` by the tailer, which accepts regular files only.
"""

from __future__ import annotations

import os
from pathlib import Path

from msgspec import Struct, field


class _Listing(Struct):
    mtime_ns: int
    files: list[str]
    dirs: list[str]
    error: str = ""  # why it could not be listed ("" when it was)


class JsonlFinder(Struct):
    """All ``*.jsonl`` files below ``root`` (recursively), sorted by path; ``suffixes`` widens
    that for agents that keep whole ``*.json`` files."""

    root: Path
    _cache: dict[str, _Listing] = field(default_factory=dict)
    problem: str = ""
    # folders below the root that could not be looked into on the last pass: path -> why
    unreadable: dict[str, str] = field(default_factory=dict)
    suffixes: tuple[str, ...] = (".jsonl",)

    def folders(self) -> list[str]:
        """Every folder seen on the last pass (what a file watcher should watch)."""
        return list(self._cache)

    def find(self) -> list[str]:
        found: list[str] = []
        seen: dict[str, _Listing] = {}
        root = str(self.root)
        stack = [root]
        self.problem = ""
        self.unreadable = {}
        while stack:
            folder = stack.pop()
            try:
                mtime = os.stat(folder).st_mtime_ns
            except (FileNotFoundError, NotADirectoryError) as exc:
                if folder == root:  # no such folder: the tool never ran here
                    self.problem = f"{folder}: {exc.strerror or exc}"
                continue
            except OSError as exc:  # it is there, but cannot be looked at: its files are unknown
                self.unreadable[folder] = exc.strerror or str(exc)
                continue
            listing = self._cache.get(folder)
            # a folder that could not be listed is tried again on every pass: a chmod that
            # fixes it does not change its mtime
            if listing is None or listing.mtime_ns != mtime or listing.error:
                listing = scan_folder(folder, mtime, self.suffixes)
            if listing.error:
                if folder == root and not os.path.isdir(folder):
                    self.problem = f"{folder}: {listing.error}"  # not a folder: nothing to read
                else:
                    self.unreadable[folder] = listing.error
            seen[folder] = listing
            found.extend(listing.files)
            stack.extend(listing.dirs)
        self._cache = seen
        found.sort()
        return found


def scan_folder(folder: str, mtime_ns: int, suffixes: tuple[str, ...]) -> _Listing:
    """The folder's files ending in one of ``suffixes``, its subfolders, and why it could not be
    listed."""
    files: list[str] = []
    dirs: list[str] = []
    error = ""
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        dirs.append(entry.path)
                    elif entry.name.endswith(suffixes):
                        files.append(entry.path)
                except OSError:
                    continue
    except OSError as exc:
        error = exc.strerror or str(exc)
    return _Listing(mtime_ns, files, dirs, error)
