"""What a warm one-source command loads (issues 22, 23): the modules it needs, not every
source's. Each command runs as a real process over real logs and a real history; the child
reports what it imported. Times are benchmarks (bench_heavy, bench_statusline), not tests."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.agent_logs_support import claude_line, generate_qwen_chats, qwen_reply

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# Source packages a Claude Code status has no use for (not claude, nor the ones opening the
# history loads for their tables, nor codex, whose plan windows claude's limits share).
OTHER_SOURCES = ("ampcode", "gemini", "opencode", "otel", "copilot", "roder", "yoi",
                 "qwen", "kimi", "droid", "codebuff", "pi_agent", "kilo", "goose", "hermes",
                 "openclaw", "grok", "zcode", "antigravity")  # fmt: skip


# What only a status-line record (or codex) needs: a warm claude status for a user who never
# installed the status line imports none of them (issue 22: their import cost every run).
STATUS_LINE_ONLY = ("burntray.sources.claude.statusline", "burntray.sources.claude.observations",
                    "burntray.model.limits", "burntray.model.own_cost", "burntray.sources.codex",
                    "burntray.sources.codex.plan", "burntray.store.limits")  # fmt: skip
# The views by day, session, project...: reports need them; a status needs the 5-hour block only;
# and a combined source's per-source shares (``all``): one source's JSON writes its row directly
VIEWS = ("burntray.model.periods", "burntray.model.figures")
# What msgspec's first import loaded for three names typing has too (``burntray.cli``)
MSGSPEC_SPARED = ("typing_extensions", "inspect", "ast", "dis", "tokenize")


def _claude_logs(root: Path, requests: int, first: int = 0) -> Path:
    log = root / "projects" / "-work-p" / "s1.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for n in range(first, first + requests):
        at = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - 600 + n))
        lines.append(claude_line(at, f"m{n}", f"r{n}", "claude-sonnet-4-5", 10, 1000, session="s1"))
    with log.open("a") as fh:
        fh.write("\n".join(lines) + "\n")
    return log


def _loaded(
    argv: list[str], env: dict[str, str], names: str, stdin: str | None = None
) -> tuple[str, list[object]]:
    """Run ``main(argv)`` in a fresh interpreter (``stdin`` on its stdin): its stdout and what
    ``names`` (an expression over ``sys.modules`` and ``REGISTRY``) gave after it."""
    code = (
        "import sys\n"
        "from burntray.cli import main\n"
        "from burntray.sources.registry import REGISTRY\n"
        f"code = main({argv!r})\n"
        "sys.stdout.flush()\n"
        f"print(repr([code, {names}]), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stderr.strip(), done
    return done.stdout, ast.literal_eval(done.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("fmt", ["tmux", "json"])
def test_a_warm_claude_status_loads_only_the_specs_it_needs(fmt: str, tmp_path: Path) -> None:
    """``status --source claude --window 7d`` after a first run and one new request: the answer
    counts it, and the registry loaded the claude spec alone: opening the history for one
    source brings its own tables up to date, not every source's (their specs were loaded for
    that) - no other source's package was imported."""
    config = tmp_path / "claude"
    _claude_logs(config, 3)
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(config)}
    argv = ["status", "--source", "claude", "--window", "7d", "--format", fmt]
    names = (
        "sorted(REGISTRY._specs), "
        "sorted(n for n in sys.modules if n.startswith('burntray.sources.') "
        f"and n.split('.')[2] in {OTHER_SOURCES!r}), "
        f"[n for n in {(*STATUS_LINE_ONLY, *VIEWS, *MSGSPEC_SPARED)!r} if n in sys.modules]"
    )
    _loaded(argv, env, names)
    _claude_logs(config, 1, first=3)
    out, (code, specs, others, status_line) = _loaded(argv, env, names)
    assert code == 0, out
    assert ('"reqs": 4' if fmt == "json" else "4ktok") in out, out  # the new request counts
    assert specs == ["claude"]
    assert others == []
    # no status-line record: no parser, plan windows nor codex; no views; no typing_extensions
    assert status_line == []


def test_a_status_line_record_loads_its_reader_and_shows_the_windows(tmp_path: Path) -> None:
    """The other side of the lazy load: once ``burntray statusline`` recorded a session's plan
    windows, a warm claude status reads the record and shows them (its reader loaded then, the
    payload's parser still not)."""
    config = tmp_path / "claude"
    _claude_logs(config, 3)
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(config)}
    payload = json.loads((FIXTURES / "statusline" / "ccusage-statusline-test.json").read_text())
    resets = int(time.time()) + 3600
    payload["rate_limits"] = {"five_hour": {"used_percentage": 42.3, "resets_at": resets}}
    done = subprocess.run(
        [sys.executable, "-m", "burntray", "statusline", "--color", "never"],
        env=env, input=json.dumps(payload), capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done
    argv = ["status", "--source", "claude", "--window", "7d", "--format", "tmux"]
    names = f"[n for n in {STATUS_LINE_ONLY!r} if n in sys.modules]"
    _loaded(argv, env, names)
    out, (code, status_line) = _loaded(argv, env, names)
    assert code == 0 and "Claude5h:42%" in out, out
    assert "burntray.sources.claude.observations" in status_line, status_line
    # the payload's parser and writer are the statusline command's; codex's half is codex's
    assert "burntray.sources.claude.statusline" not in status_line, status_line
    assert "burntray.sources.codex.plan" not in status_line


def test_a_config_key_loads_only_its_sources_spec(tmp_path: Path) -> None:
    """A config.toml setting ``claude.dirs`` and core keys: ``status --source claude`` reads
    the folder it names (the key was found and used) and loaded no other source's spec than
    the ones the history needs; a typo'd key still gets the nearest real key as a hint."""
    config = tmp_path / "elsewhere"
    _claude_logs(config, 2)
    home = Path(os.environ["BURNTRAY_HOME"])
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text(
        f'window = "15m"\n[claude]\ndirs = "{config}"\n[alerts]\nfloor_usd = 0.5\n'
    )
    argv = ["status", "--source", "claude", "--format", "json"]
    out, (code, specs) = _loaded(argv, dict(os.environ), "sorted(REGISTRY._specs)")
    assert code == 0, out
    assert '"reqs": 2' in out and '"window": "15m"' in out, out
    assert specs == ["claude"]
    (home / "config" / "config.toml").write_text('[claude]\ndir = "/x"\n')
    done = subprocess.run(
        [sys.executable, "-m", "burntray", "status", "--source", "claude", "--format", "tmux"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert "did you mean `claude.dirs`?" in done.stderr, done.stderr


def test_the_status_line_loads_the_claude_spec_not_every_source(tmp_path: Path) -> None:
    """``burntray statusline`` (Claude Code runs it after every message) finds the source that
    offers a status line from the list of sources, loading that spec alone, and imports no other
    coding agent's package nor the settings.json installer; the line still counts the logs."""
    config = tmp_path / "claude"
    _claude_logs(config, 3)
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(config)}
    payload = (FIXTURES / "statusline" / "ccusage-statusline-test.json").read_text()
    names = (
        "sorted(REGISTRY._specs), "
        "sorted(n for n in sys.modules if n.startswith('burntray.sources.') "
        f"and n.split('.')[2] in {(*OTHER_SOURCES, 'codex')!r}), "
        "'burntray.sources.claude.settings_install' in sys.modules, "
        "[n for n in ('argparse', 'gettext') if n in sys.modules]"
    )
    out, (code, specs, others, installer, parser) = _loaded(
        ["statusline", "--color", "never"], env, names, payload
    )
    assert code == 0 and out.startswith("Sonnet 4 | $0.06 session"), out
    assert "today" in out and "failed" not in out, out
    assert specs == ["claude"]  # its line in the list says it offers the status line
    assert others == [] and not installer  # settings.json's code is for install/uninstall
    assert parser == []  # a plain command line is read without argparse


# Claude's own parts: what only a Claude Code source needs (its reader, line parser, duplicate
# removal, 5-hour blocks, the streaming first read with its threads)
CLAUDE_ONLY = ("burntray.sources.claude.logs", "burntray.sources.claude.lines",
               "burntray.sources.claude.scan_worker", "burntray.sources.claude.dedup",
               "burntray.model.blocks", "burntray.store.blocks",
               "burntray.sources.agent_logs.streaming", "burntray.model.progress")  # fmt: skip


def test_a_warm_agent_status_loads_none_of_claudes_parts(tmp_path: Path) -> None:
    """Another agent's warm ``status`` (issue 24: Qwen Code's logs, after one new reply) counts
    the new reply and imports none of Claude Code's reading, dedup or 5-hour-block code: its
    source is built on the same log-source base as Claude's, without them; and no other
    source's spec is loaded (the history opens with Qwen's tables: it has none)."""
    data = tmp_path / "qwen"
    generate_qwen_chats(data / "projects", 40)
    env = {**os.environ, "QWEN_DATA_DIR": str(data)}
    argv = ["status", "--source", "qwen", "--window", "7d", "--format", "json"]
    names = (
        f"[n for n in {(*CLAUDE_ONLY, *MSGSPEC_SPARED)!r} if n in sys.modules], "
        "sorted(REGISTRY._specs)"
    )
    first, _ = _loaded(argv, env, names)
    before = json.loads(first)["totals"]["reqs"]
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    with next((data / "projects").rglob("*.jsonl")).open("a") as fh:
        fh.write(qwen_reply(stamp, "s-new", "gpt-5", 3000, 40, 1000) + "\n")
    out, (code, claude_parts, specs) = _loaded(argv, env, names)
    assert code == 0, out
    assert json.loads(out)["totals"]["reqs"] == before + 1  # the new reply counts
    assert claude_parts == []
    assert specs == ["qwen"]  # nor another source's spec for its history tables


def test_one_sources_status_leaves_the_other_sources_tables_to_them(tmp_path: Path) -> None:
    """``status --source claude`` on a new history creates burntray's own tables only (the
    other sources' specs stay unloaded); ``status --source all`` then brings every source's
    tables up to date in the same file, and both count the same requests."""
    import sqlite3

    from burntray.sources.registry import REGISTRY
    from burntray.store.schema import GENERIC_TABLES

    config = tmp_path / "claude"
    _claude_logs(config, 3)
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(config)}
    db = Path(env["BURNTRAY_HOME"]) / "data" / "history.sqlite3"

    def status(source: str) -> tuple[int, dict[str, int]]:
        done = subprocess.run(
            [sys.executable, "-m", "burntray", "status", "--source", source, "--window", "7d",
             "--format", "json"],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done
        with sqlite3.connect(db) as conn:
            versions = dict(conn.execute("SELECT name, version FROM schema_versions"))
        return json.loads(done.stdout)["totals"]["reqs"], versions

    reqs, versions = status("claude")
    assert reqs == 3
    assert versions == {t.name: t.version for t in GENERIC_TABLES}
    reqs, versions = status("all")
    assert reqs == 3
    declared = (*GENERIC_TABLES, *REGISTRY.history_tables())
    assert len(declared) > len(GENERIC_TABLES)
    assert versions == {t.name: t.version for t in declared}


def test_a_context_left_as_loaded_opens_every_sources_tables() -> None:
    """What stays running (the tray, ``serve``) loads its context as it is: its history is
    opened with every source's tables, so its pruning covers each of them."""
    from burntray.app import AppContext
    from burntray.sources.registry import REGISTRY
    from burntray.store.schema import GENERIC_TABLES

    ctx = AppContext.load()
    try:
        history = ctx.history()
        assert history is not None, ctx.history_error
        opened = {t.name for t in history.tables}
    finally:
        ctx.close()
    declared = {t.name for t in (*GENERIC_TABLES, *REGISTRY.history_tables())}
    assert len(declared) > len(GENERIC_TABLES)
    assert opened == declared
