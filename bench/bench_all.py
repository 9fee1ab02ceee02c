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
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REPEATS = 40
PROCESS_REPEATS = 9
TICK_TARGET_S = 0.005
TMUX_TARGET_S = 0.25


def _private_home(base: Path) -> dict[str, str]:
    """Every location burntray or an upstream looks at, inside ``base``."""
    home = base / "home"
    home.mkdir()
    env = {
        "HOME": str(home),
        "BURNTRAY_HOME": str(base / "burntray"),
        "XDG_CACHE_HOME": str(base / "xdg-cache"),
        "XDG_CONFIG_HOME": str(base / "xdg-config"),
        "XDG_DATA_HOME": str(base / "xdg-data"),
        "XDG_STATE_HOME": str(base / "xdg-state"),
        "BURNTRAY_CBURN_URL": "http://127.0.0.1:9",  # never a real daemon of this machine
        "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/burntray-bench-bus",
    }
    for var in ("RODER_CONFIG_DIR", "RODER_DATA_DIR", "YOI_DATA_DIR", "YOI_HOME", "DISPLAY",
                "WAYLAND_DISPLAY", "CLAUDE_CONFIG_DIR", "CODEX_HOME"):  # fmt: skip
        os.environ.pop(var, None)
    os.environ.update(env)
    return env


def _fill(base: Path) -> None:
    from tests.store_writers import ctm_insert, ctm_open, roder_bulk, yoi_append

    from burntray.sources.hexai_writer import hexai_update

    now_ms = int(time.time() * 1000)
    hexai = base / "xdg-cache" / "hexai"
    hexai.mkdir(parents=True)
    for i in range(1000):
        hexai_update(hexai, "openai", f"gpt-4.1{'-mini' if i % 3 else ''}", 4000 + i, 900)
    roder = base / "home" / ".roder" / "analytics" / "usage.sqlite3"
    roder.parent.mkdir(parents=True)
    roder_bulk(roder, 100_000, now_ms, 30 * 86_400_000)
    ctm = base / "home" / ".config" / "ctm" / "ctm.db"
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
    sessions = base / "xdg-data" / "yoi" / "sessions"
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


def _fmt(seconds: float, target: float | None = None) -> str:
    text = f"{seconds * 1000:.2f} ms"
    if target is not None:
        text += f" (target <= {target * 1000:g} ms)"
        if seconds > target:
            text += " MISSED"
    return text


def run() -> list[tuple[str, str]]:
    base = Path(tempfile.mkdtemp(prefix="burntray-bench-all-"))
    env = _private_home(base)
    _fill(base)

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
    from burntray.sources.hexai_writer import hexai_update

    changed = []
    for i in range(10):
        hexai_update(base / "xdg-cache" / "hexai", "openai", "gpt-4.1", 100 + i, 10)
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
            env={**os.environ, **env},
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


if __name__ == "__main__":
    for figure, value in run():
        print(f"{figure:<58} {value}")
