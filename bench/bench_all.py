"""`all` with four sources present (issue 11): the cost of following every tool at once.

A private home holds a hexai cache (1,000 events), a roder analytics database (100,000 turns
over 30 days), a ctm store (20,000 rows) and yoi session logs (50 logs, 2,000 requests), each
written with its upstream's own schema and write pattern (``tests.store_writers``). Figures:

- one monitor tick (poll every source, take the combined snapshot, publish) when nothing
  changed - target <= 5 ms median;
- the same tick right after one new request in one of them (for reference);
- ``burntray status --source all --format tmux`` as a whole process - target <= 0.25 s median.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from target import missed  # noqa: E402

REPEATS = 40
PROCESS_REPEATS = 9
TICK_TARGET_S = 0.005
TMUX_TARGET_S = 0.25


def _fill() -> dict[str, Path]:
    """The four stores at their upstreams' default places in the (isolated) home."""
    from tests.store_writers import ctm_insert, ctm_open, roder_bulk, yoi_append

    from burntray.sources.hexai.writer import hexai_update

    env = os.environ
    home, cache, data = (Path(env[v]) for v in ("HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"))
    now_ms = int(time.time() * 1000)
    hexai = cache / "hexai"
    hexai.mkdir(parents=True)
    for i in range(1000):
        hexai_update(hexai, "openai", f"gpt-4.1{'-mini' if i % 3 else ''}", 4000 + i, 900)
    roder = home / ".roder" / "analytics" / "usage.sqlite3"
    roder.parent.mkdir(parents=True)
    roder_bulk(roder, 100_000, now_ms, 30 * 86_400_000)
    ctm = home / ".config" / "ctm" / "ctm.db"
    ctm.parent.mkdir(parents=True)
    conn = ctm_open(ctm)
    for i in range(20_000):
        session = f"s{i % 200}"
        step = i // 200 + 1
        ctm_insert(
            conn,
            {"ts_ms": now_ms - (20_000 - i) * 60_000, "session": session,
             "input": 1000 * step, "output": 100 * step, "cache": 50},
        )  # fmt: skip
    conn.close()
    sessions = data / "yoi" / "sessions"
    for log in range(50):
        seg = sessions / f"s{log}" / "seg.jsonl"
        yoi_append(seg, {"kind": "session_start", "ts": now_ms, "config": {"model": "gpt-4.1"}})
        for i in range(40):
            yoi_append(
                seg,
                {"kind": "llm_usage", "ts": now_ms - (40 - i) * 30_000, "history_len": i,
                 "input_total_tokens": 3000, "cache_read_tokens": 1000,
                 "cache_write_tokens": 0, "output_tokens": 200},
            )  # fmt: skip
    return {"hexai": hexai, "roder": roder, "ctm": ctm, "yoi": sessions}


def _fmt(seconds: float, target: float | None = None) -> str:
    text = f"{seconds * 1000:.2f} ms"
    if target is not None:
        text += f" (target <= {target * 1000:g} ms)"
        text += missed(seconds <= target)
    return text


def run() -> list[tuple[str, str]]:
    # bench/run.py gives this process its own home and environment: the stores go there
    stores = _fill()

    from burntray.app import AppContext
    from burntray.runtime.monitor import Monitor

    ctx = AppContext.load()
    settings = ctx.settings.replace(source="all")
    ctx.settings = settings
    monitor = Monitor(settings, ctx.build_source, history=ctx.history())
    monitor.tick()  # first read of everything (and the history ingest)
    monitor.tick()
    source = monitor._source
    members = sorted(getattr(source, "members", {}))
    idle = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        monitor.tick()
        idle.append(time.perf_counter() - started)
    from burntray.sources.hexai.writer import hexai_update

    changed = []
    for i in range(10):
        hexai_update(stores["hexai"], "openai", "gpt-4.1", 100 + i, 10)
        started = time.perf_counter()
        monitor.tick()
        changed.append(time.perf_counter() - started)
    monitor.stop()
    ctx.close()

    walls = []
    for _ in range(PROCESS_REPEATS):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "burntray", "status", "--source", "all", "--format", "tmux"],
            capture_output=True,
            check=False,
            timeout=60,
        )
        walls.append(time.perf_counter() - started)
    return [
        ("sources joined under all", ", ".join(members)),
        ("monitor tick, nothing changed (median)", _fmt(statistics.median(idle), TICK_TARGET_S)),
        ("monitor tick, nothing changed (p90)", _fmt(sorted(idle)[int(REPEATS * 0.9)])),
        ("monitor tick after one hexai append (median)", _fmt(statistics.median(changed))),
        (
            "status --source all --format tmux, whole process (median)",
            _fmt(statistics.median(walls), TMUX_TARGET_S),
        ),
    ]
