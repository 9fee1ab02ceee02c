"""Plan limits (issue 23): what following Codex's plan windows costs.

- ingest: reading ~40 MB of Codex rollout logs (50,000 turns, each with its ``rate_limits``, the
  figures changing every 20 turns as Codex's do) with the windows followed, beside the same
  read with them ignored: what the limits add to a first scan;
- live: a ``token_count`` line with new figures appended -> the monitor publishes a Snapshot
  whose ``limits`` carry them (what the tray's menu, tooltip and icon show);
- the limit-alert detector per monitor tick (two windows; 50 µs each, as the spend detector).
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from burntray.config import Settings  # noqa: E402
from burntray.model.limit_alerts import LimitAlertConfig, evaluate_limits  # noqa: E402
from burntray.model.limits import PlanWindow  # noqa: E402
from burntray.model.pricing import build_price_table  # noqa: E402
from burntray.model.snapshot import Snapshot  # noqa: E402
from burntray.runtime.monitor import Monitor  # noqa: E402
from burntray.sources.codex import limits as codex_limits  # noqa: E402
from burntray.sources.codex.logs import CodexLogReader  # noqa: E402
from burntray.sources.codex.source import codex_source  # noqa: E402
from burntray.store.history import HistoryStore  # noqa: E402
from target import missed, percentile  # noqa: E402

TURNS = 50_000
LIVE_APPENDS = 40
S = 1_000_000_000


def _turn(ts: float, i: int, five: float, relative: bool = False) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"
    usage = {"input_tokens": 5000 + i % 900, "cached_input_tokens": 3000, "output_tokens": 400,
             "reasoning_output_tokens": 100, "total_tokens": 5400}  # fmt: skip
    info = {"last_token_usage": usage, "total_token_usage": usage, "model_context_window": 1}
    # as Codex writes them: each window's reset is fixed for its period (``resets_at``); older
    # Codex wrote ``resets_in_seconds``, which changes on every line (``relative``)
    five_reset = (int(ts) // 18000 + 1) * 18000
    week_reset = (int(ts) // 604800 + 1) * 604800
    primary: dict[str, object] = {"used_percent": five, "window_minutes": 300}
    secondary: dict[str, object] = {"used_percent": 40.0, "window_minutes": 10080}
    if relative:
        primary["resets_in_seconds"] = five_reset - int(ts)
        secondary["resets_in_seconds"] = week_reset - int(ts)
    else:
        primary["resets_at"], secondary["resets_at"] = five_reset, week_reset
    limits = {"primary": primary, "secondary": secondary}
    payload = {"type": "token_count", "info": info, "rate_limits": limits}
    line = {"timestamp": stamp, "type": "event_msg", "payload": payload}
    return json.dumps(line, separators=(",", ":"))


_OTHER = json.dumps(
    {
        "timestamp": "2026-12-07T00:00:00.000Z",
        "type": "response_item",
        "payload": {"type": "message", "content": [{"text": "x" * 400}]},
    }
)


def _write_logs(home: Path, start: float, relative: bool = False) -> int:
    out = home / "sessions" / "2026" / "12" / "07"
    out.mkdir(parents=True, exist_ok=True)
    size = 0
    for f in range(10):
        lines = []
        for i in range(TURNS // 10):
            n = f * (TURNS // 10) + i
            lines.append(_turn(start + n, n, float(n // 20 % 100), relative))
            lines.append(_OTHER)
        path = out / f"rollout-{f}.jsonl"
        path.write_text("\n".join(lines) + "\n")
        size += path.stat().st_size
    return size


def _ingest(home: Path, relative: bool = False) -> list[tuple[str, str]]:
    size = _write_logs(home, time.time() - TURNS - 60, relative)
    feed = codex_limits.CodexLimits.feed
    timings: dict[str, list[float]] = {"with": [], "without": []}
    for mode in ("with", "without") * 5:
        codex_limits.CodexLimits.feed = feed if mode == "with" else (lambda self, line: False)  # type: ignore[method-assign,assignment]
        reader = CodexLogReader([home], build_price_table())
        start = time.perf_counter()
        reader.read_new()
        timings[mode].append(time.perf_counter() - start)
    codex_limits.CodexLimits.feed = feed  # type: ignore[method-assign]
    with_s, without_s = min(timings["with"]), min(timings["without"])
    added = (with_s / without_s - 1) * 100
    if relative:
        return [("ingest, older logs (resets_in_seconds on every line): limits add",
                 f"{added:.0f} % ({without_s:.2f} s -> {with_s:.2f} s)")]  # fmt: skip
    return [
        (f"ingest: {size / 1e6:.0f} MB, {TURNS:,} turns, limits ignored (best of 5)",
         f"{without_s:.2f} s"),
        ("ingest: the same with the plan windows followed", f"{with_s:.2f} s"),
        ("ingest: what the limits add [<= 25 %]", f"{added:.0f} %{missed(added <= 25)}"),
    ]  # fmt: skip


class _Follower:
    def __init__(self, home: Path, history: HistoryStore) -> None:
        self.source = codex_source([home], build_price_table(), history)
        self.monitor = Monitor(Settings(source="codex", poll_interval_s=1.0), lambda s: self.source)
        self.seen: dict[float, int] = {}
        self._cond = threading.Condition()
        self.monitor.observers.append(self._observe)
        self.monitor.start()

    def _observe(self, snap: Snapshot) -> None:
        now = time.time_ns()
        with self._cond:
            for win in snap.limits:
                self.seen.setdefault(win.used_percent, now)
            self._cond.notify_all()

    def wait_for(self, used: float, timeout_s: float) -> int | None:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while used not in self.seen:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
            return self.seen[used]


def _live(home: Path) -> list[tuple[str, str]]:
    history = HistoryStore(home.parent / "history.sqlite3")
    follower = _Follower(home, history)
    target = next(home.rglob("rollout-0.jsonl"))
    latencies = []
    try:
        if follower.wait_for(40.0, 60.0) is None:  # the first scan
            return [("live", "the first scan never published the windows")]
        for n in range(LIVE_APPENDS):
            used = 200.0 + n  # a figure no earlier line had
            wrote = time.time_ns()
            with target.open("a") as fh:
                fh.write(_turn(time.time(), n, used) + "\n")
            published = follower.wait_for(used, 5.0)
            latencies.append(((published or time.time_ns()) - wrote) / 1e6)
            time.sleep(0.05)
    finally:
        follower.monitor.stop()
        follower.source.close()
        history.close()
    latencies.sort()
    p99 = percentile(latencies, 0.99)
    return [
        ("live: new figures appended -> published, p50",
         f"{latencies[len(latencies) // 2]:.1f} ms"),
        ("live: new figures appended -> published, p99 [<= 1000 ms]",
         f"{p99:.1f} ms{missed(p99 <= 1000)}"),
    ]  # fmt: skip


def _detector() -> list[tuple[str, str]]:
    config = LimitAlertConfig()
    states: dict = {}
    reps = 20_000
    now = 1_800_000_000 * S
    start = time.perf_counter()
    for i in range(reps):
        wins = (
            PlanWindow("codex", 300, 30 + (i % 600) / 10, now + 3600 * S, now + i * S),
            PlanWindow("codex", 10080, 40.0, now + 3 * 86400 * S, now + i * S),
        )
        states, _fired = evaluate_limits(config, states, wins, now + i * S, "codex")
    per_call = (time.perf_counter() - start) / reps * 1e6
    return [("limit alerts: evaluate_limits() per tick, two windows [< 100 µs]",
             f"{per_call:.1f} µs{missed(per_call < 100)}")]  # fmt: skip


def run() -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="burntray-bench-limits-") as tmp:
        home = Path(tmp) / "codex"
        rows += _ingest(home)
        rows += _live(home)
        rows += _ingest(Path(tmp) / "codex-old", relative=True)
    rows += _detector()
    return rows


if __name__ == "__main__":
    for figure, value in run():
        print(f"  {figure:<58} {value}")
