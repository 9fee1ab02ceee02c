"""Droid's warm pass (issue 24): a folder whose time says nothing was added, removed or renamed
in it is not looked into, and the resume state is kept in parts, only the changed ones read and
written - with what a session adds counted exactly as before: a session replaced as Droid
writes it (a temp file renamed over it), one written in place, a new, deleted or malformed
file, a state of the former layout, a cleared history."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

from burntray.model.pricing import build_price_table
from burntray.sources.droid.reader import DroidReader
from burntray.sources.droid.source import DroidSource
from burntray.store.history import RESUME_STATE_PREFIX, HistoryStore
from tests.agent_logs_support import droid_settings, droid_usage

AT = "2026-11-20T09:00:00.000Z"
LATER_NS = 10 * 10**9  # the reader's clock runs this far ahead: every folder has been quiet


def _write(path: Path, inp: int, *, in_place: bool = False) -> None:
    """A session's settings with ``inp`` input tokens so far, as Droid 0.225 writes them (a
    temp file beside it, renamed over it), or written in place."""
    text = droid_settings("claude-sonnet-4-5", "anthropic", AT, droid_usage(inp, 10))
    if in_place:
        path.write_text(text)
        return
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{time.time_ns()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class _Droid:
    """Droid's sessions folders and burntray's source over them, restarted at will."""

    def __init__(self, tmp: Path, folders: int = 3, sessions: int = 4) -> None:
        self.root = tmp / "sessions"
        self.history_path = tmp / "history.sqlite3"
        for f in range(folders):
            for s in range(sessions):
                (self.root / f"-p{f}").mkdir(parents=True, exist_ok=True)
                _write(self.root / f"-p{f}" / f"s{f}-{s}.settings.json", 1000)
        self.history = HistoryStore(self.history_path)
        self.source = self._source()

    def _source(self) -> DroidSource:
        reader = DroidReader([self.root], build_price_table(), lambda: time.time_ns() + LATER_NS)
        return DroidSource("droid", "Factory Droid", reader, [self.root], self.history,
                           watch=False)  # fmt: skip

    @property
    def reader(self) -> DroidReader:
        reader = self.source.store_reader
        assert isinstance(reader, DroidReader)
        return reader

    def restart(self) -> None:
        self.source.close()
        self.source = self._source()

    def poll(self) -> list[tuple[str, int]]:
        """(key, input tokens) of every record kept, after a pass."""
        self.source.poll()
        return sorted((r.key.rsplit(":", 1)[0], r.input_tokens)
                      for r in self.source.records(0, 2**62))  # fmt: skip

    def inputs(self) -> int:
        return sum(n for _k, n in self.poll())


def _meta(history: HistoryStore, where: str = "", args: tuple[str, ...] = ()) -> dict[str, str]:
    rows = history.execute(f"SELECT key, value FROM meta {where}", args)
    return {str(k): str(v) for k, v in rows}


def test_a_replaced_session_is_found_in_its_folder_alone_across_a_restart(tmp_path: Path) -> None:
    droid = _Droid(tmp_path)
    assert droid.inputs() == 12 * 1000
    assert droid.reader.files.looked_into == 4  # the root and every project folder
    droid.restart()
    assert droid.inputs() == 12 * 1000 and droid.reader.files.looked_into == 0
    assert droid.reader.files_read == 0 and droid.reader.files_seen == 12
    _write(droid.root / "-p1" / "s1-2.settings.json", 1500)
    droid.restart()
    assert droid.inputs() == 12 * 1000 + 500  # what the session added, once
    assert droid.reader.files.looked_into == 1 and droid.reader.files_read == 1
    # a new session and a deleted one: their folders' times moved
    _write(droid.root / "-p2" / "new.settings.json", 300)
    (droid.root / "-p0" / "s0-0.settings.json").unlink()
    assert droid.inputs() == 12 * 1000 + 800
    assert droid.reader.files.looked_into == 2 and droid.reader.files_seen == 12
    # a new project folder (its parent's time moved)
    (droid.root / "-p9").mkdir()
    _write(droid.root / "-p9" / "x.settings.json", 5)
    droid.restart()
    assert droid.inputs() == 12 * 1000 + 805 and droid.reader.files_seen == 13


def test_the_state_is_kept_in_parts_and_only_changed_ones_are_written(tmp_path: Path) -> None:
    droid = _Droid(tmp_path, folders=3, sessions=40)
    droid.poll()
    mine = (f"{RESUME_STATE_PREFIX}droid%",)
    keys = _meta(droid.history, "WHERE key LIKE ?", mine)
    index = keys.pop(f"{RESUME_STATE_PREFIX}droid")
    # the folders, their times, the 64 latest files: not every file's stamp (of 120)
    assert index.count(".settings.json") == 64
    assert {k.split("/", 1)[1][:2] for k in keys} == {"d:", "s:"}  # stamps per folder, totals
    droid.restart()
    _write(droid.root / "-p1" / "s1-7.settings.json", 1500)
    before = _meta(droid.history)
    droid.poll()
    after = _meta(droid.history)
    written = {k for k, v in after.items() if before.get(k) != v}
    parts = sorted(k.split("/", 1)[1].rsplit("#", 1)[0] for k in written if "droid/" in k)
    # the folder's stamps and the session's bucket of totals, beside the index
    assert written - {f"{RESUME_STATE_PREFIX}droid"} == {
        k for k in written if "droid/" in k} and len(parts) == 2  # fmt: skip
    assert parts[0] == f"d:{droid.root}/-p1" and parts[1].startswith("s:")


def test_a_file_written_in_place_is_seen_while_it_is_among_the_latest(tmp_path: Path) -> None:
    """Droid renames; a copy tool (or another Droid) may write in place, which leaves the
    folder's time alone: the files written last are looked at on every pass."""
    droid = _Droid(tmp_path)
    droid.poll()
    session = droid.root / "-p0" / "s0-1.settings.json"
    for inp in (1200, 1700):
        _write(session, inp, in_place=True)
        droid.restart()
        assert droid.inputs() == 11 * 1000 + inp
        assert droid.reader.files.looked_into == 0


def test_a_folder_written_just_before_it_was_listed_is_listed_again(tmp_path: Path) -> None:
    """A folder's time is trusted only once it was older than QUIET_NS when listed: a change in
    the same clock tick would keep it (on file systems with coarse times)."""
    droid = _Droid(tmp_path)
    now = [time.time_ns()]  # the folders were written just now
    reader = DroidReader([droid.root], build_price_table(), lambda: now[0])
    droid.source = DroidSource("droid", "Droid", reader, [droid.root], droid.history, watch=False)
    droid.poll()
    droid.restart()  # its clock is ahead: quiet now, but the index says they were not
    droid.poll()
    assert droid.reader.files.looked_into == 4


def test_malformed_and_unreadable_files_are_tried_again(tmp_path: Path) -> None:
    droid = _Droid(tmp_path)
    bad = droid.root / "-p2" / "bad.settings.json"
    bad.write_text("{not json")
    droid.poll()
    assert droid.reader.malformed_lines == 1 and "bad.settings.json" in droid.reader.first_malformed
    droid.restart()
    droid.poll()
    assert droid.reader.malformed_lines == 1  # still named, from the index
    _write(bad, 70)
    assert droid.inputs() == 12 * 1000 + 70 and droid.reader.malformed_lines == 0


def test_a_state_of_the_former_layout_is_taken_and_nothing_is_read_again(tmp_path: Path) -> None:
    droid = _Droid(tmp_path)
    stamps, sessions = {}, {}
    for path in sorted(droid.root.rglob("*.settings.json")):
        st = path.stat()
        stamps[str(path)] = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]
        sessions[path.name.removesuffix(".settings.json")] = [str(path), 5, [1000, 10, 0, 0]]
    former = json.dumps({"files": {"stamps": stamps, "skipped": {}}, "sessions": sessions})
    droid.history.set_meta(f"{RESUME_STATE_PREFIX}droid", former)
    droid.restart()
    assert droid.poll() == [] and droid.reader.files_read == 0  # all of it recorded before
    _write(droid.root / "-p1" / "s1-1.settings.json", 1100)
    assert droid.poll() == [("d:s1-1", 100)]  # what the session added since
    droid.restart()
    assert droid.poll() == [("d:s1-1", 100)] and droid.reader.files_read == 0


def test_a_cleared_history_reads_every_session_once_again(tmp_path: Path) -> None:
    droid = _Droid(tmp_path)
    droid.poll()
    _write(droid.root / "-p1" / "s1-1.settings.json", 1100)
    assert droid.inputs() == 12 * 1000 + 100
    droid.history.clear_usage()
    assert droid.history.execute("SELECT count(*) FROM meta WHERE key LIKE ?",
                                 (f"{RESUME_STATE_PREFIX}%",)) == [(0,)]  # fmt: skip
    droid.poll()  # says it re-reads
    assert droid.inputs() == 12 * 1000 + 100  # each session's totals, once
    droid.restart()
    assert droid.inputs() == 12 * 1000 + 100


def test_many_files_written_at_once_keep_only_the_latest_as_recent(tmp_path: Path) -> None:
    droid = _Droid(tmp_path, folders=1, sessions=80)
    droid.poll()
    recent = droid.reader.files.index.recent
    assert 0 < len(recent) <= 64
    assert min(v[3] for v in recent.values()) >= sorted(
        p.stat().st_mtime_ns for p in droid.root.rglob("*.settings.json"))[-64]  # fmt: skip


def test_a_day_later_nothing_is_listed(tmp_path: Path) -> None:
    droid = _Droid(tmp_path)
    droid.poll()
    day = dt.timedelta(days=1).total_seconds()
    for folder in [droid.root, *droid.root.iterdir()]:
        os.utime(folder, (time.time() - day, time.time() - day))  # listed again once, then not
    droid.restart()
    droid.poll()
    droid.restart()
    assert droid.inputs() == 12 * 1000 and droid.reader.files.looked_into == 0


def test_each_session_keeps_its_own_model_and_provider_when_names_repeat(tmp_path: Path) -> None:
    """A first scan works out a display name's model id and a (lock, model) pair's provider
    once, not once per session: sessions naming the same model under other locks, or other
    names, still get their own (the names are Droid's own forms)."""
    root = tmp_path / "sessions" / "-p"
    root.mkdir(parents=True)
    cases = [  # display name, provider lock -> provider, model id
        ("custom:Claude-Sonnet-4.5-[Anthropic]", "anthropic", "anthropic", "claude-sonnet-4.5"),
        ("custom:Claude-Sonnet-4.5-[Anthropic]", "", "anthropic", "claude-sonnet-4.5"),
        ("GPT 5 [OpenAI]", "", "openai", "gpt-5"),
        ("GPT 5 [OpenAI]", "vertex", "google", "gpt-5"),
        ("Gemini-2.5-Pro", "", "google", "gemini-2.5-pro"),
        ("", "xai", "xai", "grok-unknown"),
    ]
    for round_ in range(2):  # the second time, every name and pair was seen before
        for n, (name, lock, _provider, _model) in enumerate(cases):
            text = droid_settings(name or None, lock, AT, droid_usage(1000 + n, 10))
            (root / f"s{round_}-{n}.settings.json").write_text(text)
    reader = DroidReader([tmp_path / "sessions"], build_price_table())
    found = {r.session: (r.provider, r.model) for r in reader.read_new()}
    assert found == {
        f"s{round_}-{n}": (provider, model)
        for round_ in range(2)
        for n, (_name, _lock, provider, model) in enumerate(cases)
    }
