""" "Open report" and ``report --open``: the browser is a real process that is always reaped,
and a browser that fails says so in the menu, on stderr and in the log."""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from burntray.app import AppContext
from burntray.cli import main
from burntray.report.build import open_in_browser
from burntray.runtime.monitor import Monitor
from burntray.ui import launch
from burntray.ui.controller import TrayController
from tests.report_support import FIXED_EVENTS, write_events

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX shell scripts as browsers")


def script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def state_of(pid: int) -> str:
    """The process's state letter ('Z' for a zombie), or '' once it is gone (reaped)."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):  # gone before the open, or during the read
        return ""
    return stat_line.rsplit(")", 1)[1].split()[0]


def wait_for(condition: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


@pytest.fixture
def controller(hexai_dir: Path) -> Iterator[TrayController]:
    write_events(hexai_dir, FIXED_EVENTS)
    ctx = AppContext.load(strict=False)
    monitor = Monitor(ctx.settings, ctx.build_source, history=None)
    ctrl = TrayController(ctx, monitor, opener=lambda _p: None, on_quit=lambda: None)
    yield ctrl
    ctrl.join_jobs()
    ctx.close()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_browser_still_running_is_reaped_when_it_exits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The desktop opener (no $BROWSER) hands the page on and exits later: no zombie is left."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pid_file, go = tmp_path / "pid", tmp_path / "go"
    sleep, seq = shutil.which("sleep"), shutil.which("seq")
    script(
        bin_dir / "xdg-open",
        f"echo $$ > {pid_file}\n"
        f"for i in $({seq} 1 500); do [ -e {go} ] && exit 0; {sleep} 0.02; done\n",
    )
    monkeypatch.delenv("BROWSER", raising=False)
    monkeypatch.setenv("PATH", str(bin_dir))  # only the stand-in: no real browser is found
    monkeypatch.setenv("DISPLAY", ":0")  # what a desktop has; nothing connects to it here
    monkeypatch.setattr(launch, "BROWSER_CHECK_S", 0.3)
    import webbrowser

    monkeypatch.setattr(webbrowser, "_tryorder", None)
    report = tmp_path / "r.html"
    report.write_text("<p>report</p>")
    assert not open_in_browser(report)  # still running after the check: it opened
    assert wait_for(pid_file.exists)
    pid = int(pid_file.read_text())
    go.touch()
    assert wait_for(lambda: state_of(pid) == ""), f"browser {pid} left as {state_of(pid)!r}"


def test_a_failing_browser_is_named_in_the_menu_and_the_log(
    controller: TrayController,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    browser = script(
        tmp_path / "chromium", 'echo "chromium: Missing X server or $DISPLAY" >&2\nexit 3\n'
    )
    monkeypatch.setenv("BROWSER", str(browser))
    caplog.set_level(logging.WARNING)
    announced: list[str] = []
    controller.announce = announced.append  # the tray shows it as a notification
    controller.open_report()
    controller.join_jobs()
    assert len(announced) == 1
    message = announced[0]
    # and in the menu: too long for one row, an entry whose submenu holds it whole
    problems = controller.view(None).problems
    assert any(p.label.startswith("report not opened (chromium failed (exit 3)") for p in problems)
    assert any("".join(p.lines).replace(" ", "") == message.replace(" ", "") for p in problems)
    assert message.startswith("report not opened (chromium failed (exit 3): chromium: Missing X")
    assert "burntray-report-" in message  # where the written report is
    assert any("chromium failed (exit 3)" in r.getMessage() for r in caplog.records)


def test_a_browser_that_cannot_start_is_said_and_the_next_one_tried(
    hexai_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    write_events(hexai_dir, FIXED_EVENTS)
    missing = tmp_path / "no-such-browser"
    monkeypatch.setenv("BROWSER", str(missing))
    out = tmp_path / "r.html"
    assert main(["report", "--out", str(out), "--open"]) == 1
    err = capsys.readouterr().err
    assert "no-such-browser could not be started: No such file or directory" in err
    assert out.resolve().as_uri() in err
    opened = tmp_path / "opened"
    second = script(tmp_path / "second", f'printf "%s" "$1" > {opened}\n')
    monkeypatch.setenv("BROWSER", f"{missing}{os.pathsep}{second}")
    assert main(["report", "--out", str(out), "--open"]) == 0
    assert opened.read_text() == out.resolve().as_uri()
