"""``make bench``: run every benchmark and print its figures (measured in this one run).

Each module in BENCHES exposes ``run() -> list[tuple[str, str]]``: rows of (figure, value).
Targets are printed beside the figures; they are goals to watch, not pass/fail tests.
"""

from __future__ import annotations

import importlib
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
]


def main(names: list[str]) -> int:
    selected = [n for n in BENCHES if not names or n in names or n.removeprefix("bench_") in names]
    for name in selected:
        module = importlib.import_module(name)
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        for figure, value in module.run():
            print(f"  {figure:<58} {value}", flush=True)
        print(f"  ({time.perf_counter() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
