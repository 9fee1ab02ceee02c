"""The history survives a kill -9 in the middle of a stream of writes while the background
checkpointer copies and truncates its WAL: every commit the writer reported is there, in order,
and the database checks out.

A real writer process (``HistoryStore`` with its checkpointer, small bounds so that the
thread's checkpoints, the writer's own truncations and WAL resets all happen during the run)
reports each commit on stdout; the test kills it with SIGKILL part-way and opens the file again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from burntray.store.history import HistoryStore
from tests.processes import read_line

WRITER = """
import sys
from pathlib import Path
from burntray.store.history import HistoryStore

store = HistoryStore(Path(sys.argv[1]))
store.start_checkpointer(tick_s=0.01, idle_s=0.05, wal_hard_bytes=64 * 1024)
i = 0
while True:
    with store.transaction() as conn:  # two rows per commit: both or neither
        conn.execute("INSERT INTO meta VALUES (?, ?)", (f"a{i:06d}", "x" * 3000))
        conn.execute("INSERT INTO meta VALUES (?, ?)", (f"b{i:06d}", "y" * 3000))
    print(i, flush=True)
    i += 1
"""

COMMITS = 1500  # ~9 MB through a WAL bounded at 128 kB


def test_a_kill_mid_stream_loses_no_reported_commit(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=dict(os.environ),
    )
    last = -1
    try:
        while last < COMMITS:
            line = read_line(proc.stdout, 20, f"commit {last + 1} of the writer")  # type: ignore[arg-type]
            assert line, proc.stderr.read() if proc.stderr else "the writer ended"
            last = int(line)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL

    store = HistoryStore(db)  # SQLite recovers the WAL the killed writer left
    try:
        assert store.execute("PRAGMA integrity_check") == [("ok",)]
        keys = [str(k) for (k,) in store.execute("SELECT key FROM meta WHERE key LIKE 'a%'")]
        b_keys = store.execute("SELECT count(*) FROM meta WHERE key LIKE 'b%'")
        done = len(keys)
        # every reported commit is there (and maybe the one after, not yet reported), whole
        assert done >= last + 1
        assert sorted(keys) == [f"a{i:06d}" for i in range(done)]
        assert b_keys == [(done,)]
        store.set_meta("after", "1")  # and it takes writes again
    finally:
        store.close()
