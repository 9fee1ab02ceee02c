"""A hexai writer process for the lock tests: hexai's exact Update protocol, logging each write.

argv: cache_dir writer_id count log_path. Each event's ``sent`` encodes (writer, seq) so the
test can tell exactly which writes survive; each log line records when the lock was acquired
(CLOCK_MONOTONIC, comparable across processes on one machine) and how long the writer waited.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

from burntray.sources.hexai.writer import hexai_update


def main() -> None:
    cache_dir, writer, count, log_path = (
        Path(sys.argv[1]),
        int(sys.argv[2]),
        int(sys.argv[3]),
        sys.argv[4],
    )
    rng = random.Random(writer)
    with open(log_path, "w") as log:
        for seq in range(count):
            acquired: list[float] = []

            def clock(acquired: list[float] = acquired) -> int:
                acquired.append(time.monotonic())  # read right after the lock is taken
                return time.time_ns()

            started = time.monotonic()
            hexai_update(
                cache_dir,
                "openai",
                f"writer-{writer}",
                writer * 100_000 + seq,
                1,
                window_s=3600,
                clock_ns=clock,
            )
            log.write(
                json.dumps(
                    {
                        "writer": writer,
                        "seq": seq,
                        "acquired": acquired[0],
                        "wait": acquired[0] - started,
                    }
                )
                + "\n"
            )
            time.sleep(rng.random() * 0.004)


if __name__ == "__main__":
    main()
