"""Figures that must not vanish or go wrong: clearing the history, unreadable logs, skipped
lines, and how ``all`` adds its sources up. Real log files, real ``burntray`` processes."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from burntray.config import Settings
from burntray.model.pricing import build_price_table
from burntray.sources.agent_logs.source import claude_source
from burntray.store.history import HistoryStore
from burntray.ui.presenter import present
from tests.agent_logs_support import (
    claude_line,
    codex_token_count,
    codex_turn_context,
    codex_usage,
)
from tests.processes import burntray, require_tool

SONNET = "claude-sonnet-4-5-20250929"


def _stamp(now: dt.datetime, minutes_ago: float) -> str:
    return (now - dt.timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _recent_claude_logs(root: Path, now: dt.datetime, per_file: int = 4) -> int:
    """Two projects, two sessions each, ``per_file`` requests each in the last hours."""
    n = 0
    for project in ("alpha", "beta"):
        for session in ("s1", "s2"):
            path = root / "projects" / project / f"{session}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            lines = []
            for _ in range(per_file):
                n += 1
                lines.append(
                    claude_line(_stamp(now, 200 - n), f"m{n}", f"r{n}", SONNET, 100 + n, 10)
                )
            path.write_text("\n".join(lines) + "\n")
    return n


def _recent_codex_logs(home: Path, now: dt.datetime, turns: int = 3) -> int:
    path = home / "sessions" / "2026" / "01" / "01" / "rollout-a.jsonl"
    path.parent.mkdir(parents=True)
    lines = [codex_turn_context(_stamp(now, 100), "gpt-5-codex")]
    for i in range(turns):
        usage = codex_usage(1000 + i, 0, 50)
        lines.append(codex_token_count(_stamp(now, 90 - i), usage, None))
    path.write_text("\n".join(lines) + "\n")
    return turns


def _status(source: str, window: str = "1d") -> tuple[int, dict[str, object], str]:
    done = burntray("status", "--source", source, "--window", window, "--format", "json")
    return done.returncode, json.loads(done.stdout), done.stderr


def _reqs(doc: dict[str, object]) -> int:
    totals = doc["totals"]
    assert isinstance(totals, dict)
    return int(totals["reqs"])


# --- clearing burntray's history ------------------------------------------------------------


def test_clear_history_then_status_reads_the_logs_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = dt.datetime.now(dt.UTC)
    claude_n = _recent_claude_logs(tmp_path / "claude", now)
    codex_n = _recent_codex_logs(tmp_path / "codex", now)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))
    for source, expected in (("claude", claude_n), ("codex", codex_n)):
        code, doc, _ = _status(source)
        assert (code, _reqs(doc)) == (0, expected)
    cleared = burntray("clear-cache", "--history", "--yes")
    assert cleared.returncode == 0, cleared.stderr
    assert f"cleared {claude_n + codex_n} usage records" in cleared.stdout
    # the logs still hold every request: they are read again, from the start
    for source, expected in (("claude", claude_n), ("codex", codex_n)):
        code, doc, err = _status(source)
        assert (code, _reqs(doc)) == (0, expected), err
    # and the resume state saved by that re-read works (no double count on the next run)
    code, doc, _ = _status("all")
    assert (code, _reqs(doc)) == (0, claude_n + codex_n)


def test_a_running_source_rereads_after_the_history_is_cleared(tmp_path: Path) -> None:
    """A tray's source keeps its read positions in memory: a clear from another process (or
    the menu) must make it start again, saying so while it re-reads."""
    now = dt.datetime.now(dt.UTC)
    expected = _recent_claude_logs(tmp_path / "claude", now)
    path = tmp_path / "history.sqlite3"
    history = HistoryStore(path)
    woken = threading.Event()
    source = claude_source([tmp_path / "claude"], build_price_table(), history, watch=False)
    source.start(woken.set)
    try:
        source.poll()
        assert source.snapshot(86_400 * 10**9).totals.reqs == expected
        other = HistoryStore(path)  # another process's connection: clear-cache --history
        other.clear_usage()
        other.close()
        assert source.poll()  # the reset is news
        assert source.status.state == "starting"
        assert source.status.detail.startswith("re-reading Claude Code logs")
        assert woken.is_set()  # the monitor is asked to read at once, not after its interval
        view = present(source.snapshot(86_400 * 10**9), Settings(source="claude"))
        assert any(row.startswith("starting: re-reading Claude Code logs") for row in view.header)
        source.poll()
        snap = source.snapshot(86_400 * 10**9)
        assert snap.status.state == "ok"
        assert snap.totals.reqs == expected
        source.poll()  # nothing new: nothing counted twice
        assert source.snapshot(86_400 * 10**9).totals.reqs == expected
    finally:
        source.close()
        history.close()


def test_clear_drops_resume_state_in_the_same_transaction(tmp_path: Path) -> None:
    history = HistoryStore(tmp_path / "history.sqlite3")
    history.set_meta("source_state:claude", "{}")
    history.set_meta("alerts:x", "kept")
    history.clear_usage()
    assert history.get_meta("source_state:claude") is None
    assert history.get_meta("alerts:x") == "kept"
    assert history.get_meta("usage_cleared") == "1"
    history.clear_usage()
    assert history.get_meta("usage_cleared") == "2"
    history.close()


def test_a_running_yoi_source_rereads_after_the_history_is_cleared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import random

    from burntray.paths import yoi_data_dir
    from burntray.sources.yoi.source import YoiSource
    from tests.integration.test_yoi_source import BASE, MODEL, MS, session_start, usage
    from tests.store_writers import yoi_append

    monkeypatch.setenv("YOI_DATA_DIR", str(tmp_path / "yoi-data"))
    segment = yoi_data_dir() / "sessions" / "sess-1" / "seg-1.jsonl"
    yoi_append(segment, session_start(MODEL))
    rng = random.Random(5)
    for i in range(6):
        yoi_append(segment, usage(BASE + i * 1000, rng))
    path = tmp_path / "history.sqlite3"
    history = HistoryStore(path)
    source = YoiSource(
        yoi_data_dir(), build_price_table(), history=history, clock_ns=lambda: BASE * MS
    )
    hour = 3600 * 10**9
    at = (BASE + 3_600_000) * MS
    try:
        source.poll()
        assert source.snapshot(hour, at).totals.reqs == 6
        other = HistoryStore(path)
        other.clear_usage()
        other.close()
        source.poll()
        assert source.status.detail.startswith("re-reading yoi")
        source.poll()
        assert source.snapshot(hour, at).totals.reqs == 6
    finally:
        source.close()
        history.close()


# --- unreadable logs: partial, named ------------------------------------------------------------


def _as_normal_user() -> list[str]:
    """The command prefix that runs burntray as a user the file permissions apply to.

    Not root: nothing (the test's user is one). Root (CI): ``nobody`` via setpriv when it can
    run this checkout's Python; else root without the capabilities that bypass permissions
    (a clone under /root is closed to ``nobody``), which permissions then apply to as well.
    """
    if os.geteuid() != 0:
        return []
    setpriv = require_tool("setpriv")
    nobody = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = subprocess.run(  # noqa: PLW1510 - its exit code is the answer
        [*nobody, sys.executable, "-c", "import burntray"],
        capture_output=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", "")},
    )
    if probe.returncode == 0:
        return nobody
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner"]


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A folder the normal user can reach (the test's tmp dir is root's own, 0700)."""
    base = Path(tempfile.mkdtemp(prefix="burntray-perm-"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        for path in (base, *base.rglob("*")):
            if not path.is_symlink():
                path.chmod(0o755 if path.is_dir() else 0o644)
        shutil.rmtree(base)


def _run_as_user(base: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``burntray ARGS`` as the normal user, with HOME, XDG dirs and burntray's own in ``base``
    (writable for that user) and Claude Code's logs in ``base/claude``."""
    prefix = _as_normal_user()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "CLAUDE_CONFIG_DIR": str(base / "claude"),
        "CODEX_HOME": str(base / "no-codex"),
        "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/burntray-test-bus",
        "TZ": "UTC",
    }
    for var, sub in (
        ("HOME", "home"),
        ("BURNTRAY_HOME", "burntray"),
        ("XDG_CACHE_HOME", "xdg-cache"),
        ("XDG_CONFIG_HOME", "xdg-config"),
        ("XDG_DATA_HOME", "xdg-data"),
        ("XDG_STATE_HOME", "xdg-state"),
    ):
        folder = base / sub
        folder.mkdir(exist_ok=True)
        if prefix and "--reuid=65534" in prefix:
            os.chown(folder, 65534, 65534)
        env[var] = str(folder)
    return subprocess.run(  # noqa: PLW1510 - callers assert the exit code
        [*prefix, sys.executable, "-m", "burntray", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def _claude_status_as_user(base: Path) -> tuple[int, dict[str, object], str]:
    done = _run_as_user(base, "status", "--source", "claude", "--window", "1d", "--format", "json")
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout), done.stderr


def test_an_unreadable_project_folder_makes_the_figures_partial_and_named(open_dir: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    total = _recent_claude_logs(open_dir / "claude", now)
    beta = open_dir / "claude" / "projects" / "beta"
    beta.chmod(0)
    code, doc, err = _claude_status_as_user(open_dir)
    status = doc["status"]
    assert isinstance(status, dict)
    assert _reqs(doc) == total // 2  # alpha's requests: what could be read is still counted
    assert status["state"] == "ok" and status["partial"] is True
    assert str(beta) in str(status["detail"]) and "Permission denied" in str(status["detail"])
    assert code == 1  # as for a partly broken source
    assert str(beta) in err
    text = _run_as_user(open_dir, "status", "--source", "claude", "--window", "1d")
    assert "partly stale" in text.stdout and str(beta) in text.stdout
    doctor = _run_as_user(open_dir, "doctor")
    assert f"UNREADABLE   {beta}: Permission denied" in doctor.stdout
    beta.chmod(0o755)  # fixed: a chmod does not change the folder's mtime, it is looked at again
    code, doc, _ = _claude_status_as_user(open_dir)
    assert (code, _reqs(doc)) == (0, total)
    # the whole projects folder closed: not "no logs yet", but nothing could be read
    projects = open_dir / "claude" / "projects"
    projects.chmod(0)
    code, doc, _ = _claude_status_as_user(open_dir)
    status = doc["status"]
    assert isinstance(status, dict)
    assert (code, status["partial"]) == (1, True) and str(projects) in str(status["detail"])
    projects.chmod(0o755)


def test_unreadable_files_are_named_with_how_many_more(open_dir: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    total = _recent_claude_logs(open_dir / "claude", now, per_file=4)
    first = open_dir / "claude" / "projects" / "alpha" / "s1.jsonl"
    second = open_dir / "claude" / "projects" / "beta" / "s2.jsonl"
    first.chmod(0)
    second.chmod(0)
    code, doc, _ = _claude_status_as_user(open_dir)
    status = doc["status"]
    assert isinstance(status, dict)
    assert _reqs(doc) == total - 8
    assert code == 1 and status["partial"] is True
    assert f"{first}: permission denied (+1 more)" in str(status["detail"]).lower()
    doctor = _run_as_user(open_dir, "doctor").stdout
    assert f"UNREADABLE   {first}" in doctor and f"UNREADABLE   {second}" in doctor
    assert "6 files" not in doctor and "2 files" in doctor  # the count is what is read


# --- `all`: one rule for what makes the whole partial -------------------------------------------


def test_a_broken_source_that_is_not_added_does_not_make_all_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ctm's store reports Claude Code's requests too: with the logs present it is not added,
    so its breaking changes nothing in the total, and only its own line says so."""
    now = dt.datetime.now(dt.UTC)
    total = _recent_claude_logs(tmp_path / "claude", now)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    ctm = tmp_path / "home" / ".config" / "ctm" / "ctm.db"
    ctm.parent.mkdir(parents=True)
    ctm.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 16)  # corrupt
    code, doc, err = _status("all")
    status = doc["status"]
    assert isinstance(status, dict)
    rows = {r["source"]: r for r in doc["by_source"]}  # type: ignore[attr-defined]
    assert rows["ctm"]["state"] == "error" and rows["ctm"]["counted"] is False
    assert status["partial"] is False and status["stale"] is False
    assert (code, _reqs(doc)) == (0, total), err
    # the same store broken while counted (no logs to stand for it): partial, named, exit 1
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "nowhere"))
    hexai = tmp_path / "xdg-cache" / "hexai"
    hexai.mkdir(parents=True)
    (hexai / "stats.json").write_text('{"version": 1, "events": []}')
    code, doc, err = _status("all")
    status = doc["status"]
    assert isinstance(status, dict)
    assert status["partial"] is True and "ctm" in str(status["detail"]).lower()
    assert code == 1 and str(ctm) in err


# --- `all`: overlap decided per tool, not per source ------------------------------------------


def test_all_adds_otlp_usage_of_tools_no_other_source_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gemini CLI's OTLP events are counted beside Claude Code's and Codex's own logs; the OTLP
    events of Claude Code and Codex are shown apart as the logs' requests, not added."""
    from burntray.app import AppContext
    from burntray.sources.build import build_source
    from tests.cburn_daemon import free_port
    from tests.otel_senders import (
        Sender,
        claude_request,
        codex_request,
        gemini_request,
    )
    from tests.processes import wait_for

    now = dt.datetime.now(dt.UTC)
    claude_n = _recent_claude_logs(tmp_path / "claude", now, per_file=1)
    codex_n = _recent_codex_logs(tmp_path / "codex", now, turns=2)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))
    port = free_port()
    ctx = AppContext.load()
    ctx.paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    ctx.paths.config_file.write_text(
        f'[otel]\nenabled = true\nlisten = "127.0.0.1:{port}"\n', encoding="utf-8"
    )
    ctx.close()
    ctx = AppContext.load()
    combined = build_source("all", ctx.source_context())
    base = f"http://127.0.0.1:{port}"
    day = 86_400 * 10**9
    try:
        combined.start(lambda: None)
        with Sender("gemini-cli", base) as gemini:
            for i in range(4):
                gemini_request(
                    gemini, session="g", model="gemini-2.5-pro", inp=1000 + i, cached=0,
                    out=100, thoughts=10, metric=False, genai=False,
                )  # fmt: skip
        with Sender("claude-code", base) as claude:
            for rid in ("o1", "o2"):
                claude_request(
                    claude, session="s", request_id=rid, model=SONNET, inp=10, out=5,
                    cache_read=0, cache_write=0, cost=0.25, event=True, metric=False,
                )  # fmt: skip
        with Sender("codex", base) as codex:
            codex_request(codex, conversation="c", model="gpt-5-codex", inp=100, cached=0, out=9)

        def otel_reqs() -> int:
            combined.poll()
            member = combined.members["otel"]
            return member.snapshot(day).totals.reqs == 7  # type: ignore[no-any-return]

        wait_for(otel_reqs, 10, "the 7 OTLP requests")
        snap = combined.snapshot(day)
    finally:
        combined.close()
        ctx.close()
    parts = {p.source: p for p in snap.by_source}
    assert parts["otel"].covered_by == "" and parts["otel"].totals.reqs == 4  # Gemini's
    assert parts["otel/claude-code"].covered_by == "claude"
    assert parts["otel/claude-code"].totals.reqs == 2
    assert parts["otel/codex"].covered_by == "codex" and parts["otel/codex"].totals.reqs == 1
    assert snap.totals.reqs == claude_n + codex_n + 4
    assert any(r.model == "gemini-2.5-pro" and r.reqs == 4 for r in snap.by_model)
    assert "2 Claude Code requests not added: Claude Code logs reports" in snap.note
    # the same, as a user sees it: `burntray status --source all` (the records are in history)
    code, doc, err = _status("all")
    assert code == 0, err
    rows = {r["source"]: r for r in doc["by_source"]}  # type: ignore[attr-defined]
    assert rows["otel"]["counted"] is True and rows["otel"]["reqs"] == 4
    assert rows["otel/claude-code"]["counted"] is False
    assert rows["otel/claude-code"]["covered_by"] == "claude"
    assert rows["otel/codex"]["covered_by"] == "codex"
    assert _reqs(doc) == claude_n + codex_n + 4


def test_coverage_is_per_upstream_and_does_not_depend_on_set_order() -> None:
    from burntray.sources.all import covered_upstreams, not_added
    from burntray.sources.registry import REGISTRY

    specs = [REGISTRY.get(n) for n in ("claude", "codex", "otel", "cburn", "ctm")]
    lost = covered_upstreams(specs)
    assert lost["otel"] == {"claude-code": "claude", "codex": "codex"}
    assert lost["cburn"] == {"claude-code": "claude"} and lost["claude"] == {}
    whole = not_added(specs)
    assert whole["otel"] == "" and whole["cburn"] == "claude" and whole["ctm"] == "claude"
    # without the logs, OTLP is the most detailed report of Claude Code: cburn gives way to it
    rest = [REGISTRY.get(n) for n in ("otel", "cburn")]
    assert not_added(rest) == {"otel": "", "cburn": "otel"}


# --- skipped lines are remembered -------------------------------------------------------------


def _facts(doc: dict[str, object]) -> dict[str, str]:
    return {f["label"]: f["value"] for f in doc["facts"]}  # type: ignore[attr-defined]


def test_skipped_lines_show_in_every_later_run_and_in_doctor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = dt.datetime.now(dt.UTC)
    total = _recent_claude_logs(tmp_path / "claude", now)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    log = tmp_path / "claude" / "projects" / "alpha" / "s1.jsonl"
    good = log.read_text()
    broken = '{"type":"assistant","message":{"usage":{"input_tokens": oops}}}\n'
    log.write_text(good + broken)
    where = f"{log}@{len(good.encode())}"
    for run in range(3):  # the first run reads the line; the later ones resume past it
        code, doc, err = _status("claude")
        assert (code, _reqs(doc)) == (0, total), err
        assert _facts(doc)["Malformed lines"].startswith(f"1 skipped (first: {where}: "), run
    doctor = burntray("doctor").stdout
    assert f"skipped      1 line not counted (first: {where}: " in doctor
    # appending keeps the file's count; a replaced file starts again
    with log.open("a") as fh:
        fh.write(claude_line(_stamp(now, 1), "late", "late", SONNET, 1, 1) + "\n")
    code, doc, _ = _status("claude")
    assert _reqs(doc) == total + 1 and _facts(doc)["Malformed lines"].startswith("1 skipped")
    log.unlink()
    log.write_text(good)
    code, doc, _ = _status("claude")
    assert "Malformed lines" not in _facts(doc)
    assert "not counted (first:" not in burntray("doctor").stdout


def test_yoi_bad_lines_are_still_shown_after_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import random

    from burntray.paths import yoi_data_dir
    from burntray.sources.yoi.source import YoiSource
    from tests.integration.test_yoi_source import BASE, MODEL, MS, session_start, usage
    from tests.store_writers import yoi_append

    monkeypatch.setenv("YOI_DATA_DIR", str(tmp_path / "yoi-data"))
    segment = yoi_data_dir() / "sessions" / "s" / "seg.jsonl"
    yoi_append(segment, session_start(MODEL))
    yoi_append(segment, usage(BASE + 1, random.Random(1)))
    yoi_append(segment, None, raw='{"kind":"llm_usage","ts":"soon"}')
    history = HistoryStore(tmp_path / "history.sqlite3")

    def skipped() -> str | None:
        source = YoiSource(yoi_data_dir(), build_price_table(), history=history)
        source.poll()
        facts = dict((f.label, f.value) for f in source.facts())
        assert source.snapshot(3600 * 10**9, (BASE + 10) * MS).totals.reqs == 1
        return facts.get("unreadable lines skipped")

    try:
        assert skipped() == "1"
        assert skipped() == "1"  # a restart resumes past the line, and still says so
    finally:
        history.close()


def test_the_trays_clear_history_leaves_a_running_monitor_showing_the_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tray's *Clear cache > burntray history* (the same action as the CLI) under a running
    monitor following `all`: its figures come back from the logs, without a restart."""
    import time

    from burntray.actions import run_clear
    from burntray.app import AppContext
    from burntray.runtime.monitor import Monitor

    now = dt.datetime.now(dt.UTC)
    total = _recent_claude_logs(tmp_path / "claude", now)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    ctx = AppContext.load()
    settings = ctx.settings.replace(source="all", window="1d")
    monitor = Monitor(settings, ctx.build_source, history=ctx.history())
    seen: list[int] = []  # the requests of every snapshot the monitor publishes, in order
    monitor.observers.append(lambda snap: seen.append(snap.totals.reqs))

    def wait(what: str, done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 20
        while not done():
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {seen[-5:]}"
            monitor.refresh()
            time.sleep(0.05)

    monitor.start()
    try:
        wait("the first figures", lambda: total in seen)
        said = run_clear(ctx, "history", settings)
        assert f"cleared {total} usage records" in said
        at_clear = len(seen)
        # the clear shows (the history is empty while the logs are read again), then the logs'
        # figures come back
        wait("the cleared figures", lambda: any(n < total for n in seen[at_clear:]))
        dropped = at_clear + next(i for i, n in enumerate(seen[at_clear:]) if n < total)
        wait("the figures read again", lambda: total in seen[dropped:])
    finally:
        monitor.stop()
        ctx.close()
