"""The standalone build: artifact sizes, frozen start-up time and peak memory.

Reuses dist/burntray and dist/*.deb when `make package` already built them; otherwise builds
into a temp dir first (about 10 s). The frozen app runs against a private hexai cache of 1000
events (isolated BURNTRAY_HOME, XDG dirs). "Start to tray-ready" is measured as the wall time of
``burntray --self-test`` under Xvfb: a fresh process that resolves paths, reads the source,
renders the icon, imports pystray's backend and creates the tray Icon (not shown), then exits,
less its "notify" check (importing desktop-notifier, which the tray defers to the first alert;
the self-test prints each check's cost). The full tray reaching its first docked frame is the
tray's own benchmark.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "packaging"))

import make_package  # noqa: E402 - packaging/make_package.py

from burntray.model.timefmt import NS_PER_SECOND, format_rfc3339_ns  # noqa: E402
from target import missed  # noqa: E402 - bench/ is on sys.path (run.py)

RUNS = 7


def _write_cache(cache_dir: Path, events: int = 1000) -> None:
    now = time.time_ns()
    models = [("openai", "gpt-4.1"), ("anthropic", "claude-sonnet-4"), ("ollama", "qwen3")]
    body = {
        "version": 1,
        "updated_at": format_rfc3339_ns(now),
        "window_seconds": 3600,
        "events": [
            {
                "ts": format_rfc3339_ns(now - (events - i) * 3 * NS_PER_SECOND),
                "provider": models[i % 3][0],
                "model": models[i % 3][1],
                "sent": 2000 + i,
                "recv": 500 + i,
            }
            for i in range(events)
        ],
    }
    cache_dir.mkdir(parents=True, exist_ok=True)
    (cache_dir / "stats.json").write_text(json.dumps(body))


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    """Wall seconds, peak RSS (KiB, this process only) and exit code of one run."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.stderr is not None
    proc.stderr.close()
    return elapsed, usage.ru_maxrss, proc.returncode


def _series(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """First run, median of the next RUNS, and the highest peak RSS seen."""
    first, rss, code = _timed(argv, env)
    if code != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {code}")
    times = []
    for _ in range(RUNS):
        elapsed, peak, _code = _timed(argv, env)
        times.append(elapsed)
        rss = max(rss, peak)
    return first, statistics.median(times), rss


CHECK_LINE = re.compile(r"^  (?:ok  |FAIL)  (.{12}) +(\d+) ms  ", re.M)


def _check_ms(argv: list[str], env: dict[str, str]) -> dict[str, float]:
    """Each self-test check's own cost in ms, as the frozen app reports it."""
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:  # say which check failed, not only that one did
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}")
    out = done.stdout
    return {name.strip(): float(ms) for name, ms in CHECK_LINE.findall(out)}


def _start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "640x480x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        raise RuntimeError("Xvfb did not start")
    return proc, f":{number}"


def run() -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="burntray-bench-package-") as tmp_name:
        tmp = Path(tmp_name)
        dist = ROOT / "dist"
        onedir = dist / "burntray"
        debs = sorted(dist.glob("burntray_*.deb"))
        tarballs = sorted(dist.glob("burntray-*-linux-*.tar.gz"))
        if (onedir / "burntray").exists() and debs and tarballs:
            deb, tarball = debs[-1], tarballs[-1]
            rows.append(("build", "reused dist/ from make package"))
        else:
            started = time.perf_counter()
            onedir = make_package.build_onedir(
                tmp / "dist",
                tmp / "work",
                extra_env={"PYINSTALLER_CONFIG_DIR": str(tmp / "pyinstaller-config")},
            )
            built = time.perf_counter() - started
            deb = make_package.build_deb(onedir, tmp / "dist", tmp / "work")
            tarball = make_package.build_tarball(onedir, tmp / "dist")
            rows.append(("PyInstaller onedir build (stripped)", f"{built:.1f} s"))
        rows.append(("onedir size", f"{make_package.tree_size(onedir) / 1e6:.1f} MB"))
        deb_mb = deb.stat().st_size / 1e6
        rows.append(
            (".deb size (zstd)", f"{deb_mb:.1f} MB (target <= 30 MB){missed(deb_mb <= 30)}")
        )
        rows.append((".tar.gz size", f"{tarball.stat().st_size / 1e6:.1f} MB"))

        env = {
            k: v for k, v in os.environ.items() if k not in ("DISPLAY", "DBUS_SESSION_BUS_ADDRESS")
        }
        env.pop("PYSTRAY_BACKEND", None)
        env.update(
            HOME=str(tmp / "home"),
            BURNTRAY_HOME=str(tmp / "burntray"),
            XDG_CACHE_HOME=str(tmp / "cache"),
            XDG_CONFIG_HOME=str(tmp / "config"),
            DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent/burntray-bench-bus",
            NO_AT_BRIDGE="1",
        )
        _write_cache(tmp / "cache" / "hexai")
        exe = str(onedir / "burntray")
        status = [exe, "status", "--format", "json"]
        first, median, rss = _series(status, env)
        rows.append(
            ("frozen `status --format json`, first run", f"{first * 1000:.0f} ms (1000 events)")
        )
        rows.append(("frozen `status --format json`, median", f"{median * 1000:.0f} ms"))
        rows.append(("frozen `status`, peak RSS", f"{rss / 1024:.0f} MB"))
        _first, source_median, source_rss = _series(
            [sys.executable, "-m", "burntray", "status", "--format", "json"], env
        )
        rows.append(
            (
                "source `python -m burntray status`, median",
                f"{source_median * 1000:.0f} ms ({source_rss / 1024:.0f} MB peak RSS)",
            )
        )

        xvfb, display = _start_xvfb()
        try:
            self_test = [exe, "--self-test"]
            self_env = {**env, "DISPLAY": display}
            first, median, rss = _series(self_test, self_env)
            costs = [_check_ms(self_test, self_env) for _ in range(RUNS)]
            if not all("notify" in cost for cost in costs):
                raise RuntimeError(
                    f"{exe} --self-test prints no per-check cost or no notify check: "
                    "dist/ is older than the source, run make package"
                )
            notify_ms = statistics.median(cost["notify"] for cost in costs)
        finally:
            xvfb.terminate()
            xvfb.wait(timeout=10)
        rows.append(
            (
                "frozen --self-test under Xvfb, wall, median",
                f"{median * 1000:.0f} ms (first {first * 1000:.0f} ms)",
            )
        )
        rows.append(
            ("  of which the notify check (desktop-notifier import)", f"{notify_ms:.0f} ms")
        )
        rows.append(
            (
                "frozen start to tray-ready (self-test minus notify)",
                f"{median * 1000 - notify_ms:.0f} ms (target <= 500 ms)"
                + missed(median * 1000 - notify_ms <= 500),
            )
        )
        rows.append(("frozen --self-test (pystray xorg Icon), peak RSS", f"{rss / 1024:.0f} MB"))
    return rows


if __name__ == "__main__":
    for figure, value in run():
        print(f"{figure:<58} {value}")
