"""stats.json that is not a plain file of sane size: named errors, no hang, bounded memory.

A symlink to /dev/zero once grew a running tray to 21 GB and a FIFO hung ``burntray status``.
Now only regular files (after resolving symlinks) are read, opened non-blocking, and a file over
512 MiB is refused before a byte of it is read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from burntray.model.pricing import build_price_table
from burntray.sources.hexai.source import HexaiSource
from burntray.sources.hexai.writer import hexai_update

S = 10**9
GIB = 1024**3


def _poll(hexai_dir: Path) -> HexaiSource:
    source = HexaiSource(hexai_dir, build_price_table())
    done = threading.Event()

    def poll() -> None:
        source.poll()
        done.set()

    threading.Thread(target=poll, daemon=True).start()
    assert done.wait(10), "poll blocked"
    return source


def test_symlink_to_dev_zero_is_refused(hexai_dir: Path) -> None:
    (hexai_dir / "stats.json").symlink_to("/dev/zero")
    status = _poll(hexai_dir).status
    assert status.state == "error"
    assert "character device, not a regular file" in status.detail
    assert str(hexai_dir / "stats.json") in status.detail


def test_fifo_is_refused_without_hanging(hexai_dir: Path) -> None:
    os.mkfifo(hexai_dir / "stats.json")
    status = _poll(hexai_dir).status
    assert status.state == "error" and "FIFO" in status.detail


def test_sparse_2_gib_file_is_refused_unread(hexai_dir: Path) -> None:
    with open(hexai_dir / "stats.json", "wb") as fh:
        fh.truncate(2 * GIB)  # sparse: no disk used, but 2 GiB to a reader
    status = _poll(hexai_dir).status
    assert status.state == "error"
    assert "2,147,483,648 bytes, over the 536,870,912-byte limit" in status.detail


def test_last_good_numbers_stay_when_the_file_turns_unsafe(hexai_dir: Path) -> None:
    hexai_update(hexai_dir, "openai", "gpt-4.1", 400, 40)
    source = HexaiSource(hexai_dir, build_price_table())
    source.poll()
    (hexai_dir / "stats.json").unlink()
    (hexai_dir / "stats.json").symlink_to("/dev/zero")
    source.poll()
    snap = source.snapshot(3600 * S)
    assert snap.status.state == "error" and snap.status.stale
    assert snap.totals.reqs == 1


CHILD = textwrap.dedent(
    """
    import json, resource, sys
    from pathlib import Path
    from burntray.model.pricing import build_price_table
    from burntray.sources.hexai.source import HexaiSource

    limit = int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    source = HexaiSource(Path(sys.argv[1]), build_price_table())
    source.poll()
    print(json.dumps([source.status.state, source.status.detail]))
    """
)


@pytest.mark.parametrize("kind", ["dev-zero", "sparse"])
def test_under_a_memory_limit_nothing_is_read(hexai_dir: Path, kind: str) -> None:
    stats = hexai_dir / "stats.json"
    if kind == "dev-zero":
        stats.symlink_to("/dev/zero")
    else:
        with open(stats, "wb") as fh:
            fh.truncate(2 * GIB)
    # 384 MiB of address space: the interpreter and burntray fit, the 512 MiB cap does not,
    # so any attempt to read the file whole would die with MemoryError.
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(hexai_dir), str(384 * 1024 * 1024)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    state, detail = json.loads(result.stdout)
    assert state == "error"
    assert ("character device" if kind == "dev-zero" else "over the 536,870,912-byte") in detail


def test_status_on_a_fifo_exits_with_the_reason(hexai_dir: Path) -> None:
    os.mkfifo(hexai_dir / "stats.json")
    result = subprocess.run(
        [sys.executable, "-m", "burntray", "status", "--source", "hexai"],
        capture_output=True,
        text=True,
        timeout=30,  # it used to hang here forever
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert result.returncode == 1
    assert "FIFO (named pipe), not a regular file" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
