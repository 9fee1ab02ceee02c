"""The benchmark harness itself: isolated like the tests, and honest about missed targets."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def bench_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH))


def test_missed_is_printed_beside_a_figure_under_its_target(bench_modules: None) -> None:
    from target import missed

    speed_ups = {1.98: "  MISSED", 2.4: ""}  # the target is >= 2x
    for speed_up, flag in speed_ups.items():
        assert missed(speed_up >= 2) == flag


def test_every_benchmark_gets_its_own_home_and_no_way_to_the_users_things(
    bench_modules: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import run

    # What a developer's shell may hold: a desktop, a bus, a cburn URL, upstream stores.
    for var, value in (
        ("DISPLAY", ":0"),
        ("BURNTRAY_CBURN_URL", "http://127.0.0.1:8787"),
        ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/run/user/1000/bus"),
        ("CLAUDE_CONFIG_DIR", "/home/u/.claude"),
        ("PYSTRAY_BACKEND", "gtk"),
    ):
        monkeypatch.setenv(var, value)  # fmt: skip
    env = run.isolated_env(tmp_path / "bench")
    for var in ("HOME", "BURNTRAY_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        assert Path(env[var]).is_relative_to(tmp_path), var
    assert "DISPLAY" not in env and "CLAUDE_CONFIG_DIR" not in env
    assert "PYSTRAY_BACKEND" not in env
    assert env["DBUS_SESSION_BUS_ADDRESS"].startswith("unix:path=/nonexistent/")
    # The cburn URL is a loopback port nothing listens on: no real daemon is ever reached.
    url = urlsplit(env["BURNTRAY_CBURN_URL"])
    assert url.hostname == "127.0.0.1" and url.port != 8787
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.settimeout(2)
        sock.connect(("127.0.0.1", url.port))


def test_make_bench_writes_each_modules_figures_with_date_and_machine_into_the_page(
    bench_modules: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import run

    # Two real benchmark modules, each run by the harness in its own process: one that measures,
    # one that fails (its old figures must stay, not be blanked).
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "bench_probe_ok.py").write_text(
        "def run():\n    return [('status | tmux, wall [<= 60 ms]', '41 ms'), ('rss', '12 MB')]\n"
    )
    (modules / "bench_probe_broken.py").write_text("def run():\n    raise SystemExit(3)\n")
    monkeypatch.setenv("PYTHONPATH", str(modules))
    page = tmp_path / "performance.md"
    page.write_text(
        "# Performance\n\nHand-written figures stay.\n\n"
        + run.LATEST
        + "\n\n### bench_probe_broken\n\nMeasured 2026-01-01 00:00 UTC on old box.\n\n"
        "| figure | value |\n|---|---|\n| old | 1 s |\n"
    )
    code = run.main([], benches=["bench_probe_ok", "bench_probe_broken"], page=page)
    assert code == 1  # the broken module is reported
    text = page.read_text()
    assert text.startswith("# Performance\n\nHand-written figures stay.\n\n" + run.LATEST)
    assert text.count(run.LATEST) == 1
    ok = text[text.index("### bench_probe_ok") :]
    assert "| status \\| tmux, wall [<= 60 ms] | 41 ms |" in ok
    assert "| rss | 12 MB |" in ok
    assert re.search(r"Measured \d{4}-\d\d-\d\d \d\d:\d\d UTC on .+, \d+ cores \(", ok)
    # The module that failed this time keeps its previous figures and their date.
    assert "### bench_probe_broken\n\nMeasured 2026-01-01 00:00 UTC on old box." in text
    assert "| old | 1 s |" in text
    # Listed in the harness's order, each once.
    assert text.index("### bench_probe_ok") < text.index("### bench_probe_broken")


def test_the_performance_page_has_the_latest_run_heading_make_bench_fills(
    bench_modules: None,
) -> None:
    import run

    assert Path(__file__).resolve().parents[2] / "docs" / "performance.md" == run.PAGE
    assert run.PAGE.is_file()
