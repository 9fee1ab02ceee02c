"""``make bench``: run every benchmark and print its figures (measured in this one run).

Each module in BENCHES exposes ``run() -> list[tuple[str, str]]``: rows of (figure, value).
Targets are printed beside the figures; they are goals to watch, not pass/fail tests.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

BENCHES = [
    "bench_core",
    "bench_alerts",
    "bench_report",
    "bench_package",
    "bench_sni",
    "bench_tray",
    "bench_cburn",
    "bench_stores",
    "bench_all",
    "bench_otel",
]


def run_module(name: str) -> None:
    """Run one benchmark module in this process and print its figures."""
    module = importlib.import_module(name)
    started = time.perf_counter()
    for figure, value in module.run():
        print(f"  {figure:<58} {value}", flush=True)
    print(f"  ({time.perf_counter() - started:.1f} s)", flush=True)


def main(names: list[str]) -> int:
    """Each module runs in a fresh process: one module's memory (a million history rows) or
    threads never colour another's figures (peak RSS of a forked child includes the parent's)."""
    selected = [n for n in BENCHES if not names or n in names or n.removeprefix("bench_") in names]
    failed = []
    for name in selected:
        print(f"== {name}", flush=True)
        code = subprocess.call([sys.executable, __file__, "--module", name])
        if code != 0:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--module"]:
        run_module(sys.argv[2])
        sys.exit(0)
    sys.exit(main(sys.argv[1:]))
