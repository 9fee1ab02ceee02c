"""The macOS/Windows watch backend (watchdog's observer), run here on Linux by choosing it:
real files written, the wake waited for (every bound is a hang guard), and the events the
observer really delivers decided on without waiting for a wake that must not come."""

from __future__ import annotations

import shutil
import sys
import threading
from pathlib import Path

import pytest

from burntray.io.atomic import atomic_write
from burntray.io.tree_watch import TreeWatcher
from burntray.io.watch import WATCHDOG, FolderWatcher, default_backend
from burntray.io.watch_portable import ObserverWatch

GUARD_S = 30.0  # a hang guard: each wake comes in milliseconds


class Recorder:
    """Every (kind, path, is_dir) an observer delivers, and a wait for one that matches."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, bool]] = []
        self._changed = threading.Condition()

    def __call__(self, kind: str, path: str, is_dir: bool) -> None:
        with self._changed:
            self.events.append((kind, path, is_dir))
            self._changed.notify_all()

    def wait_for(self, kind: str, path: Path) -> None:
        with self._changed:
            assert self._changed.wait_for(
                lambda: (kind, str(path), False) in self.events, GUARD_S
            ), self.events


def test_linux_keeps_inotify_and_the_other_systems_get_watchdog() -> None:
    assert default_backend() == ("inotify" if sys.platform.startswith("linux") else WATCHDOG)


def test_a_replace_of_its_file_wakes_it_and_other_files_do_not(tmp_path: Path) -> None:
    """What the observer delivers for other files and for hexai's atomic replace (temp file,
    then rename), each event judged as the watcher judges it."""
    recorder = Recorder()
    observer = ObserverWatch(recorder)
    observer.start()
    try:
        assert observer.add(str(tmp_path)) == ""
        (tmp_path / "cli-responses.json").write_text("{}")
        atomic_write(tmp_path / "other.json", b"{}")
        atomic_write(tmp_path / "stats.json", b"{}", temp_prefix="stats.json.tmp.")
        recorder.wait_for("moved", tmp_path / "stats.json")  # the rename's destination
    finally:
        observer.stop()
    watcher = FolderWatcher(tmp_path, frozenset({"stats.json"}), lambda: None, backend=WATCHDOG)
    judged = {(kind, Path(path).name): watcher.portable_change(kind, path, is_dir)
              for kind, path, is_dir in recorder.events}  # fmt: skip
    assert judged[("moved", "stats.json")] == (True, False)
    others = {key: value for key, value in judged.items() if key[1] != "stats.json"}
    assert {key[1] for key in others} >= {"cli-responses.json", "other.json"}
    assert set(others.values()) == {(False, False)}


def test_the_folder_watcher_wakes_on_a_replace_and_stops(tmp_path: Path) -> None:
    woken = threading.Event()
    watcher = FolderWatcher(tmp_path, frozenset({"stats.json"}), woken.set, backend=WATCHDOG)
    assert watcher.start() and watcher.active
    own = [t for t in threading.enumerate() if t.name == "burntray-watch"]
    try:
        atomic_write(tmp_path / "stats.json", b"{}", temp_prefix="stats.json.tmp.")
        assert woken.wait(GUARD_S)
    finally:
        watcher.stop()
    assert not watcher.active
    assert own and not any(t.is_alive() for t in own)  # its observer's thread ended


def test_a_deleted_folder_ends_the_watch_and_a_new_one_is_watched(tmp_path: Path) -> None:
    folder = tmp_path / "hexai"
    woken = threading.Event()
    watcher = FolderWatcher(folder, frozenset({"stats.json"}), woken.set, backend=WATCHDOG)
    assert watcher.start() is False  # nothing to watch yet
    folder.mkdir()
    try:
        assert watcher.start() is True
        shutil.rmtree(folder)
        assert woken.wait(GUARD_S)  # the folder going away is a change too
        assert not watcher.active  # so the next poll starts a new watch
        folder.mkdir()
        woken.clear()
        assert watcher.start() is True
        atomic_write(folder / "stats.json", b"{}")
        assert woken.wait(GUARD_S)
    finally:
        watcher.stop()


def test_the_tree_watcher_follows_the_folders_it_is_given(tmp_path: Path) -> None:
    project = tmp_path / "projects" / "one"
    project.mkdir(parents=True)
    woken = threading.Event()
    watcher = TreeWatcher(woken.set, backend=WATCHDOG)
    assert watcher.start()
    try:
        assert watcher.sync([str(project)]) == 1
        assert watcher.watched == 1
        (project / "notes.txt").write_text("not a log")
        with (project / "session.jsonl").open("a") as log:
            log.write('{"x": 1}\n')
        assert woken.wait(GUARD_S)
        woken.clear()
        sub = project / "subagents"
        sub.mkdir()  # a new folder: the source reads, then syncs it in
        assert woken.wait(GUARD_S)
        # one recursive watch covers the tree: the new folder needs no watch of its own
        assert watcher.sync([str(project), str(sub)]) == 0
        assert watcher.watched == 2
        woken.clear()
        (sub / "agent.jsonl").write_text('{"y": 2}\n')
        assert woken.wait(GUARD_S)
        # the project's folder no longer listed: its subfolder is watched on its own
        assert watcher.sync([str(sub)]) == 1
        assert watcher.watched == 1
        woken.clear()
        (sub / "agent.jsonl").write_text('{"y": 3}\n')
        assert woken.wait(GUARD_S)
    finally:
        watcher.stop()
    assert not watcher.active


def test_a_tree_is_one_watch_whatever_its_folders(tmp_path: Path) -> None:
    """watchdog starts a thread per watch: hundreds of project folders stay one watch."""
    root = tmp_path / "projects"
    folders = [root / f"p{i}" / "subagents" for i in range(50)]
    for folder in folders:
        folder.mkdir(parents=True)
    woken = threading.Event()
    watcher = TreeWatcher(woken.set, backend=WATCHDOG)
    assert watcher.start()
    before = threading.active_count()
    try:
        listed = [str(root), *(str(f.parent) for f in folders), *map(str, folders)]
        assert watcher.sync(listed) == 1
        assert watcher.watched == len(listed)
        assert threading.active_count() - before < 10  # one watch's few, not 101 watches'
        (folders[-1] / "agent.jsonl").write_text("{}\n")
        assert woken.wait(GUARD_S)
    finally:
        watcher.stop()


def test_without_watchdog_it_polls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An install without watchdog (Linux needs none): no watch, no error; the poll finds
    every change."""
    monkeypatch.setitem(sys.modules, "burntray.io.watch_portable", None)
    watcher = FolderWatcher(tmp_path, frozenset({"stats.json"}), lambda: None, backend=WATCHDOG)
    assert watcher.start() is False and not watcher.active
    tree = TreeWatcher(lambda: None, backend=WATCHDOG)
    assert tree.start() is False and tree.sync([str(tmp_path)]) == 0
