"""``clear-cache --hexai`` never loses what it cannot see, and never moves long-window totals.

- A stats.json that cannot be read or counted (a directory or FIFO in its place, a file that
  is not a stats file) is left as it is: exit 1, the reason, no traceback. The same when
  stats.lock cannot be opened. (Tests run as root, so the failures are ones root cannot bypass.)
- Emptying hexai's live file does not change what burntray reports for windows answered by its
  history: the 24 h total and today's spend, in the CLI and in the running app's source.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from burntray.model.pricing import build_price_table
from burntray.runtime.alerting import spent_since
from burntray.sources.hexai.source import HexaiSource, clear_stats
from burntray.sources.hexai.writer import hexai_update
from burntray.store.history import HistoryStore

S = 10**9
MIN = 60 * S


def burntray(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: PLW1510 - the exit code is asserted
        [sys.executable, "-m", "burntray", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=env or os.environ.copy(),
        stdin=subprocess.DEVNULL,
    )


def _refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert "cleared" not in result.stdout
    for word in words:
        assert word in result.stderr, result.stderr


def test_a_directory_in_place_of_stats_json_is_left_alone(hexai_dir: Path) -> None:
    (hexai_dir / "stats.json").mkdir()
    (hexai_dir / "stats.json" / "inside").write_text("x")
    _refused(burntray("clear-cache", "--hexai", "--yes"), "directory", "nothing was changed")
    assert (hexai_dir / "stats.json" / "inside").read_text() == "x"


def test_a_fifo_in_place_of_stats_json_is_left_alone(hexai_dir: Path) -> None:
    os.mkfifo(hexai_dir / "stats.json")
    _refused(burntray("clear-cache", "--hexai", "--yes"), "FIFO")
    assert (hexai_dir / "stats.json").is_fifo()


def test_an_invalid_file_is_not_replaced(hexai_dir: Path) -> None:
    (hexai_dir / "stats.json").write_bytes(b'{"version":1,"events":[{"ts":"yesterday"}]}')
    _refused(burntray("clear-cache", "--hexai", "--yes"), "events[0].ts", "nothing was changed")
    assert (hexai_dir / "stats.json").read_bytes() == b'{"version":1,"events":[{"ts":"yesterday"}]}'


def test_an_unopenable_lock_changes_nothing(hexai_dir: Path) -> None:
    hexai_update(hexai_dir, "openai", "gpt-4.1", 400, 40)
    before = (hexai_dir / "stats.json").read_bytes()
    (hexai_dir / "stats.lock").unlink()
    (hexai_dir / "stats.lock").mkdir()  # open(O_RDWR) fails even for root
    _refused(burntray("clear-cache", "--hexai", "--yes"), "stats.lock", "nothing was changed")
    assert (hexai_dir / "stats.json").read_bytes() == before


def test_the_question_names_an_unreadable_file_without_hanging(hexai_dir: Path) -> None:
    os.mkfifo(hexai_dir / "stats.json")
    result = burntray("clear-cache", "--hexai")  # counted before asking: refused at once
    assert result.returncode == 1
    assert "cannot read" in result.stderr and "FIFO" in result.stderr


def test_no_stats_json_means_nothing_to_clear(hexai_dir: Path) -> None:
    assert clear_stats(hexai_dir) == 0
    assert not (hexai_dir / "stats.json").exists()


def _midday_env() -> dict[str, str]:
    """An environment whose local zone puts now near noon: "today" began hours ago, so today's
    spend is answered by the history, whatever the real time of day is."""
    hour = dt.datetime.now(dt.UTC).hour
    offset = 12 - hour  # local = UTC + offset; POSIX TZ strings count the other way
    return dict(os.environ, TZ=f"BTT{-offset:+d}")


def _summary(env: dict[str, str]) -> tuple[int, int, float]:
    result = burntray("status", "--source", "hexai", "--window", "24h", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    return doc["totals"]["reqs"], doc["totals"]["sent"], doc["alerts"]["spent_today_usd"]


def test_clear_keeps_the_24h_total_and_todays_spend_in_the_cli(hexai_dir: Path) -> None:
    env = _midday_env()
    now = time.time_ns()
    # hexai writes 2 h and 90 min ago, burntray reads; then 30 and 10 min ago (which prunes the
    # first two from the 1 h file), burntray reads again. The history holds all four.
    for ago in (120, 90):
        hexai_update(
            hexai_dir, "openai", "gpt-4.1", 400_000, 40_000, clock_ns=lambda a=ago: now - a * MIN
        )
    assert _summary(env)[0] == 2
    for ago in (30, 10):
        hexai_update(
            hexai_dir, "openai", "gpt-4.1", 400_000, 40_000, clock_ns=lambda a=ago: now - a * MIN
        )
    before = _summary(env)
    assert before[:2] == (4, 1_600_000) and before[2] > 0
    assert len(json.loads((hexai_dir / "stats.json").read_text())["events"]) == 2
    done = burntray("clear-cache", "--hexai", "--yes", env=env)
    assert done.returncode == 0 and "cleared 2 events" in done.stdout
    assert _summary(env) == before  # not 2 events lower until they "come back" an hour later


def test_clear_keeps_long_windows_in_the_running_source(hexai_dir: Path, tmp_path: Path) -> None:
    now = [1_790_000_000 * S]
    history = HistoryStore(tmp_path / "history.sqlite3")
    source = HexaiSource(hexai_dir, build_price_table(), history, clock_ns=lambda: now[0])
    for step in range(12):  # one event every 10 min for 2 h, read by the app as it comes
        now[0] += 10 * MIN
        hexai_update(hexai_dir, "openai", "gpt-4.1", 4000 + step, 400, clock_ns=lambda: now[0])
        source.poll()
    day_start = now[0] - 5 * 3600 * S
    windows = [24 * 3600 * S, 3 * 3600 * S, 90 * MIN]
    before = [source.snapshot(w).totals for w in windows]
    spent = spent_since(source, day_start, now[0])
    assert before[0].reqs == 12 and before[2].reqs == 10  # cutoffs are inclusive
    assert clear_stats(hexai_dir, lambda: now[0]) == 7  # the file kept the last hour's 7
    assert source.poll() is True
    assert [source.snapshot(w).totals for w in windows] == before
    assert spent_since(source, day_start, now[0]) == spent
    assert source.snapshot(3600 * S).totals.reqs == 0  # the file's own window: hexai's view
    history.close()


@pytest.mark.parametrize("target", ["stats.json", "stats.lock"])
def test_clear_stats_raises_only_burntray_errors(hexai_dir: Path, target: str) -> None:
    from burntray.errors import ClearError

    hexai_update(hexai_dir, "openai", "gpt-4.1", 400, 40)
    (hexai_dir / target).unlink()
    (hexai_dir / target).mkdir()
    with pytest.raises(ClearError, match="nothing was changed"):
        clear_stats(hexai_dir)
