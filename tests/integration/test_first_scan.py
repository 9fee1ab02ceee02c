"""The first scan of Claude Code logs read by several processes (issue 22): the records are those
of the serial scan, duplicates across files, forks and a file appended while read included;
spawned processes (the start method of macOS and Windows); batches written to the history as it
goes; progress told while it reads."""

from __future__ import annotations

import json
import os
import pty
import select
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from burntray.model.pricing import build_price_table
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.parallel import OrderedFiles, worker_count
from burntray.sources.agent_logs.source import ClaudeSource
from burntray.sources.base import ReportsProgress, scan_progress
from burntray.sources.claude import logs as claude_logs
from burntray.sources.claude import scan_worker
from burntray.sources.claude.dedup import Dedup
from burntray.sources.claude.logs import ClaudeLogReader
from burntray.sources.codex.logs import CodexLogReader
from burntray.sources.codex.source import codex_source
from burntray.store.history import HistoryStore
from tests.agent_logs_support import (
    claude_line,
    generate_heavy_week,
    write_claude_fixture,
    write_codex_fixture,
)

SONNET = "claude-sonnet-4-5-20250929"
OPUS = "claude-opus-4-1-20250805"
FAST = "claude-opus-4-8"  # a model with a price for "fast" requests
PRICES = build_price_table()


def _lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fh.write("".join(line + "\n" for line in lines))


def _stamp(minute: int) -> str:
    return f"2026-11-2{1 + minute // 1440}T{minute // 60 % 24:02d}:{minute % 60:02d}:00.000Z"


def write_tricky_logs(config: Path) -> Path:
    """The shared fixture (streaming duplicates, a sidechain replay in a subagent file, lines
    without message ids, malformed lines) plus a dozen sessions where requests repeat across
    files: forks that copy their parent's lines (some with a larger final write), a fork whose
    copy is a sidechain, and a request first seen as a sidechain, then as the parent's line.
    Returns the file appended to while read."""
    write_claude_fixture(config)
    projects = config / "projects" / "-work-forks"
    parent = [
        claude_line(_stamp(n), f"fm{n}", f"fr{n}", SONNET if n % 2 else OPUS, n, 10 * n, 5, 7,
                    branch=f"feature-{n % 3}")
        for n in range(40)
    ]  # fmt: skip
    _lines(projects / "a-parent.jsonl", parent)
    for k in range(10):
        fork = parent[: 20 + k]  # the fork copies its parent's history, then goes on
        fork += [
            # the last copied request, written again larger (a longer stream in the fork)
            claude_line(_stamp(19 + k), f"fm{19 + k}", f"fr{19 + k}", SONNET, 19, 999 + k, 5, 7),
            claude_line(_stamp(100 + k), f"new{k}", f"nr{k}", SONNET, 1, 2, 3, 4),
            # a replay of the parent's first request under another request id, as a sidechain
            claude_line(_stamp(0), "fm0", f"replay{k}", OPUS, 0, 0, 0, 90_000, sidechain=True),
        ]
        _lines(projects / f"b-fork-{k:02d}.jsonl", fork)
    # which line comes first names the request: a sidechain's line seen before the parent's
    # (across two files, and within one) keeps the sidechain's request id as the key
    _lines(
        projects / "c-side.jsonl",
        [claude_line(_stamp(300), "sx", "side-r", SONNET, 1, 1, sidechain=True)],
    )
    _lines(projects / "d-main.jsonl", [claude_line(_stamp(300), "sx", "sr", SONNET, 1, 2)])
    _lines(
        projects / "e-order.jsonl",
        [
            claude_line(_stamp(400), "oa", "r-side", SONNET, 3, 3, sidechain=True),
            claude_line(_stamp(400), "oa", "r-main", SONNET, 3, 4),
        ],
    )
    # after all the above (in time and in file order): a request, then lines for requests
    # long past - a parent line whose sidechain came first, a larger rewrite of a request whose
    # surviving line has another request id than its key, an equal rewrite of a "fast" request
    # that states another speed (it must not replace it), a fork of the first request
    _lines(projects / "c2-speed.jsonl", [_speed(claude_line(_stamp(310), "sp", "spr", FAST, 4, 4),
                                                "fast")])  # fmt: skip
    _lines(projects / "g-later.jsonl", [claude_line(_stamp(1000), "g", "gr", SONNET, 1, 1)])
    _lines(
        projects / "h-after.jsonl",
        [
            claude_line(_stamp(300), "sx", "sr", SONNET, 1, 5),
            claude_line(_stamp(400), "oa", "r-main", SONNET, 3, 9),
            _speed(claude_line(_stamp(310), "sp", "spr", FAST, 4, 4), "standard"),
            claude_line(_stamp(1), "fm1", "fr1", OPUS, 1, 10, 5, 7),
        ],
    )
    return projects / "b-fork-03.jsonl"


def _speed(line: str, speed: str) -> str:
    doc = json.loads(line)
    doc["message"]["usage"]["speed"] = speed
    return json.dumps(doc, separators=(",", ":"))


def _read(reader: ClaudeLogReader, flush_log: list[list[UsageRecord]] | None = None) -> dict:
    """Every record the reader hands on, flushed batches included, the last word per key."""
    batches: list[list[UsageRecord]] = []
    rest = reader.read_new(flush=batches.append)
    if flush_log is not None:
        flush_log.extend(batches)
    out: dict[str, UsageRecord] = {}
    for record in [r for batch in batches for r in batch] + rest:
        out[record.key] = record
    return out


def _parallel(config: Path, **kwargs: object) -> ClaudeLogReader:
    options = {"workers": 2, "parallel_min_bytes": 0, "start_method": "spawn", **kwargs}
    return ClaudeLogReader([config], PRICES, **options)  # type: ignore[arg-type]


@pytest.fixture
def parse_calls_here(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many lines this process parsed itself (the reading processes' are not counted):
    through a reading process's row reader or the reader's own line handler."""
    calls: list[int] = []

    def counting(real: Callable[..., Callable[[bytes, int], None]]) -> Callable[..., Any]:
        def make(*args: Any) -> Callable[[bytes, int], None]:
            on_line = real(*args)

            def count(line: bytes, offset: int) -> None:
                calls.append(1)
                on_line(line, offset)

            return count

        return make

    monkeypatch.setattr(scan_worker, "row_reader", counting(scan_worker.row_reader))
    monkeypatch.setattr(claude_logs, "line_keeper", counting(claude_logs.line_keeper))
    return calls


@pytest.mark.parametrize("workers", [1, 2])
def test_a_parallel_first_scan_hands_on_exactly_the_serial_scans_records(
    tmp_path: Path, parse_calls_here: list[int], workers: int
) -> None:
    config = tmp_path / "claude"
    write_tricky_logs(config)
    serial = ClaudeLogReader([config], PRICES, workers=0)
    expected = _read(serial)
    serial_parsed = len(parse_calls_here)
    parse_calls_here.clear()
    parallel = _parallel(config, workers=workers)
    got = _read(parallel)
    assert parallel.parallel_problem == ""
    assert parse_calls_here == []  # every line was parsed by the spawned processes
    assert serial_parsed > 300
    assert got == expected
    # the forks' copies count once, the larger fork write wins, a replay joins its request
    # (the parent's line, not the sidechain's, stands for it)
    assert len(got) == len(expected) == 11 + 40 + 10 + 4
    assert got["m:fm28:fr28"].output_tokens == 1008
    assert "m:fm0:replay0" not in got and got["m:fm0:fr0"].cache_read_tokens == 7
    assert got["m:sx:side-r"].output_tokens == 5 and got["m:oa:r-side"].output_tokens == 9
    assert got["m:fm2:fr2"].branch == "feature-2"  # the git branch crosses the processes too
    # what the next pass needs is the same too: offsets, skipped lines, duplicate groups
    assert parallel.save_state() == serial.save_state()
    assert parallel.malformed_lines == serial.malformed_lines == 1
    assert len(parallel.dedup) == len(serial.dedup)
    assert parallel.read_new() == serial.read_new() == []


def test_the_reader_takes_what_the_processes_worked_out_and_keeps_one_string_per_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader's share of a parallel scan (the part that must see every request in order)
    is only duplicate removal on the fields a reading process sends and the record: no entry
    is priced or rebuilt here. A batch's records share one string per model."""
    config = tmp_path / "claude"
    write_tricky_logs(config)
    calls: list[str] = []
    real_add, real_cost = Dedup.add, claude_logs.entry_cost
    monkeypatch.setattr(Dedup, "add", lambda *a: calls.append("add") or real_add(*a))
    monkeypatch.setattr(claude_logs, "entry_cost", lambda *a: calls.append("cost") or real_cost(*a))
    # a line read here prices through scan_worker.checked_row (the reading processes' own
    # copies are in other interpreters: only this process's calls are counted)
    monkeypatch.setattr(scan_worker, "entry_cost", lambda *a: calls.append("cost") or real_cost(*a))
    got = _read(_parallel(config))
    assert calls == []
    assert len(got) == 65
    models = {r.model for r in got.values()}
    assert len(models) >= 3 and len({id(r.model) for r in got.values()}) == len(models)
    serial = _read(ClaudeLogReader([config], PRICES, workers=0))
    assert len({id(r.model) for r in serial.values()}) == len(models)  # the same read here
    assert serial == got


def test_a_file_appended_while_read_ends_as_the_serial_scan_of_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "claude"
    appended = write_tricky_logs(config)
    monkeypatch.setattr(claude_logs, "FLUSH_RECORDS", 1)  # a batch after every file
    added = [
        # the fork's newest request streamed on (larger), and a request after it
        claude_line(_stamp(103), "new3", "nr3", SONNET, 1, 2000, 3, 4),
        claude_line(_stamp(500), "late", "lr", SONNET, 5, 6),
    ]
    reader = _parallel(config)
    real = reader.read_new

    def read_appending(*args: object, flush: object = None) -> list[UsageRecord]:
        def flush_and_append(records: list[UsageRecord]) -> None:
            if added:  # while the processes read the rest, the session goes on
                _lines(appended, [added.pop(0), added.pop(0)])
            flush(records)  # type: ignore[operator]

        return real(*args, flush=flush_and_append)  # type: ignore[arg-type]

    monkeypatch.setattr(reader, "read_new", read_appending)
    got = _read(reader)
    monkeypatch.undo()
    got.update(_read(reader))  # the next pass reads what was appended
    expected = _read(ClaudeLogReader([config], PRICES, workers=0))
    assert got == expected
    assert expected["m:new3:nr3"].output_tokens == 2000 and "m:late:lr" in expected


def test_a_scan_whose_processes_cannot_start_is_read_here_and_says_why(
    tmp_path: Path, parse_calls_here: list[int]
) -> None:
    config = tmp_path / "claude"
    write_tricky_logs(config)
    reader = _parallel(config, start_method="no-such-method")
    got = _read(reader)
    assert "cannot start 2 reading processes" in reader.parallel_problem
    assert parse_calls_here  # read here instead
    assert got == _read(ClaudeLogReader([config], PRICES, workers=0))


def _rows(db: Path) -> list[tuple[object, ...]]:
    """The records (tagged "event"), then the minute rollup (tagged "minute")."""
    with sqlite3.connect(db) as conn:
        events = conn.execute("SELECT * FROM usage_events ORDER BY source, key").fetchall()
        minutes = conn.execute("SELECT * FROM usage_minutes ORDER BY 1, 2, 3, 4").fetchall()
    return [("event", *row) for row in events] + [("minute", *row) for row in minutes]


def test_the_history_is_written_in_batches_and_ends_as_the_serial_scans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "claude"
    write_tricky_logs(config)
    monkeypatch.setattr(claude_logs, "FLUSH_RECORDS", 20)
    histories = {}
    for name, reader in (("serial", ClaudeLogReader([config], PRICES, workers=0)),
                         ("parallel", _parallel(config))):  # fmt: skip
        history = HistoryStore(tmp_path / f"{name}.sqlite3")
        commits: list[int] = []
        monkeypatch.setattr(history, "transaction", _counting(history.transaction, commits))
        source = ClaudeSource(reader, [config], history, watch=False)
        source.write_process = False  # the batches' commits are counted on this store
        assert source.poll()
        assert source.status.state == "ok"
        assert len(commits) >= 3  # batches on the way, then the rest with the offsets
        source.close()
        history.close()
        histories[name] = _rows(tmp_path / f"{name}.sqlite3")
    assert histories["parallel"] == histories["serial"]
    assert len(histories["serial"]) > 62


@pytest.mark.parametrize("workers", [0, 2])
def test_after_its_first_batch_a_long_read_hands_on_smaller_ones_with_the_same_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """What is left to write when reading ends is a small batch, not a large one; a read too
    short for a batch still hands on nothing before its end."""
    config = tmp_path / "claude"
    write_tricky_logs(config)
    whole = _read(ClaudeLogReader([config], PRICES, workers=0))
    monkeypatch.setattr(claude_logs, "FLUSH_RECORDS", 20)
    monkeypatch.setattr(claude_logs, "LATER_FLUSH_RECORDS", 5)
    batches: list[list[UsageRecord]] = []
    reader = ClaudeLogReader([config], PRICES, workers=workers, parallel_min_bytes=0)
    assert _read(reader, batches) == whole
    # the first file's batches are of 20 (its Place is made before any batch), the later
    # files' of 5: the read ends with small ones
    sizes = [len(batch) for batch in batches]
    assert sizes[0] == 20 and sizes[-3:] == [5, 5, 5], sizes
    monkeypatch.setattr(claude_logs, "FLUSH_RECORDS", len(whole) + 1)
    batches.clear()
    assert _read(ClaudeLogReader([config], PRICES, workers=workers), batches) == whole
    assert batches == []


@pytest.mark.parametrize("workers", [0, 2])
def test_a_large_file_goes_in_batches_and_a_scan_cut_within_it_resumes_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """Memory holds a batch, not a large file's records: a file is handed on in batches as it
    is taken (by this process or a reading process's rows). The offsets written with a batch
    within a file do not say it was read, so a scan cut short there reads it again and the
    history ends exactly as after one whole scan."""
    config = tmp_path / "claude"
    write_tricky_logs(config)
    whole = HistoryStore(tmp_path / "whole.sqlite3")
    source = ClaudeSource(ClaudeLogReader([config], PRICES, workers=0), [config], whole,
                          watch=False)  # fmt: skip
    source.poll()
    source.close()
    whole.close()
    monkeypatch.setattr(claude_logs, "FLUSH_RECORDS", 7)
    history = HistoryStore(tmp_path / "cut.sqlite3")
    reader = _parallel(config, workers=workers)
    batches: list[tuple[int, list[str]]] = []
    real = reader.read_new

    def read_cut_short(*args: object, flush: object = None) -> list[UsageRecord]:
        def flush_then_cut(records: list[UsageRecord]) -> None:
            if len(batches) == 2:
                raise RuntimeError("cut short")  # the machine went down mid-scan
            batches.append((len(records), [Path(p).name for p in json.loads(reader.save_state())]))
            flush(records)  # type: ignore[operator]

        return real(*args, flush=flush_then_cut)  # type: ignore[arg-type]

    monkeypatch.setattr(reader, "read_new", read_cut_short)
    source = ClaudeSource(reader, [config], history, watch=False)
    source.poll()
    assert source.status.state == "error"
    source.close()
    # both batches were cut from the parent's 40 requests, and neither claims it read
    assert [size for size, _files in batches] == [7, 7]
    assert all("a-parent.jsonl" not in files for _size, files in batches)
    monkeypatch.undo()
    source = ClaudeSource(_parallel(config, workers=workers), [config], history, watch=False)
    source.poll()
    assert source.status.state == "ok"
    source.close()
    history.close()
    assert _rows(tmp_path / "cut.sqlite3") == _rows(tmp_path / "whole.sqlite3")


def test_a_long_read_spills_old_duplicate_groups_and_rebuilds_them_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a group per request of the whole history spilled as soon as it is a minute older
    than the newest request read, the history ends exactly as when nothing was spilled."""
    config = tmp_path / "claude"
    write_tricky_logs(config)
    monkeypatch.setattr(claude_logs, "FLUSH_RECORDS", 1)
    rows = {}
    for name, spill_at, keep_ns in (("kept", 10**9, claude_logs.SPILL_KEEP_NS),
                                    ("spilled", 0, 60 * 10**9)):  # fmt: skip
        monkeypatch.setattr(claude_logs, "SPILL_AT_GROUPS", spill_at)
        monkeypatch.setattr(claude_logs, "SPILL_KEEP_NS", keep_ns)
        history = HistoryStore(tmp_path / f"{name}.sqlite3")
        reader = _parallel(config)
        source = ClaudeSource(reader, [config], history, watch=False)
        source.poll()
        if name == "spilled":
            assert len(reader.dedup) <= 5  # the groups of the last minute or so, no more
        source.close()
        history.close()
        rows[name] = _rows(tmp_path / f"{name}.sqlite3")
    assert rows["spilled"] == rows["kept"]
    keys = {row[2] for row in rows["kept"] if row[0] == "event"}
    # a parent line after its sidechain counts once, under the sidechain's key; a rewrite of
    # a request whose surviving line has another request id joins it
    assert {"m:sx:side-r", "m:oa:r-side"} <= keys and not {"m:sx:sr", "m:oa:r-main"} & keys


def _counting(transaction, commits: list[int]):  # type: ignore[no-untyped-def]
    def counted():  # type: ignore[no-untyped-def]
        commits.append(1)
        return transaction()

    return counted


def test_a_long_read_reports_its_progress_while_it_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "claude"
    write_tricky_logs(config)
    monkeypatch.setattr(claude_logs, "FLUSH_RECORDS", 1)
    reader = _parallel(config)
    reader.progress.min_bytes = 0  # the fixture is small: report it anyway
    source = ClaudeSource(reader, [config], None, watch=False)
    assert isinstance(source, ReportsProgress)
    assert scan_progress(source) == ()
    seen = []
    real = reader.read_new

    def read_watching(*args: object, flush: object = None) -> list[UsageRecord]:
        def flush_and_look(records: list[UsageRecord]) -> None:
            seen.extend(scan_progress(source))
            flush(records)  # type: ignore[operator]

        return real(*args, flush=flush_and_look)  # type: ignore[arg-type]

    monkeypatch.setattr(reader, "read_new", read_watching)
    source.poll()
    total = sum(f.stat().st_size for f in (config / "projects").rglob("*.jsonl"))
    assert seen and {p.total_bytes for p in seen} == {total}
    assert {p.label for p in seen} == {"Claude Code logs"}
    done = [p.done_bytes for p in seen]
    # batches come within files too (the first within the first file): bytes done only rise
    assert done == sorted(done) and done[0] < total and 0 < done[-1] <= total
    assert scan_progress(source) == ()  # over: nothing to report


def test_codex_first_read_reports_its_progress_file_by_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Codex's first scan says how far it has got as Claude Code's does: bytes done of the
    bytes of the files it has to read (the archived copy that sessions/ wins over is not
    among them), rising file by file, and nothing once it is over or on an unchanged pass."""
    home = tmp_path / "codex"
    files = write_codex_fixture(home)
    reader = CodexLogReader([home], PRICES)
    reader.progress.min_bytes = 0  # the fixture is small: report it anyway
    source = codex_source([home], PRICES, None, watch=False)
    source.reader = reader
    assert isinstance(source, ReportsProgress)
    seen = []
    real = reader._read_file

    def read_watching(path: Path, *args: object) -> None:
        seen.extend(scan_progress(source))
        real(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(reader, "_read_file", read_watching)
    source.poll()
    total = files["session"].stat().st_size + files["archived_only"].stat().st_size
    assert len(seen) == 2 and {p.total_bytes for p in seen} == {total}
    assert {p.label for p in seen} == {"Codex logs"}
    assert [p.done_bytes for p in seen] == [0, files["session"].stat().st_size] or [
        p.done_bytes for p in seen
    ] == [0, files["archived_only"].stat().st_size]
    assert scan_progress(source) == ()
    seen.clear()
    source.poll()  # nothing new: no file to read, nothing to report
    assert seen == [] and scan_progress(source) == ()


@pytest.mark.slow
def test_status_on_a_terminal_says_how_far_the_first_scan_has_got(tmp_path: Path) -> None:
    """A real ``status`` whose stderr is a terminal (a pty) over 48 MB of logs: the progress
    line shows there while it reads, and stdout is the JSON document alone."""
    config = tmp_path / "claude"
    # dense requests (80,000 in about 50 MB): a read of a second or two, so the line has many
    # redraws to show in; 48 MB of mostly tool output was read in 0.2 s and the line was
    # sometimes never drawn
    generate_heavy_week(config, requests=80_000, total_bytes=24 * 1024 * 1024)
    master, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "burntray", "status", "--source", "claude", "--window", "7d",
         "--format", "json"],
        stdout=subprocess.PIPE, stderr=child, stdin=subprocess.DEVNULL,
        env={**os.environ, "CLAUDE_CONFIG_DIR": str(config)},
    )  # fmt: skip
    os.close(child)
    seen = b""
    deadline = time.monotonic() + 120
    try:
        while b"% (" not in seen or b" of " not in seen.split(b"reading")[-1]:
            assert time.monotonic() < deadline, f"no progress line on the terminal: {seen!r}"
            ready, _w, _x = select.select([master], [], [], 1.0)
            if ready:
                try:
                    seen += os.read(master, 4096)
                except OSError:  # the terminal closed: the process is gone
                    break
        out, _err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert b"\rreading Claude Code logs: " in seen
    assert b" MB)" in seen  # bytes done of bytes to read
    assert proc.returncode == 0
    doc = json.loads(out)  # nothing but the document on stdout
    assert doc["totals"]["reqs"] > 1000 and b"reading" not in out


def test_a_frozen_burntray_hands_its_spawned_reading_processes_to_multiprocessing() -> None:
    """A frozen build is its own Python: a spawned reading process starts as the executable
    with ``--multiprocessing-fork``, and ``__main__`` must let multiprocessing run it (what
    PyInstaller's ``freeze_support`` does) before the command line sees those arguments."""
    probe = (
        "import multiprocessing, runpy, sys\n"
        "calls = []\n"
        "multiprocessing.freeze_support = lambda: calls.append(sys.argv[1:])\n"
        "sys.frozen = {frozen}\n"
        "sys.argv = ['burntray', '--version']\n"
        "try:\n"
        "    runpy.run_module('burntray', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('calls', calls)\n"
    )
    for frozen, expected in ((True, "calls [['--version']]"), (False, "calls []")):
        done = subprocess.run(
            [sys.executable, "-c", probe.format(frozen=frozen)],
            capture_output=True, text=True, timeout=60, check=True, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert done.stdout.strip().splitlines()[-1] == expected


def test_ordered_files_yields_in_order_and_hands_back_what_a_failed_process_could_not_read(
    tmp_path: Path,
) -> None:
    paths = []
    for n in range(7):
        path = tmp_path / f"f{n}"
        path.write_bytes(b"x" * (n * 1000 + (7 - n) * 10_000))  # the first ones the largest
        paths.append(str(path))
    # one core is this process's (duplicate removal, the history write)
    assert worker_count(7, cpus=2, load=0.3) == 1 and worker_count(2, cpus=8, load=0) == 2
    assert worker_count(1, cpus=8, load=0) == 0  # one file is read here, its result not sent
    assert worker_count(7, cpus=4, load=0.3) == 3 and worker_count(7, cpus=1, load=0) == 0
    assert worker_count(30, cpus=64, load=1.0) == 4
    # with the history's writing process taking a core too
    assert worker_count(7, cpus=2, load=0.3, kept_cores=2) == 0
    assert worker_count(7, cpus=4, load=0.3, kept_cores=2) == 2
    # a machine with no core to spare reads in one process
    assert worker_count(7, cpus=2, load=1.6) == 0 and worker_count(7, cpus=8, load=9.0) == 0
    with OrderedFiles(paths, os.path.getsize, workers=2) as pool:
        got = list(pool.results())
    assert got == [(p, os.path.getsize(p)) for p in paths] and pool.problem == ""
    broken = [*paths[:2], str(tmp_path / "gone"), *paths[2:]]
    with OrderedFiles(broken, os.path.getsize, workers=2) as pool:
        got = list(pool.results())
    assert [p for p, _r in got] == broken  # every path, in order
    assert got[:2] == [(p, os.path.getsize(p)) for p in paths[:2]]
    assert got[2] == (broken[2], None)  # the caller reads it itself, and those not read yet
    assert all(result in (None, os.path.getsize(p)) for p, result in got[3:])
    assert "a reading process failed on" in pool.problem and "gone" in pool.problem


def test_a_reading_process_has_its_next_file_queued_while_the_last_one_is_taken(
    tmp_path: Path,
) -> None:
    """While this process takes a file's result (or waits to write it), the reading process
    goes on with the next file, and the one after is queued for it: one file more in flight
    than processes, never more."""
    paths = [str(tmp_path / f"d{n}") for n in range(5)]
    with OrderedFiles(paths, os.mkdir, workers=1) as pool:  # a file "read" makes its folder
        results = pool.results()
        next(results)
        deadline = time.monotonic() + 60
        while not os.path.isdir(paths[2]):  # read ahead without being asked
            assert time.monotonic() < deadline, "the next files were not queued"
            time.sleep(0.01)
        assert not os.path.isdir(paths[4])  # bounded: the rest waits to be asked for
        assert [path for path, _result in results] == paths[1:]
    assert all(os.path.isdir(p) for p in paths)


def test_what_the_reading_processes_find_is_spooled_and_read_here_when_its_spool_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reading process writes what it finds to a private spool file as it goes (neither
    process holds a file's results whole); the reader reads it back and removes it, and the
    folder too. A spool file gone before it is read costs nothing but reading that file here."""
    config = tmp_path / "claude"
    write_tricky_logs(config)
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    real = scan_worker.open_pieces
    held: list[object] = []
    monkeypatch.setattr(scan_worker, "open_pieces", lambda h: held.append(h) or real(h))
    serial = ClaudeLogReader([config], PRICES, workers=0)
    expected = _read(serial)
    got = _read(_parallel(config))
    assert len(held) > 10 and all(isinstance(h, tuple) for h in held)  # spooled, not sent
    assert got == expected and list(temp.iterdir()) == []

    def vanishing(h: scan_worker.Pieces) -> object:
        if isinstance(h, tuple) and not gone:
            gone.append(h[0])
            os.unlink(h[0])
        return real(h)

    gone: list[str] = []
    monkeypatch.setattr(scan_worker, "open_pieces", vanishing)
    reader = _parallel(config)
    assert _read(reader) == expected and len(gone) == 1
    assert reader.save_state() == serial.save_state() and list(temp.iterdir()) == []

    # no spool folder to be had: what the processes find crosses back in memory instead
    def no_folder(*_args: object, **_kwargs: object) -> str:
        raise OSError(28, "No space left on device")

    held.clear()
    monkeypatch.setattr(scan_worker, "open_pieces", lambda h: held.append(h) or real(h))
    monkeypatch.setattr(tempfile, "mkdtemp", no_folder)
    reader = _parallel(config)
    assert _read(reader) == expected and reader.parallel_problem == ""
    assert len(held) > 10 and all(isinstance(h, list) for h in held)
