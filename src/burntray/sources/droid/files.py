"""Droid's session files, and which changed since the last pass, without a ``stat`` of each.

A Droid user keeps a settings file per session: 20,000 sessions cost a warm pass 20,000
``stat`` calls and a 4.6 MB resume state read and written back whole. Two things make a pass
cost what changed instead:

- **Folders whose time says nothing changed are not looked into.** Droid (0.225) writes a
  session's settings to ``<file>.<pid>.<ms>.tmp`` beside it and renames that over the file, under
  a ``<file>.lock`` made and removed beside it: each write adds and removes names in the folder,
  which moves the folder's modification time. A folder whose time is the one seen when it was
  last listed is skipped whole (its files and subfolders as they were), once that time is older
  than ``QUIET_NS`` at the listing (a change later in the same clock tick, on a file system with
  coarse times, would otherwise keep it). A file written in place (as a copy tool, or a Droid
  that did not rename, might) leaves its folder's time alone: the ``RECENT_KEPT`` files written
  last are looked at on every pass whatever their folder's time, so the sessions in use are
  followed either way; an older one written in place is seen when its folder next changes.
- **The stamps are kept per folder** (``agent_logs.state_parts.Parts``: a part of the resume
  state under a key of its own beside it), read only for a folder that changed and written
  back only when they moved.

The index (folders, their times and file counts, the recent files, why files were skipped) is
small and saved with the records, as every resume state is.
"""

from __future__ import annotations

import heapq
import os
import time
from collections.abc import Callable
from pathlib import Path

import msgspec
from msgspec import Struct, field

from burntray.sources.agent_logs.files import scan_folder
from burntray.sources.agent_logs.state_parts import Parts
from burntray.sources.agent_logs.stores import read_noted

MAX_REASON = 300
QUIET_NS = 2 * 10**9
RECENT_KEPT = 64  # the files written last, looked at on every pass

Stamp = tuple[int, int, int, int]  # dev, ino, size, mtime_ns


def _mtime(item: tuple[str, Stamp]) -> int:
    return item[1][3]


class Index(msgspec.Struct, gc=False):
    """What a pass needs of every folder: its time when listed (-1: not to be trusted), how
    many session files it held, its subfolders; the files written lately, with their stamps;
    why files were not counted."""

    dirs: dict[str, tuple[int, int, list[str]]] = {}
    recent: dict[str, tuple[int, int, int, int]] = {}
    skipped: dict[str, str] = {}


class DroidFiles(Struct):
    """The session files below ``roots`` and which changed since the last pass (the interface
    of ``agent_logs.stores.WholeFiles``, which ``WholeFileReader`` drives)."""

    roots: list[Path]
    suffix: str
    parts: Parts
    clock_ns: Callable[[], int] = time.time_ns
    index: Index = field(default_factory=Index)
    unreadable: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    files_seen: int = 0
    progress: int = 0
    looked_into: int = 0  # folders listed on the last pass (the others were skipped)
    _pending: dict[str, int] = field(default_factory=dict)  # folder -> files not done yet
    _listed: dict[str, int] = field(default_factory=dict)  # folder -> time to trust, or -1
    _floor: int = 0  # the oldest time among the recent files when they were last trimmed
    _last: tuple[str, dict[str, list[object]]] = ("", {})  # the folder ``done`` saw last

    def folders(self) -> list[str]:
        return list(self.index.dirs)

    def changed(self) -> list[tuple[Path, str, Stamp]]:
        """(root, file, stamp) of every file new or changed since the last pass; ``done`` with
        each once its records are taken (a failed read is tried again next pass). A file is
        named by its path's text: a first scan hands out 20,000 of them, and a Path for each
        cost more than reading it."""
        self.settle()
        self._last = ("", {})
        out: list[tuple[Path, str, Stamp]] = []
        dirs: dict[str, tuple[int, int, list[str]]] = {}
        self.problems, self.unreadable, self.looked_into = [], {}, 0
        now = self.clock_ns()
        recent_by_dir: dict[str, list[str]] = {}
        for name in self.index.recent:
            recent_by_dir.setdefault(os.path.dirname(name), []).append(name)
        for root in self.roots:
            stack = [str(root)]
            while stack:
                folder = stack.pop()
                try:
                    mtime = os.stat(folder).st_mtime_ns
                except (FileNotFoundError, NotADirectoryError) as exc:
                    if folder == str(root):  # no such folder: Droid never ran here
                        self.problems.append(f"{folder}: {exc.strerror or exc}")
                    continue
                except OSError as exc:
                    self.unreadable[folder] = exc.strerror or str(exc)
                    continue
                known = self.index.dirs.get(folder)
                if known is not None and known[0] == mtime:
                    dirs[folder] = known  # nothing added, removed or renamed in it
                    stack.extend(known[2])
                    for name in recent_by_dir.get(folder, ()):
                        self._look_at(root, name, out)
                    continue
                listed = self._list(root, folder, out)
                if listed is None:
                    continue
                subdirs, count = listed
                dirs[folder] = (-1, count, subdirs)  # trusted once its files are done
                self._listed[folder] = mtime if now - mtime > QUIET_NS else -1
                stack.extend(subdirs)
        self.index.dirs = dirs
        self.files_seen = sum(d[1] for d in dirs.values())
        for kept in (self.index.skipped, self.index.recent):
            for gone in [k for k in kept if os.path.dirname(k) not in dirs]:
                del kept[gone]  # its folder is gone, or could not be looked into
                self.progress += 1
        return out

    def _list(
        self, root: Path, folder: str, out: list[tuple[Path, str, Stamp]]
    ) -> tuple[list[str], int] | None:
        """List ``folder``: its subfolders and how many session files it holds (the new and
        changed ones go to ``out``); None when it cannot be listed."""
        listing = scan_folder(folder, 0, (self.suffix,))
        why = listing.error
        if why:
            if folder == str(root) and not os.path.isdir(folder):
                self.problems.append(f"{folder}: {why}")
            else:
                self.unreadable[folder] = why
            return None
        self.looked_into += 1
        files = {os.path.basename(path): path for path in listing.files}  # name -> path
        subdirs = listing.dirs
        stamps = self.parts.get("d:" + folder)
        for gone in set(stamps) - files.keys():
            del stamps[gone]
            path = os.path.join(folder, gone)
            self.index.skipped.pop(path, None)
            self.index.recent.pop(path, None)
            self.parts.changed("d:" + folder)
            self.progress += 1
        pending = 0
        for name, path in files.items():
            try:
                st = os.stat(path)
            except OSError as exc:
                self.unreadable[path] = exc.strerror or str(exc)
                pending += 1  # not to be trusted: tried again next pass
                continue
            seen = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]
            stamp = (seen[0], seen[1], seen[2], seen[3])
            if stamps.get(name) != seen:
                out.append((root, path, stamp))  # ``done`` keeps it as recent
                pending += 1
            else:
                self._remember(path, stamp)
        self._pending[folder] = pending
        return subdirs, len(files)

    def _look_at(self, root: Path, path: str, out: list[tuple[Path, str, Stamp]]) -> None:
        """A file written lately, in a folder that did not change: written in place again?"""
        try:
            st = os.stat(path)
        except OSError:
            return  # gone or unreadable: its folder changed, or shows it next pass
        stamp = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        if self.index.recent.get(path) != stamp:
            out.append((root, path, stamp))

    def read(self, path: str) -> bytes | None:
        return read_noted(path, self.unreadable)

    def done(self, path: str, stamp: Stamp, why_skipped: str = "") -> None:
        """The file's records were taken (``why_skipped``: what in it could not be counted)."""
        name = path
        folder, base = os.path.split(name)
        if folder != self._last[0]:  # files come folder by folder
            self._last = (folder, self.parts.get("d:" + folder))
            self.parts.changed("d:" + folder)
        self._last[1][base] = list(stamp)
        if why_skipped:
            self.index.skipped[name] = why_skipped[:MAX_REASON]
        else:
            self.index.skipped.pop(name, None)
        self._remember(name, stamp)
        if folder in self._pending:
            self._pending[folder] -= 1
        self.progress += 1

    def _remember(self, path: str, stamp: Stamp) -> None:
        """Keep ``path`` among the files written last, if it is one of them."""
        recent = self.index.recent
        if stamp[3] < self._floor and len(recent) >= RECENT_KEPT:
            return
        recent[path] = stamp
        if len(recent) > 4 * RECENT_KEPT:  # a first pass: thousands, the latest kept
            self._trim()

    def _trim(self) -> None:
        latest = heapq.nlargest(RECENT_KEPT, self.index.recent.items(), key=_mtime)
        self.index.recent = dict(latest)
        self._floor = latest[-1][1][3]
        self.progress += 1

    def settle(self) -> None:
        """After a pass: a folder it listed is trusted from now on when all its changed files
        were done and it had been quiet for ``QUIET_NS`` when listed (the index then moved:
        ``progress``, so it is saved)."""
        for folder, mtime in self._listed.items():
            known = self.index.dirs.get(folder)
            if known is not None and self._pending.get(folder, 1) == 0 and mtime != known[0]:
                self.index.dirs[folder] = (mtime, known[1], known[2])
                self.progress += 1
        self._listed, self._pending = {}, {}
        if len(self.index.recent) > RECENT_KEPT:
            self._trim()

    @property
    def malformed(self) -> int:
        return len(self.index.skipped)

    @property
    def first_malformed(self) -> str:
        if not self.index.skipped:
            return ""
        path, why = min(self.index.skipped.items())
        return f"{path}: {why}"

    def save_state(self) -> Index:
        return self.index

    def reset(self) -> None:
        self.index = Index()
        self._listed, self._pending = {}, {}
        self.progress += 1
