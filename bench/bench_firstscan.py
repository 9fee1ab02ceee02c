"""The first scan of a heavy week of Claude Code logs (issue 22), beside the real ccusage.

The data is a heavy user's week as the issue measured it: ~150 MB of logs, 240,000 requests in
the last 7 days over six busy sessions (one assistant line per request, some streaming
duplicates, user lines with tool results between them). On it, in one run:

- ``burntray status --source claude --window 7d --format json`` on an empty history (the cold
  first scan, whole process: reading, the history write and the answer);
- the scan alone (reading the logs and writing the history, no answer), in its own process:
  as burntray runs it (a writing process on 2 cores or more, reading processes when cores are
  free), as it runs on an idle machine whatever the load (a writing process, and one reading
  process per core but two: none on 2 cores), and in one process (the history written on a
  thread);
- ``ccusage claude daily --json --offline`` (20.0.24, native binary) on the same files;
- the peak RSS of each: the largest single process (``wait4``) and, for burntray, the whole
  process tree (its parsing workers too) sampled every 10 ms.

ccusage is installed under .venv/ with npm when it is missing; without npm its rows say so.
BURNTRAY_BENCH_FIRSTSCAN_MB and BURNTRAY_BENCH_FIRSTSCAN_REQS lower the size for a quick look;
BURNTRAY_BENCH_FIRSTSCAN_DATA names a folder where the week is generated once and read again by
later runs (its times are then those of the day it was made: the figures do not depend on them).

The reading alone (no history write: what duplicate removal keeps is dropped, as if written)
is measured too, in one process and with one and two reading processes (its CPU split between
this process and them): the part of the scan the reader owns, apart from the history write's.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.agent_logs_support import ccusage_binary, claude_line, user_line  # noqa: E402

from bench_core import compile_bytecode  # noqa: E402 - bench/ is on sys.path (run.py)
from burntray.sources.agent_logs.parallel import worker_count  # noqa: E402
from target import missed  # noqa: E402

MB = 1024 * 1024
DATA_MB = int(os.environ.get("BURNTRAY_BENCH_FIRSTSCAN_MB", "150"))
REQUESTS = int(os.environ.get("BURNTRAY_BENCH_FIRSTSCAN_REQS", "240000"))
SESSIONS = 6
RUNS = 3  # cold runs of each (median), each on a fresh history
MODELS = ("claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-haiku-4-5-20251001")

# The scan alone: the claude source's first poll (reading + history write), as the tray runs it.
_SCAN_ONLY = """
import sys
from pathlib import Path
from burntray.model.pricing import build_price_table
from burntray.sources.agent_logs.source import claude_source
from burntray.store.history import HistoryStore
history = HistoryStore(Path(sys.argv[1]))
source = claude_source([Path(sys.argv[2])], build_price_table(), history, watch=False)
source.reader.workers = None if sys.argv[3] == "auto" else int(sys.argv[3])
# the history's batches: by a writing process, on a thread, or as the machine suits
source.write_process = {"process": True, "thread": False}.get(sys.argv[4])
source.poll()
print(source.status.state, source.status.detail)
"""
# The reading alone: every record handed on and dropped (the batches "written", so duplicate
# removal lets old groups go as it does in a scan; nothing here asks for them again).
_READ_ONLY = """
import resource, sys
from pathlib import Path
from burntray.model.pricing import build_price_table
from burntray.sources.claude.logs import ClaudeLogReader
if __name__ == "__main__":
    reader = ClaudeLogReader([Path(sys.argv[1])], build_price_table(), workers=int(sys.argv[2]))
    reader.dedup.lookup = lambda message_id: []
    count = [0]
    def flush(records):
        count[0] += len(records)
        return True
    rest = reader.read_new(flush=flush)  # (before the sum: flush adds to it meanwhile)
    count[0] += len(rest)
    own = resource.getrusage(resource.RUSAGE_SELF)
    print(count[0], own.ru_utime + own.ru_stime)
"""


def generate_heavy_week(projects: Path, total_bytes: int, requests: int, seed: int = 22) -> int:
    """Six sessions, ``requests`` requests over the 7 days before now, about ``total_bytes``.

    Each request is one assistant line (one in ten also has its streaming snapshot before it, a
    duplicate); tool-result user lines fill the rest of each request's share of the bytes.
    Returns the bytes written."""
    rng = random.Random(seed)
    end = time.time() - 60
    start = end - 7 * 86400
    per_request = total_bytes / requests
    filler = "".join(rng.choice("abcdefghij klmnopqrstuvwxyz") for _ in range(20_000))
    written_total = 0
    per_session = requests // SESSIONS
    for s in range(SESSIONS):
        folder = projects / f"-work-heavy-{s}"
        folder.mkdir(parents=True, exist_ok=True)
        step = (end - start) / per_session
        written = 0
        with (folder / f"session-{s}.jsonl").open("w") as fh:
            for n in range(per_session):
                t = start + n * step + rng.random() * step * 0.5
                stamp = dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
                stamp = stamp[:-3] + "Z"
                model = MODELS[n % 3]
                text = filler[: rng.randint(10, 120)]
                ids = (f"msg_{s}_{n}", f"req_{s}_{n}")
                usage = (rng.randint(1, 50), rng.randint(20, 2000), rng.randint(0, 3000))
                read = rng.randint(0, 120_000)
                lines = []
                if n % 10 == 0:  # the streaming snapshot, then the final line
                    lines.append(
                        claude_line(stamp, *ids, model, usage[0], 1, usage[2], read,
                                    session=f"s{s}", text=text)
                    )  # fmt: skip
                lines.append(
                    claude_line(stamp, *ids, model, *usage[:2], usage[2], read,
                                session=f"s{s}", text=text)
                )  # fmt: skip
                block = "\n".join(lines) + "\n"
                short = (n + 1) * per_request - written - len(block)
                if short > 400:
                    size = min(int(short) - 200, 12_000)
                    at = rng.randint(0, len(filler) - size)
                    block = user_line(stamp, filler[at : at + size]) + "\n" + block
                fh.write(block)
                written += len(block)
        written_total += written
    return written_total


def _week(work: Path) -> Path:
    """The Claude config folder holding the heavy week: made in ``work``, or once in
    BURNTRAY_BENCH_FIRSTSCAN_DATA and read again from there."""
    keep = os.environ.get("BURNTRAY_BENCH_FIRSTSCAN_DATA")
    config = (Path(keep) if keep else work) / f"claude-{DATA_MB}mb-{REQUESTS}"
    done = config / "generated"
    if not done.exists():
        started = time.perf_counter()
        generate_heavy_week(config / "projects", DATA_MB * MB, REQUESTS)
        done.write_text(f"{time.perf_counter() - started:.1f} s\n")
    return config


def _tree_rss_kb(pid: int) -> int:
    """The resident memory of ``pid`` and all its descendants now (Linux /proc)."""
    total = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    break
            for task in Path(f"/proc/{p}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


CPU: dict[str, list[float]] = {}  # CPU seconds (user + sys, its processes together) per command


def _run(cmd: list[str], env: dict[str, str], cpu_as: str = "") -> tuple[float, int, int, str]:
    """(wall seconds, peak RSS of the largest process in KB (``wait4``), sampled peak of the
    whole process tree in KB, stdout) of one command."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak_tree = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_tree
        while not done.is_set():
            peak_tree = max(peak_tree, _tree_rss_kb(proc.pid))
            done.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert proc.stdout is not None and proc.stderr is not None
    err_chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    out = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    sampler.join()
    reader.join()
    if proc.returncode != 0:
        err = b"".join(err_chunks).decode(errors="replace")
        raise RuntimeError(f"{cmd[:4]} failed ({proc.returncode}): {err[-2000:]}")
    if cpu_as:  # the child's and its reaped processes' (a busy machine slows, it does not add)
        CPU.setdefault(cpu_as, []).append(usage.ru_utime + usage.ru_stime)
    return took, usage.ru_maxrss, max(peak_tree, usage.ru_maxrss), out.decode()


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def run() -> list[tuple[str, str]]:
    binary = None
    try:
        binary = ccusage_binary()
    except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
        print(f"  (ccusage could not be installed: {exc})")
    rows: list[tuple[str, str]] = []
    compile_bytecode()  # whole-process figures are for an installed burntray (see bench_core)
    with tempfile.TemporaryDirectory(prefix="burntray-bench-firstscan-") as tmp:
        work = Path(tmp)
        config = _week(work)
        size = sum(f.stat().st_size for f in (config / "projects").rglob("*.jsonl"))
        rows.append((f"heavy week ({SESSIONS} sessions, {REQUESTS:,} requests)",
                     f"{size / MB:.0f} MB"))  # fmt: skip
        (work / "home").mkdir()
        env = {**os.environ, "CLAUDE_CONFIG_DIR": str(config), "HOME": str(work / "home")}
        status = [sys.executable, "-m", "burntray", "status", "--source", "claude",
                  "--window", "7d", "--format", "json"]  # fmt: skip
        cold, cold_rss, cold_tree, scan, scan_rss, scan_tree = [], [], [], [], [], []
        serial: list[float] = []
        two: list[float] = []
        two_tree = 0
        # an idle machine's reading processes (one core each for this process and the writing one)
        idle = worker_count(SESSIONS, load=0.0, kept_cores=2)
        serial_rss = 0
        cc: list[float] = []
        cc_rss = 0
        reading: dict[int, list[tuple[float, int, float]]] = {}
        cc_env = {"PATH": os.environ.get("PATH", ""), "HOME": str(work / "home"),
                  "TZ": "UTC", "CLAUDE_CONFIG_DIR": str(config)}  # fmt: skip
        cc_cmd = [str(binary), "claude", "daily", "--json", "--offline", "--timezone", "UTC"]
        # interleaved, so that a busy machine slows both sides of each ratio alike
        for n in range(RUNS):
            took, rss, tree, _out = _run(status, {**env, "BURNTRAY_HOME": str(work / f"b{n}")})
            cold.append(took)
            cold_rss.append(rss)
            cold_tree.append(tree)
            db = work / f"scan{n}.sqlite3"
            scan_cmd = [sys.executable, "-c", _SCAN_ONLY, str(db), str(config), "auto", "auto"]
            took, rss, tree, _out = _run(
                scan_cmd, {**env, "BURNTRAY_HOME": str(work / f"s{n}")}, "scan"
            )
            scan.append(took)
            scan_rss.append(rss)
            scan_tree.append(tree)
            # as on an idle machine whatever the load (``auto`` takes no other process on a
            # busy one), then all in one process: what the other processes bring, in this run
            scan_cmd = [sys.executable, "-c", _SCAN_ONLY, str(db) + "-2", str(config), str(idle),
                        "process"]  # fmt: skip
            took, _rss, tree, _out = _run(
                scan_cmd, {**env, "BURNTRAY_HOME": str(work / f"t{n}")}, "two"
            )
            two.append(took)
            two_tree = max(two_tree, tree)
            db = work / f"serial{n}.sqlite3"
            scan_cmd = [sys.executable, "-c", _SCAN_ONLY, str(db), str(config), "0", "thread"]
            took, rss, _tree, _out = _run(
                scan_cmd, {**env, "BURNTRAY_HOME": str(work / f"o{n}")}, "serial"
            )
            serial.append(took)
            serial_rss = max(serial_rss, rss)
            # the reading alone: in this one process (what a 2-core machine runs), then with
            # one and two reading processes
            for workers in (0, 1, 2):
                took, _rss, tree, out = _run(
                    [sys.executable, "-c", _READ_ONLY, str(config), str(workers)],
                    env, f"read{workers}",
                )  # fmt: skip
                count, own_cpu = out.split()
                reading.setdefault(workers, []).append((took, tree, float(own_cpu)))
                assert int(count) == REQUESTS // SESSIONS * SESSIONS, out
            if binary is not None:
                took, rss, _tree, _out = _run(cc_cmd, cc_env, "ccusage")
                cc.append(took)
                cc_rss = max(cc_rss, rss)
        first = _median(scan)
        whole = _median(cold)
        rows.append((f"first scan alone: read + history write (median of {RUNS})",
                     f"{first:.2f} s"))  # fmt: skip
        figure = f"{_median(two):.2f} s, peak RSS of the tree {two_tree / 1024:.0f} MB"
        rows.append((f"first scan as on an idle machine: {idle} reading process(es), "
                     "a writing process", figure))  # fmt: skip
        rows.append(("first scan in one process (no reading process, the write on a thread)",
                     f"{_median(serial):.2f} s, peak RSS {serial_rss / 1024:.0f} MB"))  # fmt: skip
        rows.append((f"cold status --source claude --window 7d --format json ({RUNS})",
                     f"{whole:.2f} s"))  # fmt: skip
        peak = max(*scan_tree, two_tree) / 1024  # as run here, and as on an idle machine
        rows.append(("first scan peak RSS, whole process tree [<= 150 MB]",
                     f"{peak:.0f} MB (largest process {max(scan_rss) / 1024:.0f} MB)"
                     f"{missed(peak <= 150)}"))  # fmt: skip
        rows.append(("cold status peak RSS, whole process tree",
                     f"{max(cold_tree) / 1024:.0f} MB "
                     f"(largest process {max(cold_rss) / 1024:.0f} MB)"))  # fmt: skip
        cpu = {name: _median(values) for name, values in CPU.items()}
        rows.append(("CPU s (user + sys): first scan / idle machine's / one process / ccusage",
                     " / ".join(f"{cpu[n]:.2f}" if n in cpu else "-"
                                for n in ("scan", "two", "serial", "ccusage"))))  # fmt: skip
        for workers, runs in sorted(reading.items()):
            total = _median(CPU[f"read{workers}"])
            own = _median([r[2] for r in runs])
            rows.append((f"reading alone, {workers} reading process(es): wall, CPU, tree RSS",
                         f"{_median([r[0] for r in runs]):.2f} s, {total:.2f} s "
                         f"(this process {own:.2f} s, reading {total - own:.2f} s), "
                         f"{max(r[1] for r in runs) / 1024:.0f} MB"))  # fmt: skip
        if 0 in reading:  # issue 22's target for the reading side alone
            own = _median(CPU["read0"])
            rows.append(("reading alone in one process, CPU of the whole process [<= 1.25 s]",
                         f"{own:.2f} s{missed(own <= 1.25)}"))  # fmt: skip
        rows.append(("load average (1 min) at the end", f"{os.getloadavg()[0]:.1f}"))
        if cc:
            peer = _median(cc)
            rows.append(("ccusage 20.0.24 claude daily --json --offline", f"{peer:.2f} s"))
            rows.append(("ccusage peak RSS", f"{cc_rss / 1024:.0f} MB"))
            ratio = first / peer
            rows.append(("first scan / ccusage [<= 1.5, goal 1.0]",
                         f"{ratio:.2f}{missed(ratio <= 1.5)}"))  # fmt: skip
            rows.append(("cold status (scan + answer) / ccusage", f"{whole / peer:.2f}"))
        else:
            rows.append(("ccusage", "npm not installed: ccusage rows skipped"))
    return rows


if __name__ == "__main__":
    for figure, value in run():
        print(f"  {figure:<58} {value}")
