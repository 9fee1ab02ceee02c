"""Bounded reads refuse what could exhaust memory or hang a thread, and name why."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from burntray.io.bounded_read import (
    UnsafeFileError,
    check_regular_file,
    open_regular_file,
    read_regular_file,
)


def test_reads_a_regular_file_through_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "data.json"
    target.write_bytes(b'{"a": 1}')
    link = tmp_path / "link.json"
    link.symlink_to(target)
    assert read_regular_file(link) == b'{"a": 1}'


def test_dev_zero_behind_a_symlink_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "stats.json"
    link.symlink_to("/dev/zero")
    with pytest.raises(UnsafeFileError, match="character device, not a regular file"):
        read_regular_file(link)


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "stats.json"
    os.mkfifo(fifo)
    outcome: list[str] = []

    def read() -> None:
        try:
            read_regular_file(fifo)
        except UnsafeFileError as exc:
            outcome.append(str(exc))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), "reading a FIFO blocked"
    assert outcome and "FIFO" in outcome[0]


def test_file_over_the_cap_is_refused_before_reading(tmp_path: Path) -> None:
    sparse = tmp_path / "huge.json"
    with open(sparse, "wb") as fh:
        fh.truncate(2 * 1024**3)  # 2 GiB, sparse: costs no disk
    with pytest.raises(UnsafeFileError, match="over the 1,048,576-byte limit"):
        read_regular_file(sparse, max_bytes=1024 * 1024)
    with pytest.raises(UnsafeFileError, match="2,147,483,648 bytes"):
        read_regular_file(sparse)  # the default 512 MiB cap


def test_directory_missing_and_unreadable_are_named(tmp_path: Path) -> None:
    with pytest.raises(UnsafeFileError, match="directory") as dir_exc:
        read_regular_file(tmp_path)
    assert not dir_exc.value.missing
    with pytest.raises(UnsafeFileError, match="does not exist") as missing:
        read_regular_file(tmp_path / "absent")
    assert missing.value.missing
    with pytest.raises(UnsafeFileError, match="directory"):
        check_regular_file(tmp_path)


def test_open_without_cap_for_logs_read_incrementally(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_bytes(b"line\n")
    with open_regular_file(log, max_bytes=None) as fh:
        assert fh.read() == b"line\n"


def test_a_file_is_read_whole_past_one_read_and_past_the_size_it_gave(tmp_path: Path) -> None:
    """A file is read in one read when it is the size ``fstat`` gave; one over a read's size
    is read on to its end, and so is one that holds more than its size said (as /proc's
    files, 0 bytes by ``fstat``)."""
    big = tmp_path / "big.json"
    data = bytes(range(256)) * (9 * 4096 + 7)  # ~9 MiB: more than one read
    big.write_bytes(data)
    assert read_regular_file(big) == data
    small = tmp_path / "small.json"
    small.write_bytes(b"{}")
    assert read_regular_file(small) == b"{}"
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    assert read_regular_file(empty) == b""
    status = Path("/proc/self/status")
    if status.exists():  # Linux
        assert os.stat(status).st_size == 0
        assert b"\nPid:" in read_regular_file(status)
