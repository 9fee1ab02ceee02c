"""``make bench``: run every benchmark and print its figures (measured in this one run).

Each module in BENCHES exposes ``run() -> list[tuple[str, str]]``: rows of (figure, value).
Targets are printed beside the figures, with MISSED beside any figure that misses its target;
they are goals to watch, not pass/fail tests.

Every module runs in its own process, home and environment, as the tests do: HOME, every XDG
dir and BURNTRAY_HOME in a fresh temporary folder, no display, a session bus address that
cannot connect, and the cburn daemon URL pointed at a closed loopback port - so a real cburn
daemon on 127.0.0.1:8787, the user's hexai cache or desktop never colour (or stall) a figure.
Benchmarks that need a display, a bus or a daemon start their own.

Each module's figures are also written into docs/performance.md, under "Latest `make bench`
run", with the date and the machine they were measured on (a module run again replaces only its
own table), so the documented figures always say where they came from.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
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
    "bench_agentlogs",
    "bench_firstscan",
    "bench_agents",
    "bench_stores",
    "bench_all",
    "bench_otel",
    "bench_otel_p99",
    "bench_otel_hostile",
    "bench_otel_values",
    "bench_hexai",
    "bench_views",
    "bench_heavy",
    "bench_watch",
    "bench_limits",
    "bench_statusline",
    "bench_hub",
]


PAGE = Path(__file__).resolve().parents[1] / "docs" / "performance.md"
LATEST = "## Latest `make bench` run"
MODULE_HEADING = re.compile(r"^### (bench_\w+)", re.MULTILINE)


def run_module(name: str, rows_out: Path | None = None) -> None:
    """Run one benchmark module in this process and print its figures (and keep them, as JSON,
    in rows_out for the performance page)."""
    module = importlib.import_module(name)
    started = time.perf_counter()
    rows = []
    for figure, value in module.run():
        print(f"  {figure:<58} {value}", flush=True)
        rows.append((str(figure), str(value)))
    print(f"  ({time.perf_counter() - started:.1f} s)", flush=True)
    if rows_out is not None:
        rows_out.write_text(json.dumps(rows), encoding="utf-8")


def machine() -> str:
    """Where the figures were measured: OS, CPU model and count, Python, load at the time."""
    os_name = platform.system()
    try:
        release = Path("/etc/os-release").read_text(encoding="utf-8")
        found = re.search(r'^PRETTY_NAME="?([^"\n]*)"?', release, re.MULTILINE)
        if found:
            os_name = found.group(1)
    except OSError:
        pass
    cpu = platform.processor() or platform.machine()
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="utf-8")
        found = re.search(r"^model name\s*:\s*(.+)$", info, re.MULTILINE)
        if found:
            cpu = found.group(1).strip()
    except OSError:
        pass
    load = ""
    if hasattr(os, "getloadavg"):
        load = f", load {os.getloadavg()[0]:.1f}"
    return f"{os_name}, {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}{load}"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def module_section(name: str, rows: list[tuple[str, str]], when: datetime, where: str) -> str:
    lines = [
        f"### {name}",
        "",
        f"Measured {when:%Y-%m-%d %H:%M} UTC on {where}.",
        "",
        "| figure | value |",
        "|---|---|",
        *(f"| {cell(figure)} | {cell(value)} |" for figure, value in rows),
    ]
    return "\n".join(lines) + "\n"


def update_page(page: Path, sections: dict[str, str], order: list[str] = BENCHES) -> None:
    """Put each module's section under the page's "Latest run" heading, replacing that
    module's previous one and keeping the others (and everything above the heading)."""
    text = page.read_text(encoding="utf-8") if page.exists() else "# Performance\n"
    head, found, latest = text.partition(LATEST)
    if not found:
        head, latest = text.rstrip("\n") + "\n\n", ""
    kept: dict[str, str] = {}
    starts = list(MODULE_HEADING.finditer(latest))
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(latest)
        kept[match.group(1)] = latest[match.start() : end].strip() + "\n"
    kept.update(sections)
    rank = {name: i for i, name in enumerate(order)}
    ranked = sorted(kept, key=lambda name: (rank.get(name, len(order)), name))
    body = "\n".join(kept[name] for name in ranked)
    intro = (
        "\n\nWritten by `make bench` (`bench/run.py`): every figure of the latest run of each"
        " benchmark, with when and where it ran.\n\n"
    )
    page.write_text(head + LATEST + intro + body, encoding="utf-8")


# What the tests scrub too (tests/conftest.py): ways to reach the user's desktop, bus or data.
SCRUBBED = (
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "DBUS_SESSION_BUS_ADDRESS",
    "BURNTRAY_CBURN_URL",
    "PYSTRAY_BACKEND",
    "TMUX",
    "XDG_RUNTIME_DIR",
    "RODER_CONFIG_DIR",
    "RODER_DATA_DIR",
    "RODER_STATS_DATA_DIR",
    "YOI_DATA_DIR",
    "YOI_HOME",
    "CLAUDE_CONFIG_DIR",
    "CODEX_HOME",
    "HEXAI_CONFIG",
    # the agents read as ccusage reads them (bench_agents)
    "OPENCODE_DATA_DIR",
    "GEMINI_DATA_DIR",
    "GEMINI_CLI_HOME",
    "COPILOT_HOME",
    "COPILOT_OTEL_FILE_EXPORTER_PATH",
    "AMP_DATA_DIR",
    "QWEN_DATA_DIR",
    "KIMI_DATA_DIR",
    "DROID_SESSIONS_DIR",
    "CODEBUFF_DATA_DIR",
    "PI_AGENT_DIR",
    "KILO_DATA_DIR",
    "GOOSE_PATH_ROOT",
    "HERMES_HOME",
    "OPENCLAW_DIR",
)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def isolated_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    home = root / "home"
    home.mkdir(parents=True)
    env.update(
        HOME=str(home),
        USERPROFILE=str(home),
        BURNTRAY_HOME=str(root / "burntray"),
        XDG_CACHE_HOME=str(root / "xdg-cache"),
        XDG_CONFIG_HOME=str(root / "xdg-config"),
        XDG_DATA_HOME=str(root / "xdg-data"),
        XDG_STATE_HOME=str(root / "xdg-state"),
        DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent/burntray-bench-bus",
        BURNTRAY_CBURN_URL=f"http://127.0.0.1:{closed_port()}",
        NO_AT_BRIDGE="1",
    )
    return env


def main(names: list[str], benches: list[str] = BENCHES, page: Path = PAGE) -> int:
    """Each module runs in a fresh process and a fresh isolated environment: one module's
    memory (a million history rows) or threads never colour another's figures (peak RSS of a
    forked child includes the parent's), and nothing of the user's is read."""
    selected = [n for n in benches if not names or n in names or n.removeprefix("bench_") in names]
    failed = []
    sections = {}
    where = machine()
    for name in selected:
        print(f"== {name}", flush=True)
        with tempfile.TemporaryDirectory(prefix=f"burntray-{name}-") as tmp:
            rows_file = Path(tmp) / "rows.json"
            code = subprocess.call(
                [sys.executable, __file__, "--module", name, str(rows_file)],
                env=isolated_env(Path(tmp)),
            )
            if code == 0 and rows_file.exists():
                rows = [tuple(row) for row in json.loads(rows_file.read_text(encoding="utf-8"))]
                sections[name] = module_section(name, rows, datetime.now(UTC), where)
        if code != 0:
            failed.append(name)
    if sections:
        update_page(page, sections, benches)
        print(f"figures written to {page}", flush=True)
    if failed:
        print("failed: " + ", ".join(failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--module"]:
        run_module(sys.argv[2], Path(sys.argv[3]) if len(sys.argv) > 3 else None)
        sys.exit(0)
    sys.exit(main(sys.argv[1:]))
