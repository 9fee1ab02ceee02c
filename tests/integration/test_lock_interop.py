"""burntray's reader and clear against real concurrent hexai writer processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from burntray.errors import LockTimeoutError
from burntray.model.pricing import build_price_table
from burntray.sources.hexai.source import HexaiSource, clear_stats, parse_stats

WRITERS = 4
EVENTS_PER_WRITER = 200
WRITER_SCRIPT = Path(__file__).with_name("hexai_writer_process.py")
ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    env = os.environ.copy()
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    return env


@pytest.mark.slow
def test_concurrent_writers_reads_and_clears(hexai_dir: Path, tmp_path: Path) -> None:
    # Other hexai files that a clear must never touch.
    (hexai_dir / "cli-responses").mkdir()
    (hexai_dir / "cli-responses" / "0af3.json").write_text('{"created_at":"x","output":"y"}')
    (hexai_dir / "ask").mkdir()
    (hexai_dir / "ask" / "task-aliases-v2.json").write_text("{}")
    (hexai_dir / "stats.json.tmp.4242").write_text("left by a crashed writer")
    logs = [tmp_path / f"writer-{i}.jsonl" for i in range(WRITERS)]
    writers = [
        subprocess.Popen(
            [
                sys.executable,
                str(WRITER_SCRIPT),
                str(hexai_dir),
                str(i),
                str(EVENTS_PER_WRITER),
                str(logs[i]),
            ],
            env=_env(),
        )
        for i in range(WRITERS)
    ]
    source = HexaiSource(hexai_dir, build_price_table())
    bad_reads: list[str] = []
    reads = 0
    done = threading.Event()

    def read_continuously() -> None:
        nonlocal reads
        while not done.is_set():
            source.poll()
            if source.status.state not in ("ok", "empty"):
                bad_reads.append(source.status.detail)
            reads += 1

    reader = threading.Thread(target=read_continuously)
    reader.start()
    clears: list[tuple[float, float]] = []
    try:
        for _ in range(3):
            deadline = time.monotonic() + 30
            while (
                time.monotonic() < deadline
                and sum(1 for log in logs if log.exists() for _ in log.open())
                < (len(clears) + 1) * WRITERS * EVENTS_PER_WRITER // 4
            ):
                time.sleep(0.01)
            started = time.monotonic()
            clear_stats(hexai_dir)
            clears.append((started, time.monotonic()))
        for proc in writers:
            assert proc.wait(timeout=60) == 0
    finally:
        done.set()
        reader.join(10)
        for proc in writers:
            proc.kill()
    assert not bad_reads, bad_reads[:3]
    assert reads > 50
    records = [json.loads(line) for log in logs for line in log.read_text().splitlines()]
    assert len(records) == WRITERS * EVENTS_PER_WRITER
    last_start, last_end = clears[-1]
    in_file = {ev.sent for ev in parse_stats((hexai_dir / "stats.json").read_bytes()).events()}
    after = {r["writer"] * 100_000 + r["seq"] for r in records if r["acquired"] > last_end}
    before = {r["writer"] * 100_000 + r["seq"] for r in records if r["acquired"] < last_start}
    assert after, "the writers should still be writing after the last clear"
    assert after <= in_file  # every event written after the last clear is there
    assert not (before & in_file)  # and nothing from before it
    source.poll()
    assert source.snapshot(3600 * 10**9).totals.reqs == len(in_file)
    assert (
        hexai_dir / "cli-responses" / "0af3.json"
    ).read_text() == '{"created_at":"x","output":"y"}'
    assert (hexai_dir / "ask" / "task-aliases-v2.json").read_text() == "{}"
    assert (hexai_dir / "stats.json.tmp.4242").read_text() == "left by a crashed writer"


HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(120)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="flock holder script is POSIX")
def test_clear_gives_up_on_a_stuck_writer(hexai_dir: Path) -> None:
    stats = hexai_dir / "stats.json"
    stats.write_text('{"version":1,"window_seconds":3600,"events":[]}\n')
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(hexai_dir / "stats.lock")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        # the command line and the function wait out the same 2 s side by side, not one after
        # the other
        cli = subprocess.Popen(
            [sys.executable, "-m", "burntray", "clear-cache", "--hexai", "--yes"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
            stdin=subprocess.DEVNULL,
        )
        try:
            with pytest.raises(LockTimeoutError, match=r"held .*stats\.lock for over 2 s"):
                clear_stats(hexai_dir)  # gives up: the holder never lets go
            _out, err = cli.communicate(timeout=60)  # a hang guard: the lock's own 2 s end it
        finally:
            if cli.poll() is None:
                cli.kill()
                cli.wait()
        assert cli.returncode == 1
        assert "nothing was changed" in err
        assert stats.read_text() == '{"version":1,"window_seconds":3600,"events":[]}\n'
    finally:
        holder.kill()
        holder.wait()
