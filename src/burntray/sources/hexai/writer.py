"""A hexai-compatible writer: hexai's ``stats.Update``, step by step (spec section 1.3).

burntray never writes a user's stats.json with it: the demo mode feeds a private cache with it,
and the tests use it as a real concurrent writer process. It follows hexai exactly: create the
dir, take the flock (retrying every 5 ms, forever unless a deadline is given), read and reset
on corruption or a wrong version, set our window, append ``ts = now`` read after locking, prune
the leading events older than ``now - window``, write a temp file (0600), fsync, rename, unlock.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from burntray.io.atomic import atomic_write
from burntray.io.lock import exclusive_lock
from burntray.model.timefmt import NS_PER_SECOND, format_rfc3339_ns, parse_rfc3339_ns

FOREVER = float("inf")


def _read_for_update(stats_path: Path) -> dict[str, Any]:
    try:
        data = json.loads(stats_path.read_bytes())
    except FileNotFoundError:
        return {"version": 1, "events": []}
    except ValueError as exc:
        print(f"stats: corrupt stats file {stats_path}: {exc}, starting fresh", file=sys.stderr)
        return {"version": 1, "events": []}
    if not isinstance(data, dict) or data.get("version") != 1:
        return {"version": 1, "events": []}
    if not isinstance(data.get("events"), list):
        data["events"] = []
    return data


def hexai_update(
    cache_dir: Path,
    provider: str,
    model: str,
    sent: int,
    recv: int,
    *,
    window_s: int = 3600,
    clock_ns: Callable[[], int] = time.time_ns,
    lock_timeout_s: float = FOREVER,
) -> int:
    """Append one event as hexai does; returns the event's timestamp (ns)."""
    window_s = max(1, min(int(window_s), 86400))  # SetWindow clamps to [1 s, 24 h]
    cache_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
    stats_path = cache_dir / "stats.json"
    with exclusive_lock(cache_dir / "stats.lock", lock_timeout_s):
        stats = _read_for_update(stats_path)
        now = clock_ns()
        events: list[dict[str, Any]] = stats["events"]
        events.append(
            {
                "ts": format_rfc3339_ns(now),
                "provider": provider,
                "model": model,
                "sent": int(sent),
                "recv": int(recv),
            }
        )
        cutoff = now - window_s * NS_PER_SECOND
        first_kept = 0
        for ev in events[:-1]:  # prune a prefix only; the new event is never pruned
            if parse_rfc3339_ns(ev["ts"]) >= cutoff:
                break
            first_kept += 1
        body = {
            "version": 1,
            "updated_at": format_rfc3339_ns(now),
            "window_seconds": window_s,
            "events": events[first_kept:],
        }
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        # CreateTemp(dir, "stats.json.tmp.") 0600, write, fsync, close, rename
        atomic_write(stats_path, data, temp_prefix="stats.json.tmp.")
    return now
