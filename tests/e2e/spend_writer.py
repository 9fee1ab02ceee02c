"""A hexai writer process that spends: hexai's exact Update protocol, one event per step.

argv: CACHE_DIR COUNT INTERVAL_S RECV_BYTES [PROVIDER MODEL]. Prints ``wrote N`` after each
write so the test can follow it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from burntray.sources.hexai.writer import hexai_update


def main() -> None:
    cache_dir, count, interval, recv = (
        Path(sys.argv[1]),
        int(sys.argv[2]),
        float(sys.argv[3]),
        int(sys.argv[4]),
    )
    provider, model = (
        (sys.argv[5], sys.argv[6])
        if len(sys.argv) > 6
        else (
            "anthropic",
            "claude-sonnet-4-5",
        )
    )
    for n in range(1, count + 1):
        hexai_update(cache_dir, provider, model, 0, recv)
        print(f"wrote {n}", flush=True)
        if n < count:
            time.sleep(interval)  # the pace of a user's requests, not a wait for a result


if __name__ == "__main__":
    main()
